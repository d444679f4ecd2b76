//! End-to-end: the initial synchronisation, live edits and new records both ways, and no echo
//! loop after Couplet's own writes.

use std::time::Duration;

use crate::common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_couples_every_record_once() {
    let mut h = Harness::start(40, 11).await;
    let dv_accounts = customer_accounts(&h.sb).len();
    let bc_customers = h.sb.rows(couplet::systems::BC, "customers").len();
    let dv_contacts = h.sb.rows(couplet::systems::DATAVERSE, "contacts").len();
    let bc_contacts = h.sb.rows(couplet::systems::BC, "contacts").len();
    let numbers: std::collections::HashSet<String> =
        h.sb.rows(couplet::systems::BC, "customers")
            .iter()
            .map(|r| text(r, "number"))
            .collect();
    let both = customer_accounts(&h.sb)
        .iter()
        .filter(|r| numbers.contains(&text(r, "accountnumber")))
        .count();
    assert!(both > 0);
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();
    assert_no_duplicates(&h);

    let checks = h.check();
    let customer = &checks[0];
    let contact = &checks[1];
    assert_eq!(customer.mapping, "CUSTOMER");
    assert_eq!(contact.mapping, "CONTACT");
    // Each side got the other's missing companies, and nothing else.
    let accounts = customer_accounts(&h.sb).len();
    let customers = h.sb.rows(couplet::systems::BC, "customers").len();
    assert_eq!(
        accounts, customers,
        "accounts and customers differ in number"
    );
    assert!(accounts > dv_accounts && customers > bc_customers);
    // One record per company: those seeded on both sides (same number) are matched.
    assert_eq!(
        accounts,
        dv_accounts + bc_customers - both,
        "companies after the sync"
    );
    // Exactly one create per record that was missing on a side: none twice, none failed.
    let outcomes = h.outcomes().await;
    let created = |mapping: &str| {
        outcomes
            .iter()
            .filter(|o| o.mapping == mapping && o.status == couplet::event::OutcomeStatus::Created)
            .count()
    };
    assert_eq!(
        created("CUSTOMER"),
        (accounts - dv_accounts) + (customers - bc_customers)
    );
    assert_eq!(
        created("CONTACT"),
        (h.sb.rows(couplet::systems::DATAVERSE, "contacts").len() - dv_contacts)
            + (h.sb.rows(couplet::systems::BC, "contacts").len() - bc_contacts)
    );
    let counts = count_by_status(&outcomes);
    assert!(!counts.contains_key("failed"), "{counts:?}");
    assert_eq!(customer.coupled, accounts);
    assert_eq!(h.store().coupling_count("CUSTOMER").unwrap(), accounts);
    assert!(
        contact.coupled >= 40,
        "{} contacts coupled",
        contact.coupled
    );
    assert_eq!(
        h.sb.rows(couplet::systems::DATAVERSE, "contacts").len(),
        h.sb.rows(couplet::systems::BC, "contacts").len()
    );
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_new_records_flow_both_ways() {
    let mut h = Harness::start(30, 12).await;
    h.wait_idle(IDLE_TIMEOUT).await;

    // Edits of coupled records on each side.
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 0);
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &acc,
        patch("telephone1", json!("+1 425 555 0199")),
    )
    .unwrap();
    let acc_cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    let cust = ids(&h.sb.rows(couplet::systems::BC, "customers"), "id")
        .into_iter()
        .find(|id| *id != acc_cust && h.coupling("CUSTOMER", couplet::systems::BC, id).is_some())
        .unwrap();
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust,
        patch("displayName", json!("Renamed In Business Central Ltd")),
    )
    .unwrap();
    let dv_contact = coupled(&h, "CONTACT", couplet::systems::DATAVERSE, "contacts", 0);
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "contacts",
        &dv_contact,
        patch("jobtitle", json!("Head of Purchasing")),
    )
    .unwrap();
    // Another pair than the one edited in Dataverse (a pair edited on both sides is an update
    // conflict).
    let bc_contact = (3..)
        .map(|skip| coupled(&h, "CONTACT", couplet::systems::BC, "contacts", skip))
        .find(|id| h.coupled_id("CONTACT", couplet::systems::BC, id) != dv_contact)
        .unwrap();
    h.sb.update_row(
        couplet::systems::BC,
        "contacts",
        &bc_contact,
        patch("jobTitle", json!("Controller")),
    )
    .unwrap();

    // New records on each side, each with a contact.
    let mut a = couplet::event::Fields::new();
    a.insert("name".into(), json!("Northwind Test Traders"));
    a.insert("telephone1".into(), json!("+1 425 555 0100"));
    a.insert("address1_city".into(), json!("Redmond"));
    a.insert("address1_country".into(), json!("US"));
    // Outside the CUSTOMER filter at first (customertypecode 1 = competitor), so its contact
    // deterministically parks until the account is brought into the filter below.
    a.insert("customertypecode".into(), json!(1));
    let new_acc =
        h.sb.insert_row(couplet::systems::DATAVERSE, "accounts", a)
            .unwrap();
    let mut p = couplet::event::Fields::new();
    p.insert("firstname".into(), json!("Dana"));
    p.insert("lastname".into(), json!("Birkby"));
    p.insert(
        "emailaddress1".into(),
        json!("dana.birkby@northwind-test.example"),
    );
    p.insert(
        "parentcustomerid_account@odata.bind".into(),
        json!(format!("/accounts({new_acc})")),
    );
    let new_dv_contact =
        h.sb.insert_row(couplet::systems::DATAVERSE, "contacts", p)
            .unwrap();

    let mut c = couplet::event::Fields::new();
    c.insert("displayName".into(), json!("Fabrikam Test Supplies"));
    c.insert("city".into(), json!("Aarhus"));
    c.insert("country".into(), json!("DK"));
    c.insert("currencyCode".into(), json!("DKK"));
    let new_cust =
        h.sb.insert_row(couplet::systems::BC, "customers", c)
            .unwrap();
    let number = text(
        &h.row(couplet::systems::BC, "customers", &new_cust),
        "number",
    );
    let mut q = couplet::event::Fields::new();
    q.insert("displayName".into(), json!("Jonas Kvist"));
    q.insert("type".into(), json!("Person"));
    q.insert("email".into(), json!("jonas.kvist@fabrikam-test.example"));
    q.insert("companyNumber".into(), json!(number));
    let new_bc_contact =
        h.sb.insert_row(couplet::systems::BC, "contacts", q)
            .unwrap();

    // The DV contact parks on its parent, which is filtered out.
    let parked_key = format!("dataverse/contacts/{new_dv_contact}");
    {
        let store = h.store().clone();
        let key = parked_key.clone();
        wait_until(Duration::from_secs(30), "the new contact parks", || {
            let store = store.clone();
            let key = key.clone();
            async move { store.parked().unwrap().iter().any(|p| p.record == key) }
        })
        .await;
    }
    let parked = h.store().parked().unwrap();
    let entry = parked.iter().find(|p| p.record == parked_key).unwrap();
    assert_eq!(
        entry.waiting_for,
        format!("CUSTOMER/dataverse/{new_acc}"),
        "{entry:?}"
    );
    // The message names the mapping, the record, the field and the missing dependency.
    for part in [
        "mapping CONTACT",
        parked_key.as_str(),
        "parentcustomerid",
        entry.waiting_for.as_str(),
    ] {
        assert!(
            entry.reason.contains(part),
            "{part} not in {}",
            entry.reason
        );
    }
    assert!(
        h.coupling("CUSTOMER", couplet::systems::DATAVERSE, &new_acc)
            .is_none()
    );
    // Into the filter: the account couples, and the contact is re-driven.
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &new_acc,
        patch("customertypecode", json!(3)),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;

    // The edits arrived.
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &acc_cust),
            "phoneNumber"
        ),
        "+1 425 555 0199"
    );
    let cust_acc = h.coupled_id("CUSTOMER", couplet::systems::BC, &cust);
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &cust_acc),
            "name"
        ),
        "Renamed In Business Central Ltd"
    );
    let c1 = h.coupled_id("CONTACT", couplet::systems::DATAVERSE, &dv_contact);
    assert_eq!(
        text(&h.row(couplet::systems::BC, "contacts", &c1), "jobTitle"),
        "Head of Purchasing"
    );
    let c2 = h.coupled_id("CONTACT", couplet::systems::BC, &bc_contact);
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "contacts", &c2),
            "jobtitle"
        ),
        "Controller"
    );

    // The new records exist on the other side, coupled, with their parents.
    let acc_in_bc = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &new_acc);
    let bc_row = h.row(couplet::systems::BC, "customers", &acc_in_bc);
    assert_eq!(text(&bc_row, "displayName"), "Northwind Test Traders");
    let bc_number = text(&bc_row, "number");
    assert!(!bc_number.is_empty());
    // The number BC assigned flowed back to the account.
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &new_acc),
            "accountnumber"
        ),
        bc_number
    );
    let contact_in_bc = h.coupled_id("CONTACT", couplet::systems::DATAVERSE, &new_dv_contact);
    let row = h.row(couplet::systems::BC, "contacts", &contact_in_bc);
    assert_eq!(text(&row, "companyNumber"), bc_number);
    assert_eq!(text(&row, "email"), "dana.birkby@northwind-test.example");

    let cust_in_dv = h.coupled_id("CUSTOMER", couplet::systems::BC, &new_cust);
    let dv_row = h.row(couplet::systems::DATAVERSE, "accounts", &cust_in_dv);
    assert_eq!(text(&dv_row, "name"), "Fabrikam Test Supplies");
    assert_eq!(text(&dv_row, "accountnumber"), number);
    let contact_in_dv = h.coupled_id("CONTACT", couplet::systems::BC, &new_bc_contact);
    let row = h.row(couplet::systems::DATAVERSE, "contacts", &contact_in_dv);
    assert_eq!(text(&row, "_parentcustomerid_value"), cust_in_dv);

    // The parked contact's trail: parked, then re-driven and created.
    let trail = h.audit(&parked_key);
    let parked_at = trail
        .iter()
        .position(|l| l.starts_with("outcome parked"))
        .unwrap_or_else(|| panic!("no parked outcome in {trail:#?}"));
    assert!(
        trail[parked_at..]
            .iter()
            .any(|l| l.contains("re-driven 1x")),
        "no re-driven change after parking in {trail:#?}"
    );
    assert!(
        trail[parked_at..]
            .iter()
            .any(|l| l.starts_with("outcome created")),
        "no created outcome after parking in {trail:#?}"
    );

    h.assert_in_sync();
    assert_no_duplicates(&h);
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_writes_do_not_echo_back() {
    let mut h = Harness::start(20, 13).await;
    h.wait_idle(IDLE_TIMEOUT).await;

    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 1);
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    let (dv0, bc0) = (
        h.sb.stats(couplet::systems::DATAVERSE).writes,
        h.sb.stats(couplet::systems::BC).writes,
    );
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &acc,
        patch("telephone1", json!("+1 206 555 0142")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "phoneNumber"
        ),
        "+1 206 555 0142"
    );
    let (dv1, bc1) = (
        h.sb.stats(couplet::systems::DATAVERSE).writes,
        h.sb.stats(couplet::systems::BC).writes,
    );
    assert_eq!(bc1 - bc0, 1, "one write to Business Central for one edit");
    assert_eq!(
        dv1 - dv0,
        0,
        "nothing written back to Dataverse; trail: {:#?}",
        h.audit(&format!("dataverse/accounts/{acc}"))
    );

    // The same the other way: an edit in Business Central is one write to Dataverse.
    let cust2 = ids(&h.sb.rows(couplet::systems::BC, "customers"), "id")
        .into_iter()
        .find(|id| *id != cust && h.coupling("CUSTOMER", couplet::systems::BC, id).is_some())
        .unwrap();
    let acc2 = h.coupled_id("CUSTOMER", couplet::systems::BC, &cust2);
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust2,
        patch("phoneNumber", json!("+45 70 20 30 40")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &acc2),
            "telephone1"
        ),
        "+45 70 20 30 40"
    );
    let (dv2, bc2) = (
        h.sb.stats(couplet::systems::DATAVERSE).writes,
        h.sb.stats(couplet::systems::BC).writes,
    );
    assert_eq!(
        dv2 - dv1,
        1,
        "one write to Dataverse for one edit; trail: {:#?}",
        h.audit(&format!("bc/customers/{cust2}"))
    );
    assert_eq!(
        bc2 - bc1,
        0,
        "nothing written back to Business Central; trail: {:#?}",
        h.audit(&format!("bc/customers/{cust2}"))
    );
    let (dv1, bc1) = (dv2, bc2);

    // Several more passes of every capture: the writes stop.
    let before: Vec<u64> = h.engine().captures().iter().map(|c| c.cycles()).collect();
    let captures = h.engine().captures().to_vec();
    wait_until(Duration::from_secs(30), "five more capture passes", || {
        let done = captures
            .iter()
            .zip(&before)
            .all(|(c, b)| c.cycles() >= b + 5);
        async move { done }
    })
    .await;
    assert_eq!(h.sb.stats(couplet::systems::DATAVERSE).writes, dv1);
    assert_eq!(h.sb.stats(couplet::systems::BC).writes, bc1);

    // The trail shows the write to BC and its echo suppressed, not a write back.
    let trail = h.audit(&format!("dataverse/accounts/{acc}"));
    let updated = trail
        .iter()
        .rposition(|l| l.starts_with(&format!("outcome updated dataverse/accounts/{acc}")))
        .unwrap_or_else(|| panic!("no update of BC in {trail:#?}"));
    let after = &trail[updated..];
    assert!(
        after.iter().any(
            |l| l.starts_with(&format!("outcome echo bc/customers/{cust}"))
                || l.starts_with(&format!("outcome unchanged bc/customers/{cust}"))
        ),
        "the echo of the write is not suppressed in {trail:#?}"
    );
    assert!(
        !after
            .iter()
            .any(|l| l.starts_with(&format!("outcome updated bc/customers/{cust}"))),
        "the write came back to Dataverse: {trail:#?}"
    );
    h.assert_in_sync();
    h.stop_engine().await;
}

/// With nothing changing, the captures keep polling but append nothing: no checkpoint
/// message per pass (an idle engine's log does not grow).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_engine_appends_no_checkpoint() {
    let mut h = Harness::start(10, 17).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let topic = h.topics().checkpoints.clone();
    let before = h.read_topic(&topic).await.len();
    assert!(before > 0, "every capture saved its first position");
    // About 20 polls of every capture at the harness's interval.
    tokio::time::sleep(Duration::from_millis(20 * POLL_MS)).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let after = h.read_topic(&topic).await;
    assert_eq!(
        after.len(),
        before,
        "idle captures appended checkpoints: {:?}",
        after[before..].iter().map(|m| &m.key).collect::<Vec<_>>()
    );
    h.stop_engine().await;
}
