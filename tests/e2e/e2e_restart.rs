//! End-to-end: an engine shut down in the middle of the initial synchronisation, and a new
//! one started on the same data directory, finish the job without duplicates or gaps.

use std::collections::HashSet;
use std::time::Duration;

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_in_the_middle_of_the_initial_sync() {
    let mut h = Harness::start(300, 21).await;
    let dv_accounts = customer_accounts(&h.sb).len();
    let dv_contacts = h.sb.rows(couplet::systems::DATAVERSE, "contacts").len();
    let bc_customers = h.sb.rows(couplet::systems::BC, "customers");
    let bc_contacts = h.sb.rows(couplet::systems::BC, "contacts").len();
    let numbers: HashSet<String> = bc_customers.iter().map(|r| text(r, "number")).collect();
    let dv_rows = customer_accounts(&h.sb);
    let both = dv_rows
        .iter()
        .filter(|r| numbers.contains(&text(r, "accountnumber")))
        .count();
    let companies = dv_accounts + bc_customers.len() - both;
    let emails: HashSet<String> =
        h.sb.rows(couplet::systems::DATAVERSE, "contacts")
            .iter()
            .map(|r| text(r, "emailaddress1").to_lowercase())
            .chain(
                h.sb.rows(couplet::systems::BC, "contacts")
                    .iter()
                    .map(|r| text(r, "email").to_lowercase()),
            )
            .collect();
    let people = emails.len();
    assert!(people < dv_contacts + bc_contacts);

    // Stop as soon as the first writes are coupled, well before the sync is done.
    let store = h.store().clone();
    wait_until(Duration::from_secs(60), "the first couplings", || {
        let n = store.coupling_count("CUSTOMER").unwrap();
        async move { n >= 5 }
    })
    .await;
    drop(store);
    h.stop_engine().await;
    let writes_before =
        h.sb.stats(couplet::systems::DATAVERSE).writes + h.sb.stats(couplet::systems::BC).writes;
    h.start_engine().await;
    let at_restart = h.store().coupling_count("CUSTOMER").unwrap();
    assert!(
        at_restart < companies,
        "the initial sync had already finished before the restart ({at_restart} of {companies} coupled)"
    );
    h.wait_idle(Duration::from_secs(120)).await;

    h.assert_in_sync();
    assert_no_duplicates(&h);
    // Every company and every person once on each side, nothing extra.
    assert_eq!(customer_accounts(&h.sb).len(), companies);
    assert_eq!(
        h.sb.rows(couplet::systems::BC, "customers").len(),
        companies
    );
    assert_eq!(h.store().coupling_count("CUSTOMER").unwrap(), companies);
    assert_eq!(
        h.sb.rows(couplet::systems::DATAVERSE, "contacts").len(),
        people
    );
    assert_eq!(h.sb.rows(couplet::systems::BC, "contacts").len(), people);
    assert_eq!(h.store().coupling_count("CONTACT").unwrap(), people);
    // Every seeded record is still there.
    for r in &dv_rows {
        let id = text(r, "accountid");
        assert!(
            h.coupling("CUSTOMER", couplet::systems::DATAVERSE, &id)
                .is_some(),
            "{id}"
        );
    }
    for r in &bc_customers {
        let id = text(r, "id");
        assert!(
            h.coupling("CUSTOMER", couplet::systems::BC, &id).is_some(),
            "{id}"
        );
    }
    let writes =
        h.sb.stats(couplet::systems::DATAVERSE).writes + h.sb.stats(couplet::systems::BC).writes;
    assert!(writes > writes_before, "the second engine wrote nothing");
    h.stop_engine().await;
}
