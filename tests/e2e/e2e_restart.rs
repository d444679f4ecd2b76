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

/// A crash between a state change's append to its changelog and the projection's write (sled
/// reaches disk on its own schedule; a SIGKILL loses what it had not written): the next start
/// applies this instance's own changelog message, which the state follower used to skip as
/// already applied. Simulated on a stopped engine: the coupling and the checkpoint are taken
/// out of the projection, and their last messages put back on the changelogs after the
/// follower's committed position, as the crashed instance had appended them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_state_changes_lost_from_the_projection_are_applied_at_the_next_start() {
    use couplet::event::state_codec::{encode_checkpoint, encode_coupling};
    use couplet::pipeline::state::{INSTANCE_HEADER, coupling_key};

    let mut h = Harness::start(20, 33).await;
    h.wait_idle(Duration::from_secs(60)).await;
    let coupling = h.store().couplings(Some("CUSTOMER")).unwrap()[0].clone();
    let (checkpoint, position) = h
        .store()
        .checkpoints()
        .unwrap()
        .into_iter()
        .find(|(n, _)| !n.starts_with('_'))
        .expect("a capture checkpoint");
    h.stop_engine().await;

    {
        let parts = h.open_parts().await;
        let instance = parts.store.checkpoint("_instance").unwrap().unwrap();
        let headers = [(
            INSTANCE_HEADER.to_string(),
            instance.as_str().unwrap().to_string(),
        )];
        let c = encode_coupling(&coupling).unwrap();
        parts
            .bus
            .produce(
                &parts.topics.couplings,
                &coupling_key(&coupling),
                Some(&c),
                &headers,
            )
            .await
            .unwrap();
        let p = encode_checkpoint(&checkpoint, &position, chrono::Utc::now()).unwrap();
        parts
            .bus
            .produce(&parts.topics.checkpoints, &checkpoint, Some(&p), &headers)
            .await
            .unwrap();
        parts
            .store
            .remove_coupling(
                &coupling.mapping,
                couplet::event::Side::Crm,
                &coupling.crm_id,
            )
            .unwrap();
        parts.store.delete_checkpoint(&checkpoint).unwrap();
        parts.store.flush().unwrap();
        assert!(
            parts
                .store
                .coupling(
                    &coupling.mapping,
                    couplet::event::Side::Crm,
                    &coupling.crm_id
                )
                .unwrap()
                .is_none()
        );
    }

    h.start_engine().await;
    let store = h.store().clone();
    let (mapping, crm_id) = (coupling.mapping.clone(), coupling.crm_id.clone());
    wait_until(Duration::from_secs(30), "the lost coupling back", || {
        let back = store
            .coupling(&mapping, couplet::event::Side::Crm, &crm_id)
            .unwrap();
        async move { back.is_some() }
    })
    .await;
    assert_eq!(
        h.store()
            .coupling(&mapping, couplet::event::Side::Crm, &crm_id)
            .unwrap()
            .unwrap()
            .erp_id,
        coupling.erp_id
    );
    let store = h.store().clone();
    let name = checkpoint.clone();
    wait_until(Duration::from_secs(30), "the lost checkpoint back", || {
        let back = store.checkpoint(&name).unwrap();
        async move { back.is_some() }
    })
    .await;
    h.wait_idle(Duration::from_secs(60)).await;
    h.assert_in_sync();
    assert_no_duplicates(&h);
}

/// A projection lost while the engine was stopped (its sled file truncated, which sled opens
/// as an empty database without a word; or its directory deleted) is rebuilt from the log when
/// the engine starts, before any stage decides anything on it: nothing is forgotten, nothing
/// is created twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_projection_is_rebuilt_from_the_log_at_start() {
    let mut h = Harness::start(20, 34).await;
    h.wait_idle(Duration::from_secs(60)).await;
    let customers = h.store().coupling_count("CUSTOMER").unwrap();
    let contacts = h.store().coupling_count("CONTACT").unwrap();
    assert!(customers > 0 && contacts > 0);

    for lose in ["truncate", "delete"] {
        h.stop_engine().await;
        let projection = h.dir.path().join("projection");
        match lose {
            "truncate" => std::fs::OpenOptions::new()
                .write(true)
                .open(projection.join("db"))
                .unwrap()
                .set_len(0)
                .unwrap(),
            _ => std::fs::remove_dir_all(&projection).unwrap(),
        }
        h.start_engine().await;
        assert_eq!(
            h.store().coupling_count("CUSTOMER").unwrap(),
            customers,
            "{lose}: the couplings are back before the engine runs"
        );
        assert_eq!(
            h.store().coupling_count("CONTACT").unwrap(),
            contacts,
            "{lose}"
        );
        h.wait_idle(Duration::from_secs(60)).await;
        h.assert_in_sync();
        assert_no_duplicates(&h);
        assert_eq!(h.store().coupling_count("CUSTOMER").unwrap(), customers);
    }
}
