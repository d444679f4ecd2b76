//! End-to-end: a mapping read on a schedule instead of captured continuously, and "Synch. Only
//! Coupled Records" (new records are created on the other side only by a full sync).

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use couplet::capture::scheduled::{ScheduleCheckpoint, checkpoint_name};
use couplet::fullsync::{FullSyncOptions, full_sync};
use serde_json::json;

fn customer_with(line: &str) -> String {
    defaults_with(
        "CUSTOMER",
        "deletion = \"remove_coupling\"",
        &format!("deletion = \"remove_coupling\"\n{line}"),
    )
}

fn schedule_checkpoint(h: &Harness) -> Option<ScheduleCheckpoint> {
    h.store()
        .checkpoint(&checkpoint_name("CUSTOMER"))
        .unwrap()
        .and_then(|v| serde_json::from_value(v).ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_mapping_is_read_on_its_schedule() {
    let mut h =
        Harness::start_with_mappings(20, 81, &customer_with("schedule = { every = \"1s\" }")).await;
    // No continuous capture for CUSTOMER: only the CONTACT captures run.
    assert!(
        h.engine()
            .captures()
            .iter()
            .all(|c| c.name().starts_with("CONTACT/")),
        "{:?}",
        h.engine()
            .captures()
            .iter()
            .map(|c| c.name())
            .collect::<Vec<_>>()
    );
    {
        let store = h.store().clone();
        wait_until(Duration::from_secs(30), "the first scheduled read", || {
            let store = store.clone();
            async move {
                store
                    .checkpoint(&checkpoint_name("CUSTOMER"))
                    .unwrap()
                    .and_then(|v| v.get("last_run").cloned())
                    .is_some_and(|v| !v.is_null())
            }
        })
        .await;
    }
    h.wait_idle(IDLE_TIMEOUT).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();

    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 1);
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    let before = schedule_checkpoint(&h).unwrap();
    let next = before.next_run.unwrap();
    assert!(next > before.last_run.unwrap());
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust,
        patch("phoneNumber", json!("+1 312 555 0404")),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while h
        .sb
        .row(couplet::systems::DATAVERSE, "accounts", &acc)
        .is_none_or(|r| text(&r, "telephone1") != "+1 312 555 0404")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the edit did not flow on the schedule"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The run emits its events before it saves its checkpoint, so under load the edit can
    // reach the CRM before the checkpoint of the run that carried it is written.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let after = schedule_checkpoint(&h).unwrap();
        if after.last_run.is_some_and(|l| l >= next) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run that carried the edit saved no checkpoint: {before:?} -> {after:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_only_coupled_creates_new_records_only_by_full_sync() {
    let mut h =
        Harness::start_with_mappings(20, 82, &customer_with("sync_only_coupled = true")).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(h.store().coupling_count("CUSTOMER").unwrap(), 0);
    let skipped: Vec<_> = h
        .outcomes()
        .await
        .into_iter()
        .filter(|o| {
            o.mapping == "CUSTOMER"
                && o.reason
                    .as_deref()
                    .is_some_and(|r| r.contains("sync_only_coupled"))
        })
        .collect();
    assert!(!skipped.is_empty());

    // A full sync creates and couples them.
    h.stop_engine().await;
    let mut cfg = couplet::cli::build::sandbox_config(&h.sb, h.dir.path()).unwrap();
    cfg.sync.mapping_file = h.mapping_file.clone();
    let parts = couplet::cli::build::parts(&cfg).unwrap();
    let gauges = full_sync_gauges().await;
    let jobs = full_sync(
        parts,
        FullSyncOptions {
            only: None,
            restart: false,
            job_timeout: Duration::from_secs(60),
            progress: false,
            log: Arc::new(|_| {}),
        },
    )
    .await
    .unwrap();
    drop(gauges);
    assert!(jobs.iter().all(|j| j.counts.failed == 0), "{jobs:?}");
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();

    // A new customer is not created in Dataverse by capture.
    let accounts = h.sb.rows(couplet::systems::DATAVERSE, "accounts").len();
    let mut c = couplet::event::Fields::new();
    c.insert("displayName".into(), json!("Only Coupled Ltd"));
    c.insert("currencyCode".into(), json!(""));
    let new_cust =
        h.sb.insert_row(couplet::systems::BC, "customers", c)
            .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        h.sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        accounts
    );
    assert!(
        h.coupling("CUSTOMER", couplet::systems::BC, &new_cust)
            .is_none()
    );
    h.stop_engine().await;
}
