//! `couplet demo` plays the lead-to-cash story after the synchronisation demo: quote activated
//! and revised, opportunity won, order submitted and created in Business Central, shipped
//! (and the stock moved), invoiced and paid, each hop printed with its change-to-write
//! latency, and the run ends green; with `--erp fo`, the same against Finance & Operations.

use std::process::Command;

/// The hops the story prints, in order.
const HOPS: &[&str] = &[
    "activated in Sales -> BC sales quote",
    "quote revised in Sales -> BC quote",
    "opportunity won in Sales -> BC opportunity Won",
    "submitted in Sales -> BC sales order",
    "posted in BC -> Sales order Fulfilled",
    "stock moved by the shipment -> product quantity on hand",
    "posted in BC -> Sales invoice (Billed), order Invoiced",
    "recorded in BC -> Sales invoice Paid / Complete",
];

/// The hops of the story against Finance & Operations.
const FO_HOPS: &[&str] = &[
    "account created in Sales -> F&O customer",
    "F&O's customer number",
    "submitted in Sales -> F&O sales order",
    "changed in F&O -> Sales product price",
    "set in F&O -> the account's credit limit",
    "in F&O -> the Sales price list item",
];

#[test]
fn the_demo_plays_lead_to_cash_and_reports_each_hop() {
    demo_plays(&["demo", "--records", "3", "--edits", "1"], HOPS);
}

#[test]
fn the_demo_with_fo_plays_lead_to_cash_in_the_legal_entity() {
    demo_plays(
        &["demo", "--erp", "fo", "--records", "20", "--edits", "3"],
        FO_HOPS,
    );
}

fn demo_plays(args: &[&str], hops: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(args)
        .output()
        .expect("couplet runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let story: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Lead to cash"))
        .collect();
    for (n, hop) in hops.iter().enumerate() {
        let line = story
            .iter()
            .find(|l| l.trim_start().starts_with(&format!("{}. ", n + 1)))
            .unwrap_or_else(|| panic!("hop {} missing:\n{stdout}", n + 1));
        assert!(line.contains(hop), "hop {} is not '{hop}': {line}", n + 1);
        let ms: u64 = line
            .trim_end()
            .strip_suffix("ms")
            .and_then(|l| l.split_whitespace().last())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no latency on: {line}"));
        assert!(ms < 60_000, "hop {} took {ms} ms", n + 1);
    }
    assert!(
        stdout.contains("every lead-to-cash hop arrived"),
        "no green result:\n{stdout}"
    );
    let extra = story
        .iter()
        .any(|l| l.trim_start().starts_with(&format!("{}. ", hops.len() + 1)));
    assert!(!extra, "more hops than expected:\n{stdout}");
}
