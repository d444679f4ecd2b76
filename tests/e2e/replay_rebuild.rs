//! `couplet replay --rebuild` restores exactly the projection the live run built, and a replay
//! of every captured change writes nothing twice.

use std::time::Duration;

use couplet::bus::StartFrom;
use couplet::cli::build;
use couplet::pipeline::Engine;
use couplet::pipeline::replay::{ReplayFilter, rebuild, replay};
use couplet::sandbox::{Sandbox, SandboxConfig};
use couplet::store::{AuditEntry, Coupling, Store};
use serde_json::json;

type Snapshot = (
    Vec<Coupling>,
    Vec<(String, serde_json::Value)>,
    Vec<(String, Vec<AuditEntry>)>,
    usize,
);

fn snapshot(store: &Store) -> Snapshot {
    let couplings = store.couplings(None).unwrap();
    let checkpoints: Vec<_> = store
        .checkpoints()
        .unwrap()
        .into_iter()
        .filter(|(n, _)| !n.starts_with('_'))
        .collect();
    let mut audit = Vec::new();
    for c in &couplings {
        for key in [
            format!("dataverse/{}/{}", c.crm_entity, c.crm_id),
            format!("bc/{}/{}", c.erp_entity, c.erp_id),
        ] {
            let trail = store.audit(&key).unwrap();
            audit.push((key, trail));
        }
    }
    (couplings, checkpoints, audit, store.errors().unwrap().len())
}

fn counts(sb: &Sandbox) -> [usize; 4] {
    [
        sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        sb.rows(couplet::systems::DATAVERSE, "contacts").len(),
        sb.rows(couplet::systems::BC, "customers").len(),
        sb.rows(couplet::systems::BC, "contacts").len(),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_restores_the_projection_and_replay_never_duplicates() {
    let sb = Sandbox::start(SandboxConfig {
        records: 30,
        seed: 11,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = build::sandbox_config(&sb, dir.path()).unwrap();
    cfg.capture.poll_interval_ms = 100;
    let parts = build::parts(&cfg).unwrap();
    let (store, bus, topics, catalogue) = (
        parts.store.clone(),
        parts.bus.clone(),
        parts.topics.clone(),
        parts.catalogue.clone(),
    );

    let mut engine = Engine::start(parts.clone()).await.unwrap();
    assert!(
        engine.wait_idle(Duration::from_secs(90)).await.unwrap(),
        "initial sync did not settle"
    );
    // Some updates after the initial sync, so the log holds more than creates.
    let account = sb.rows(couplet::systems::DATAVERSE, "accounts")[0]["accountid"]
        .as_str()
        .unwrap()
        .to_string();
    let mut patch = couplet::event::Fields::new();
    patch.insert("telephone1".into(), json!("+1 555 0199"));
    sb.update_row(couplet::systems::DATAVERSE, "accounts", &account, patch)
        .unwrap();
    assert!(
        engine.wait_idle(Duration::from_secs(60)).await.unwrap(),
        "edit did not settle"
    );
    engine.shutdown().await.unwrap();

    let before = snapshot(&store);
    assert!(
        before.0.len() >= 50,
        "expected couplings, got {}",
        before.0.len()
    );
    assert!(!before.1.is_empty(), "expected checkpoints");

    let report = rebuild(&bus, &topics, &store, &catalogue).await.unwrap();
    let after = snapshot(&store);
    assert_eq!(report.couplings, before.0.len());
    assert_eq!(after.0, before.0, "rebuilt couplings differ");
    assert_eq!(after.1, before.1, "rebuilt checkpoints differ");
    assert_eq!(after.2.len(), before.2.len());
    for ((k1, t1), (k2, t2)) in before.2.iter().zip(&after.2) {
        assert_eq!(k1, k2);
        assert_eq!(t1, t2, "rebuilt audit trail of {k1} differs");
    }
    assert_eq!(after.3, before.3, "rebuilt errors list differs");

    // Replay every captured change through transform and apply: nothing is created twice,
    // and nothing is even rewritten (each replayed change is stale, unchanged or an echo).
    let rows_before = counts(&sb);
    let writes_before =
        sb.stats(couplet::systems::DATAVERSE).writes + sb.stats(couplet::systems::BC).writes;
    let (read, sent) = replay(
        &bus,
        &topics,
        &topics.changes,
        StartFrom::Earliest,
        &ReplayFilter {
            mapping: None,
            record: None,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    assert!(read > 100 && sent == read, "read {read}, re-drove {sent}");
    let mut engine = Engine::start(parts.clone()).await.unwrap();
    assert!(
        engine.wait_idle(Duration::from_secs(90)).await.unwrap(),
        "replay did not settle"
    );
    engine.shutdown().await.unwrap();
    assert_eq!(counts(&sb), rows_before, "a replay created records");
    let writes_after =
        sb.stats(couplet::systems::DATAVERSE).writes + sb.stats(couplet::systems::BC).writes;
    assert_eq!(writes_after, writes_before, "a replay rewrote records");
    assert_eq!(store.couplings(None).unwrap().len(), before.0.len());
    assert!(
        store.errors().unwrap().is_empty(),
        "{:?}",
        store.errors().unwrap()
    );
}
