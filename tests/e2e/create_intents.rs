//! Create intents end to end: instance "dead" logged its intents to create Business Central
//! customers for three new accounts, Business Central made the customers, and the instance
//! died before coupling them. The running instance then captures both sides of each pair (the
//! account, whose create is retried, and the new customer, which looks like a new record to
//! copy back). Whichever it handles first, it couples the pair: no twin on either side.
//! Without intents, each pair became four records (issue 3's scale-out twin).

use crate::common::*;
use couplet::event::{Fields, RecordKey};
use couplet::pipeline::state::StateLog;
use couplet::store::CreateIntent;
use serde_json::json;

fn fields(v: serde_json::Value) -> Fields {
    v.as_object().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_a_dead_instance_created_is_coupled_not_twinned() {
    let mut h = Harness::start(10, 71).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    // Stopped meanwhile, so nothing is captured half-way through the set-up.
    h.stop_engine().await;
    let parts = h.open_parts().await;
    let dead = StateLog::new(
        parts.bus.clone(),
        parts.topics.clone(),
        parts.store.clone(),
        "dead-instance".to_string(),
    );
    // The fourth account is outside CUSTOMER's filter (customer type 1, a competitor), so it
    // is never captured: only the new customer's capture can find the pair (deterministically
    // the second check; the others race both checks).
    let pairs = [
        ("Twinless Trading One", "Oslo", 3),
        ("Twinless Trading Two", "Bergen", 3),
        ("Twinless Trading Three", "Trondheim", 3),
        ("Twinless Trading Four", "Tromsø", 1),
    ];
    let mut made = Vec::new();
    for (name, city, kind) in pairs {
        // The account, then the intent, then the customer its create made.
        let account =
            h.sb.insert_row(
                couplet::systems::DATAVERSE,
                "accounts",
                fields(json!({
                    "name": name, "address1_city": city, "address1_country": "NO",
                    "customertypecode": kind
                })),
            )
            .unwrap();
        let sent = fields(json!({"displayName": name, "city": city, "country": "NO"}));
        dead.put_intent(&CreateIntent {
            mapping: "CUSTOMER".into(),
            source: RecordKey::new(couplet::systems::DATAVERSE, "accounts", account.clone()),
            target_system: couplet::systems::BC,
            target_entity: "customers".into(),
            fields: sent.clone(),
            instance: "dead-instance".into(),
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();
        let customer =
            h.sb.insert_row(couplet::systems::BC, "customers", sent)
                .unwrap();
        made.push((name, account, customer, kind));
    }
    drop(dead);
    drop(parts);
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;

    for (name, account, customer, kind) in &made {
        let accounts: Vec<_> =
            h.sb.rows(couplet::systems::DATAVERSE, "accounts")
                .into_iter()
                .filter(|r| text(r, "name") == *name)
                .collect();
        let customers: Vec<_> =
            h.sb.rows(couplet::systems::BC, "customers")
                .into_iter()
                .filter(|r| text(r, "displayName") == *name)
                .collect();
        assert_eq!(accounts.len(), 1, "one account named {name}: {accounts:?}");
        assert_eq!(
            customers.len(),
            1,
            "one customer named {name}: {customers:?}"
        );
        assert_eq!(
            h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, account),
            *customer
        );
        // The number Business Central gave the customer reached the account.
        assert_eq!(
            text(&accounts[0], "accountnumber"),
            text(&customers[0], "number")
        );
        let mut trail = h.audit(&format!("dataverse/accounts/{account}"));
        trail.extend(h.audit(&format!("bc/customers/{customer}")));
        let trail = trail.join("\n");
        eprintln!("{name}:\n{trail}");
        assert!(trail.contains("create intent"), "{trail}");
        if *kind == 1 {
            assert!(trail.contains("was created from"), "{trail}");
        }
    }
    assert!(
        h.store()
            .intents_creating_on("CUSTOMER", couplet::systems::BC)
            .unwrap()
            .is_empty(),
        "every intent closed"
    );
    h.assert_in_sync();
}

/// Another instance completed a create and closed its intent, but its coupling has not reached
/// this instance yet (the close and the coupling travel on two changelogs, and a follower may
/// apply the close first). The new record captured in that moment is still recognised through
/// the recently closed intent, not copied back. The account is outside CUSTOMER's filter, so
/// only the new customer's capture can find the pair.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_whose_coupling_is_still_on_its_way_is_not_twinned() {
    let mut h = Harness::start(5, 73).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.stop_engine().await;
    let parts = h.open_parts().await;
    let other = StateLog::new(
        parts.bus.clone(),
        parts.topics.clone(),
        parts.store.clone(),
        "other-instance".to_string(),
    );
    let name = "Coupling In Flight AS";
    let account =
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            fields(json!({"name": name, "address1_city": "Bodø", "customertypecode": 1})),
        )
        .unwrap();
    let sent = fields(json!({"displayName": name, "city": "Bodø"}));
    let source = RecordKey::new(couplet::systems::DATAVERSE, "accounts", account.clone());
    other
        .put_intent(&CreateIntent {
            mapping: "CUSTOMER".into(),
            source: source.clone(),
            target_system: couplet::systems::BC,
            target_entity: "customers".into(),
            fields: sent.clone(),
            instance: "other-instance".into(),
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();
    let customer =
        h.sb.insert_row(couplet::systems::BC, "customers", sent)
            .unwrap();
    // The create completed: the intent is closed; its coupling is still on its way.
    other.remove_intent("CUSTOMER", &source).await.unwrap();
    drop(other);
    drop(parts);
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;

    let accounts =
        h.sb.rows(couplet::systems::DATAVERSE, "accounts")
            .into_iter()
            .filter(|r| text(r, "name") == name)
            .count();
    assert_eq!(accounts, 1, "no twin account");
    assert_eq!(
        h.coupled_id("CUSTOMER", couplet::systems::BC, &customer),
        account
    );
    let trail = h.audit(&format!("bc/customers/{customer}")).join("\n");
    assert!(trail.contains("was created from"), "{trail}");
}
