//! End-to-end: bad records are listed with their reasons while the rest keeps flowing; a
//! malformed page is retried; an undecodable message is dead-lettered; a corrected record
//! synchronises and leaves the errors list.

use std::time::Duration;

use crate::common::*;
use couplet::event::Fields;
use couplet::sandbox::Fault;
use serde_json::json;

fn error_of(h: &Harness, record: &str) -> Option<couplet::store::ErrorEntry> {
    h.store()
        .errors()
        .unwrap()
        .into_iter()
        .find(|e| e.record == record)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_are_listed_and_the_rest_flows() {
    let mut h = Harness::start(20, 51).await;
    h.wait_idle(IDLE_TIMEOUT).await;

    // (a) A name Dataverse accepts (160) but Business Central does not (displayName: 100).
    let long_name = format!("Contoso {}", "Very Long Name ".repeat(8))
        .trim()
        .to_string();
    assert!(long_name.len() > 100 && long_name.len() <= 160);
    let mut a = Fields::new();
    a.insert("name".into(), json!(long_name));
    a.insert("customertypecode".into(), json!(3));
    a.insert("address1_city".into(), json!("Seattle"));
    let bad_acc =
        h.sb.insert_row(couplet::systems::DATAVERSE, "accounts", a)
            .unwrap();

    // (b) A currency that exists in Business Central but not in Dataverse.
    let mut cur = Fields::new();
    cur.insert("code".into(), json!("NOK"));
    cur.insert("displayName".into(), json!("Norwegian Krone"));
    h.sb.insert_row(couplet::systems::BC, "currencies", cur)
        .unwrap();
    let mut c = Fields::new();
    c.insert("displayName".into(), json!("Fjord Shipping AS"));
    c.insert("country".into(), json!("NO"));
    c.insert("currencyCode".into(), json!("NOK"));
    let bad_cust =
        h.sb.insert_row(couplet::systems::BC, "customers", c)
            .unwrap();

    // And a good edit at the same time.
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 0);
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &acc,
        patch("telephone1", json!("+1 555 0101")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;

    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "phoneNumber"
        ),
        "+1 555 0101"
    );
    let e = error_of(&h, &format!("dataverse/accounts/{bad_acc}"))
        .unwrap_or_else(|| panic!("no error for the long name\n{}", h.describe()));
    assert_eq!(e.mapping, "CUSTOMER");
    assert_eq!(e.field.as_deref(), Some("displayName"), "{e:?}");
    assert!(e.reason.contains(&bad_acc), "{}", e.reason);
    assert!(
        e.reason.contains("displayName") && e.reason.contains("100"),
        "{}",
        e.reason
    );
    assert!(
        h.coupling("CUSTOMER", couplet::systems::DATAVERSE, &bad_acc)
            .is_none()
    );

    let e = error_of(&h, &format!("bc/customers/{bad_cust}"))
        .unwrap_or_else(|| panic!("no error for the currency\n{}", h.describe()));
    assert_eq!(e.field.as_deref(), Some("currencyCode"), "{e:?}");
    assert_eq!(e.class, "unknown_currency");
    assert!(e.reason.contains("'NOK'"), "{}", e.reason);
    assert!(e.reason.contains(&bad_cust), "{}", e.reason);
    assert_eq!(h.store().errors().unwrap().len(), 2, "{}", h.describe());

    // Everything else is in step: the two bad records are the only uncoupled ones.
    let checks = h.check();
    assert_eq!(checks[0].uncoupled_crm, vec![bad_acc.clone()]);
    assert_eq!(checks[0].uncoupled_erp, vec![bad_cust.clone()]);
    assert!(checks[0].diffs.is_empty() && checks[0].duplicates.is_empty());
    assert!(checks[1].ok(), "{}", describe_check(&checks[1]));

    // Correcting the name in Dataverse: the next change synchronises and clears the error.
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &bad_acc,
        patch("name", json!("Contoso Short Name")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    let fixed = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &bad_acc);
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &fixed),
            "displayName"
        ),
        "Contoso Short Name"
    );
    assert!(error_of(&h, &format!("dataverse/accounts/{bad_acc}")).is_none());
    assert!(error_of(&h, &format!("bc/customers/{bad_cust}")).is_some());
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_page_is_retried() {
    let mut h = Harness::start(20, 52).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    // Idle: the only collection GETs now are the Dataverse captures' delta reads.
    h.sb.inject(
        couplet::systems::DATAVERSE,
        Fault::MalformedPage { count: 1 },
    );
    let captures = h.engine().captures().to_vec();
    wait_until(
        Duration::from_secs(10),
        "a Dataverse capture pass fails on the malformed page",
        || {
            let failed = captures
                .iter()
                .any(|c| c.name().contains("/dataverse/") && c.last_error().is_some());
            async move { failed }
        },
    )
    .await;
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 1);
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &acc,
        patch("telephone1", json!("+1 555 0102")),
    )
    .unwrap();
    let contact = coupled(&h, "CONTACT", couplet::systems::DATAVERSE, "contacts", 1);
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "contacts",
        &contact,
        patch("jobtitle", json!("Buyer")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    assert!(captures.iter().all(|c| c.last_error().is_none()));
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "phoneNumber"
        ),
        "+1 555 0102"
    );
    let bc_contact = h.coupled_id("CONTACT", couplet::systems::DATAVERSE, &contact);
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "contacts", &bc_contact),
            "jobTitle"
        ),
        "Buyer"
    );
    h.assert_in_sync();
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_change_is_dead_lettered() {
    let mut h = Harness::start(20, 53).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let topics = h.topics().clone();
    let produced = h
        .bus()
        .produce(&topics.changes, "bc/customers/x", Some(b"garbage"), &[])
        .await
        .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;

    let e = error_of(&h, "bc/customers/x")
        .unwrap_or_else(|| panic!("no error for the garbage\n{}", h.describe()));
    assert_eq!(e.class, "decode");
    assert!(
        e.reason.contains(&format!(
            "{}/{}@{}",
            topics.changes,
            produced.partition,
            produced.offset.expect("the embedded log reports offsets")
        )),
        "{}",
        e.reason
    );
    let dlq = h.read_topic(&topics.dlq).await;
    let m = dlq
        .iter()
        .find(|m| m.key == "bc/customers/x")
        .unwrap_or_else(|| panic!("not dead-lettered: {dlq:?}"));
    assert_eq!(m.bytes(), b"garbage");
    let header = |n: &str| {
        m.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no header {n} in {:?}", m.headers))
    };
    assert_eq!(header("couplet-error-class"), "decode");
    assert_eq!(header("couplet-source-topic"), topics.changes);
    assert_eq!(
        header("couplet-source-partition"),
        produced.partition.to_string()
    );
    assert_eq!(
        header("couplet-source-offset"),
        produced.offset.expect("offset").to_string()
    );

    // Later changes still flow.
    let cust = coupled(&h, "CUSTOMER", couplet::systems::BC, "customers", 0);
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust,
        patch("displayName", json!("Still Flowing Inc")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    let acc = h.coupled_id("CUSTOMER", couplet::systems::BC, &cust);
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &acc),
            "name"
        ),
        "Still Flowing Inc"
    );
    let checks = h.check();
    for c in &checks {
        assert!(c.ok(), "{}", describe_check(c));
    }
    assert_eq!(h.store().errors().unwrap().len(), 1, "{}", h.describe());
    h.stop_engine().await;
}
