//! `couplet reconcile` through the binary, against records changed behind Couplet's back in
//! the sandbox: a pair coupled while its values differ (reported with the fields and both
//! values, in text and JSON), a coupling whose CRM record was deleted, and an uncoupled CRM
//! account carrying a coupled customer's number. `--fix erp` writes the differing pair through
//! the command's own pipeline stages (audited as forced by reconcile); what needs a person's
//! decision stays reported until it is resolved, and then the exit status is 0.

use crate::cli_support::{Cli, fields};
use couplet::systems::{BC, DATAVERSE};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reports_each_drift_fixes_the_differing_pair_and_exits_clean_once_resolved() {
    let cli = Cli::start(0).await;
    let couple = |erp: String, crm: String| {
        let cli = &cli;
        async move {
            let r = cli
                .run(
                    &["couple", "CUSTOMER", "--erp-id", &erp, "--crm-id", &crm],
                    true,
                )
                .await;
            assert_eq!(r.code, 0, "{r:?}");
        }
    };
    let erp = cli.customer("Reconcile Co", "+1 555 0100");
    let crm = cli.account("Reconcile Co (old name)", "+1 555 0999");
    couple(erp.clone(), crm.clone()).await;
    let erp2 = cli.customer("Gone Co", "+1 555 0200");
    let crm2 = cli.account("Gone Co", "+1 555 0200");
    couple(erp2.clone(), crm2.clone()).await;
    // Behind Couplet's back: the second account deleted, and an account made with the first
    // customer's number.
    cli.sb.delete_row(DATAVERSE, "accounts", &crm2).unwrap();
    let number = cli.text(BC, "customers", &erp, "number");
    let twin = cli
        .sb
        .insert_row(
            DATAVERSE,
            "accounts",
            fields(json!({"name": "Reconcile Co", "accountnumber": number, "statecode": 0, "customertypecode": 3})),
        )
        .unwrap();

    let r = cli.run(&["reconcile", "--mapping", "CUSTOMER"], true).await;
    assert_eq!(r.code, 1, "drift found: {r:?}");
    for line in [
        format!("differs  dataverse/accounts/{crm} <-> bc/customers/{erp}"),
        "displayName (erp field): CRM \"Reconcile Co (old name)\" | ERP \"Reconcile Co\"".into(),
        "phoneNumber (erp field): CRM \"+1 555 0999\" | ERP \"+1 555 0100\"".into(),
        format!(
            "missing  dataverse/accounts/{crm2} <-> bc/customers/{erp2}: dataverse/accounts/{crm2} is gone"
        ),
        format!(
            "twin     dataverse/accounts/{twin} has the natural key '{number}' of dataverse/accounts/{crm} <-> bc/customers/{erp} but is not coupled"
        ),
        "drift: 1 differing, 1 missing (CRM 1, ERP 0, both 0), 1 uncoupled twins (CRM 1, ERP 0)"
            .into(),
    ] {
        assert!(r.out.contains(&line), "no `{line}` in\n{}", r.out);
    }

    let r = cli
        .run(&["reconcile", "--mapping", "CUSTOMER", "--json"], true)
        .await;
    let v: serde_json::Value = serde_json::from_str(&r.out).expect("JSON report");
    assert_eq!(v[0]["mapping"], "CUSTOMER");
    assert_eq!(v[0]["counts"]["differs"], 1, "{v}");
    let kinds: Vec<&str> = v[0]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["kind"].as_str())
        .collect();
    assert_eq!(kinds.len(), 3, "{v}");
    for k in ["differs", "missing", "twin"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }

    let r = cli
        .run(
            &["reconcile", "--mapping", "CUSTOMER", "--fix", "erp"],
            true,
        )
        .await;
    assert_eq!(
        r.code, 1,
        "the missing record and the twin are not fixed: {r:?}"
    );
    assert!(
        r.out.contains(&format!(
            "fix      dataverse/accounts/{crm} <-> bc/customers/{erp}: from the erp: updated"
        )),
        "{}",
        r.out
    );
    assert_eq!(
        cli.text(DATAVERSE, "accounts", &crm, "name"),
        "Reconcile Co"
    );
    let r = cli
        .run(&["audit", &format!("bc/customers/{erp}")], true)
        .await;
    assert!(r.out.contains("forced by reconcile"), "{}", r.out);
    assert!(
        r.out.contains(&format!(
            "updated bc/customers/{erp} -> dataverse/accounts/{crm}"
        )),
        "{}",
        r.out
    );

    let r = cli.run(&["reconcile", "--mapping", "CUSTOMER"], true).await;
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.out
            .contains("drift: 0 differing, 1 missing (CRM 1, ERP 0, both 0), 1 uncoupled twins"),
        "{}",
        r.out
    );

    // A person resolves the rest: the coupling of the deleted account goes, the twin too.
    let r = cli
        .run(&["uncouple", "CUSTOMER", "--crm-id", &crm2], true)
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    cli.sb.delete_row(DATAVERSE, "accounts", &twin).unwrap();
    let r = cli.run(&["reconcile", "--mapping", "CUSTOMER"], true).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("drift: 0 differing, 0 missing"), "{}", r.out);
}
