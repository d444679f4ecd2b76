//! End-to-end: `full-sync` of the complete default catalogue (every master-data mapping of
//! Business Central's integration) on a seeded pair of systems: every job finishes, every
//! record of every mapping ends coupled and equal on both sides, and the mappings ran in
//! dependency order, read from the audit trail (the outcomes topic): no outcome of a mapping
//! precedes the last outcome of a mapping it depends on.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use couplet::cli::build;
use couplet::event::avro::decode_outcome;
use couplet::fullsync::{FullSyncOptions, JobStatus, full_sync};
use couplet::mapping::Catalogue;
use couplet::sandbox::{Sandbox, SandboxConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_of_the_whole_catalogue_couples_everything_in_dependency_order() {
    init_tracing();
    let sb = Sandbox::start(SandboxConfig {
        records: 400,
        seed: 64,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = build::sandbox_config(&sb, dir.path()).unwrap();
    let defaults = Catalogue::defaults().unwrap();
    cfg.sync.mappings = defaults.ordered().iter().map(|m| m.name.clone()).collect();
    let parts = build::parts(&cfg).unwrap();
    let (store, bus, topics, catalogue) = (
        parts.store.clone(),
        parts.bus.clone(),
        parts.topics.clone(),
        parts.catalogue.clone(),
    );
    assert_eq!(
        catalogue.ordered().len(),
        defaults.ordered().len(),
        "every default mapping runs"
    );
    let mut records = 0;
    for m in catalogue.ordered() {
        records += sb.rows(couplet::systems::DATAVERSE, &m.crm_entity).len();
        records += sb.rows(couplet::systems::BC, &m.erp_entity).len();
    }
    let gauges = full_sync_gauges().await;
    let started = Instant::now();
    let jobs = full_sync(
        parts,
        FullSyncOptions {
            only: None,
            restart: false,
            job_timeout: Duration::from_secs(180),
            progress: false,
            log: Arc::new(|_| {}),
        },
    )
    .await
    .unwrap();
    drop(gauges);
    eprintln!(
        "full sync of the catalogue ({} mappings, {records} records on both sides) took {:.1} s\n{}",
        catalogue.ordered().len(),
        started.elapsed().as_secs_f64(),
        couplet::fullsync::render_review(&jobs)
    );
    assert!(records >= 2000, "thousands of records: {records}");
    for j in &jobs {
        assert_eq!(j.status, JobStatus::Finished, "{j:?}");
        assert_eq!(j.counts.failed, 0, "{j:?}");
        assert_eq!(j.counts.parked, 0, "{j:?}");
    }
    assert!(
        store.errors().unwrap().is_empty(),
        "{:?}",
        store.errors().unwrap()
    );

    // Every mapping coupled and equal.
    for (m, check) in catalogue
        .ordered()
        .iter()
        .zip(checks(&sb, &store, &catalogue))
    {
        assert!(check.ok(), "{}", describe_check(&check));
        let seeded = !sb
            .rows(couplet::systems::DATAVERSE, &m.crm_entity)
            .is_empty()
            || !sb.rows(couplet::systems::BC, &m.erp_entity).is_empty();
        assert!(
            !seeded || store.coupling_count(&m.name).unwrap() > 0,
            "{} coupled nothing",
            m.name
        );
    }

    // Dependency order, from the audit trail.
    let mut spans: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for msg in read_topic(&bus, &topics.outcomes).await {
        let Ok(o) = decode_outcome(msg.bytes()) else {
            continue;
        };
        let at = o.at.timestamp_millis();
        let e = spans.entry(o.mapping.clone()).or_insert((at, at));
        e.0 = e.0.min(at);
        e.1 = e.1.max(at);
    }
    for m in catalogue.ordered() {
        let Some((first, _)) = spans.get(&m.name) else {
            assert!(
                store.coupling_count(&m.name).unwrap() == 0,
                "{} coupled records without an outcome",
                m.name
            );
            continue;
        };
        for dep in &m.depends_on {
            let Some((_, last_dep)) = spans.get(dep) else {
                continue;
            };
            assert!(
                last_dep <= first,
                "{} began ({first}) before {dep} ended ({last_dep})",
                m.name
            );
        }
    }
}
