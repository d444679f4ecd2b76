//! `couplet mappings list | show | validate` against the sandbox's metadata endpoints.

use crate::cli_support::Cli;

const BAD: &str = r#"
[[mapping]]
name = "CUSTOMER"
crm_entity = "accounts"
erp_entity = "customers"
direction = "bidirectional"
crm_key = "accountnumber"
erp_key = "number"
  [[mapping.fields]]
  crm = "nmae"
  erp = "displayName"
  [[mapping.fields]]
  crm = "telephone1"
  erp = "phoneNo"
  [[mapping.fields]]
  crm = "accountnumber"
  erp = "number"
  direction = "to_crm"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_passes_on_the_defaults_and_names_unknown_fields_on_each_side() {
    let cli = Cli::start(3).await;

    let ok = cli.run(&["mappings", "validate"], true).await;
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.out.contains("ok     CUSTOMER"), "{}", ok.out);
    assert!(ok.out.contains("ok     CONTACT"), "{}", ok.out);
    assert!(
        ok.out.contains("every mapped field exists on both sides"),
        "{}",
        ok.out
    );

    let bad = cli.dir.path().join("bad.toml");
    std::fs::write(&bad, BAD).unwrap();
    let bad = bad.to_str().unwrap();
    let r = cli
        .run(&["mappings", "validate", "--file", bad], true)
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.out.contains("mapping CUSTOMER field `nmae`: no attribute `nmae` on Dataverse entity account; did you mean `name`?"),
        "{}",
        r.out
    );
    assert!(r.out.contains("known attributes: accountid, "), "{}", r.out);
    assert!(
        r.out.contains("mapping CUSTOMER field `phoneNo`: no property `phoneNo` on Business Central entity set customers (type customer); did you mean `phoneNumber`?"),
        "{}",
        r.out
    );
    assert!(r.out.contains("2 problem(s) in 1 mapping(s)."), "{}", r.out);

    // Wrong entity sets are named, with the known ones.
    let wrong = cli.dir.path().join("wrong.toml");
    std::fs::write(
        &wrong,
        BAD.replace("\"accounts\"", "\"acounts\"")
            .replace("\"customers\"", "\"custmers\""),
    )
    .unwrap();
    let r = cli
        .run(
            &["mappings", "validate", "--file", wrong.to_str().unwrap()],
            true,
        )
        .await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.out
            .contains("mapping CUSTOMER: Dataverse has no table with entity set `acounts`"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("mapping CUSTOMER: Business Central's API has no entity set `custmers`; correct erp_entity; known entity sets: "),
        "{}",
        r.out
    );

    let known = r
        .out
        .lines()
        .find(|l| l.contains("known entity sets"))
        .unwrap();
    assert!(
        known.contains("customers") && known.contains("contacts"),
        "{known}"
    );

    // Offline: only the file checks, which this file passes.
    let r = cli
        .run(&["mappings", "validate", "--offline", "--file", bad], false)
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("--offline"), "{}", r.out);

    // A broken file fails offline too, naming the line.
    let broken = cli.dir.path().join("broken.toml");
    std::fs::write(&broken, "[[mapping]]\nname = \"X\"\nbogus = 1\n").unwrap();
    let r = cli
        .run(
            &[
                "mappings",
                "validate",
                "--offline",
                "--file",
                broken.to_str().unwrap(),
            ],
            false,
        )
        .await;
    assert_ne!(r.code, 0, "{r:?}");
    assert!(r.out.contains("broken.toml:"), "{}", r.out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_show_describe_the_mappings() {
    let cli = Cli::start(0).await;
    let r = cli.run(&["mappings", "list"], false).await;
    assert_eq!(r.code, 0, "{r:?}");
    let customer = r.out.lines().find(|l| l.starts_with("CUSTOMER")).unwrap();
    assert!(customer.contains("accounts <-> customers"), "{customer}");
    assert!(customer.contains("bidirectional"), "{customer}");
    assert!(
        customer.contains("deletion=remove_coupling on_match=erp_wins"),
        "{customer}"
    );
    let contact = r.out.lines().find(|l| l.starts_with("CONTACT")).unwrap();
    assert!(contact.contains("CUSTOMER"), "{contact}");

    let r = cli.run(&["mappings", "show", "CONTACT"], false).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("depends on CUSTOMER"), "{}", r.out);
    assert!(r.out.contains("firstname+lastname"), "{}", r.out);
    assert!(
        r.out.contains(
            "lookup {crm_bind=parentcustomerid_account, erp_field=number, kind=coupling, mapping=CUSTOMER}"
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("constant Person"), "{}", r.out);
    assert!(
        r.out
            .contains("policies   deletion=remove_coupling on_match=erp_wins"),
        "{}",
        r.out
    );

    let r = cli.run(&["mappings", "show", "NOPE"], false).await;
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains("known mappings: ") && r.err.contains("CUSTOMER, VENDOR, CONTACT"),
        "{}",
        r.err
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_check_pass_on_the_fo_defaults() {
    let cli = Cli::start(3).await;
    let mut text = std::fs::read_to_string(&cli.config).unwrap();
    text.push_str("\n[erp]\nsystem = \"fo\"\n");
    std::fs::write(&cli.config, text).unwrap();
    let ok = cli.run(&["mappings", "validate"], true).await;
    assert_eq!(ok.code, 0, "{ok:?}");
    for m in ["CUSTOMER", "ITEM-PRODUCT", "SALESORDER"] {
        assert!(ok.out.contains(&format!("ok     {m}")), "{}", ok.out);
    }
    let check = cli.run(&["check"], true).await;
    assert_eq!(check.code, 0, "{check:?}");
    assert!(check.out.contains("Finance & Operations"), "{}", check.out);
}
