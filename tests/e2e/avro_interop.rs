//! Avro interoperability: values taken from the log after a real synchronisation decode with
//! fastavro and the `.avsc` files in `schemas/` alone (single-object header with the
//! CRC-64-AVRO fingerprint, then the binary datum). Needs `python3` with `fastavro`
//! (`pip install fastavro`).

use std::path::Path;
use std::process::Command;

use crate::common::*;
use couplet::bus::Message;
use couplet::event::avro::{decode_change, decode_command, decode_outcome};
use serde_json::{Value, json};

/// Up to `n` messages spread over `all` (first, last and in between).
fn spread(all: &[Message], n: usize) -> Vec<&Message> {
    if all.len() <= n {
        return all.iter().collect();
    }
    let step = (all.len() - 1) as f64 / (n - 1) as f64;
    (0..n)
        .map(|i| &all[((i as f64 * step).round() as usize).min(all.len() - 1)])
        .collect()
}

fn require_fastavro() {
    let ok = Command::new("python3")
        .args(["-c", "import fastavro"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 with the fastavro package is required by this test: run `pip install fastavro`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_values_decode_with_fastavro() {
    require_fastavro();
    let mut h = Harness::start(20, 61).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    // Live edits, a deletion and a failure, so updates, skips and failures are on the log too.
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 0);
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &acc,
        patch("telephone1", json!("+1 555 0161")),
    )
    .unwrap();
    let gone = coupled(&h, "CUSTOMER", couplet::systems::BC, "customers", 1);
    h.sb.delete_row(couplet::systems::BC, "customers", &gone)
        .unwrap();
    let long = patch("name", json!("N".repeat(120)));
    let mut a = long.clone();
    a.insert("customertypecode".into(), json!(3));
    h.sb.insert_row(couplet::systems::DATAVERSE, "accounts", a)
        .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;

    let topics = h.topics().clone();
    let dir = tempfile::tempdir().unwrap();
    // file name -> (key, event id, op or status) as Rust decodes it.
    let mut expected: Vec<(String, String, String, String)> = Vec::new();
    for (kind, topic) in [
        ("change", &topics.changes),
        ("command", &topics.commands),
        ("outcome", &topics.outcomes),
    ] {
        let all = h.read_topic(topic).await;
        assert!(all.len() > 10, "only {} messages on {topic}", all.len());
        let mut picked = spread(&all, 25);
        if kind == "outcome" {
            // One of every status that occurred, so unions with values (errors) are covered.
            let mut seen: Vec<String> = Vec::new();
            for m in &all {
                let st = decode_outcome(m.bytes())
                    .unwrap()
                    .status
                    .as_str()
                    .to_string();
                if !seen.contains(&st) {
                    seen.push(st);
                    picked.push(m);
                }
            }
        }
        for (i, m) in picked.into_iter().enumerate() {
            let file = format!("{kind}-{i:03}.bin");
            std::fs::write(dir.path().join(&file), m.bytes()).unwrap();
            let (id, what) = match kind {
                "change" => {
                    let e = decode_change(m.bytes()).unwrap();
                    assert_eq!(e.source.to_string(), m.key);
                    (e.event_id, format!("{:?}", e.op).to_uppercase())
                }
                "command" => {
                    let c = decode_command(m.bytes()).unwrap();
                    assert_eq!(c.source.to_string(), m.key);
                    (c.event_id, format!("{:?}", c.op).to_uppercase())
                }
                _ => {
                    let o = decode_outcome(m.bytes()).unwrap();
                    assert_eq!(o.source.to_string(), m.key);
                    (o.event_id, o.status.as_str().to_uppercase())
                }
            };
            expected.push((file, m.key.clone(), id.to_string(), what));
        }
    }
    h.stop_engine().await;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("tests/e2e/avro_interop.py"))
        .arg(root.join("schemas"))
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "avro_interop.py failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    let got = doc["messages"].as_array().expect("messages");
    assert_eq!(got.len(), expected.len(), "{doc}");
    for (file, key, id, what) in &expected {
        let g = got
            .iter()
            .find(|g| g["file"] == file.as_str())
            .unwrap_or_else(|| panic!("{file} missing from {doc}"));
        assert_eq!(g["key"], key.as_str(), "{g}");
        assert_eq!(g["event_id"], id.as_str(), "{g}");
        let field = if g["kind"] == "outcome" {
            "status"
        } else {
            "op"
        };
        assert_eq!(g[field], what.as_str(), "{g}");
    }
    // Each kind's fingerprint is the one in the headers Rust wrote.
    for kind in ["change", "command", "outcome"] {
        let fp = doc["fingerprints"][kind].as_str().expect("fingerprint");
        let file = expected.iter().find(|e| e.0.starts_with(kind)).unwrap();
        let bytes = std::fs::read(dir.path().join(&file.0)).unwrap();
        assert_eq!(&bytes[..2], &[0xC3, 0x01]);
        assert_eq!(hex::encode(&bytes[2..10]), fp, "{kind}");
    }
    // Every status and op that occurred is among those fastavro decoded.
    let statuses: std::collections::BTreeSet<&str> =
        got.iter().filter_map(|g| g["status"].as_str()).collect();
    for st in ["CREATED", "UPDATED", "ECHO", "FAILED"] {
        assert!(
            statuses.contains(st),
            "no {st} outcome decoded: {statuses:?}"
        );
    }
    eprintln!(
        "fastavro {} decoded {} values; statuses {statuses:?}",
        doc["fastavro"],
        got.len()
    );
}
