//! End-to-end: `couplet full-sync` on a seeded sandbox couples every record once, equal on both
//! sides, in dependency order; a full sync killed midway resumes without redoing finished jobs
//! and without duplicates.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use couplet::cli::build;
use couplet::event::avro::decode_outcome;
use couplet::fullsync::{FullSyncOptions, JobStatus, full_sync};
use couplet::mapping::Catalogue;
use couplet::sandbox::{Sandbox, SandboxConfig};
use couplet::store::Store;

fn no_duplicates(sb: &Sandbox) {
    for (system, set, field, lower) in [
        (
            couplet::systems::DATAVERSE,
            "accounts",
            "accountnumber",
            false,
        ),
        (couplet::systems::BC, "customers", "number", false),
        (
            couplet::systems::DATAVERSE,
            "contacts",
            "emailaddress1",
            true,
        ),
        (couplet::systems::BC, "contacts", "email", true),
    ] {
        let d = repeated(&sb.rows(system, set), field, lower);
        assert!(d.is_empty(), "duplicate {system}/{set} {field}: {d:?}");
    }
}

fn options(log: Arc<std::sync::Mutex<Vec<String>>>) -> FullSyncOptions {
    FullSyncOptions {
        only: None,
        restart: false,
        job_timeout: Duration::from_secs(120),
        progress: false,
        log: Arc::new(move |l| log.lock().unwrap().push(l)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_couples_everything_in_dependency_order() {
    init_tracing();
    let sb = Sandbox::start(SandboxConfig {
        records: 500,
        seed: 61,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = build::sandbox_config(&sb, dir.path()).unwrap();
    let parts = build::parts(&cfg).unwrap();
    let (store, bus, topics, catalogue) = (
        parts.store.clone(),
        parts.bus.clone(),
        parts.topics.clone(),
        parts.catalogue.clone(),
    );
    let records: usize = ["accounts", "contacts"]
        .iter()
        .map(|s| sb.rows(couplet::systems::DATAVERSE, s).len())
        .sum::<usize>()
        + ["customers", "contacts"]
            .iter()
            .map(|s| sb.rows(couplet::systems::BC, s).len())
            .sum::<usize>();
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    // Held to the end: the gauges read below must be this full sync's.
    let _gauges = full_sync_gauges().await;
    let started = Instant::now();
    let jobs = full_sync(parts, options(log.clone())).await.unwrap();
    let took = started.elapsed();
    eprintln!(
        "full sync of {records} records took {:.1} s\n{}",
        took.as_secs_f64(),
        couplet::fullsync::render_review(&jobs)
    );
    assert_eq!(jobs.len(), 4, "two mappings, two directions each");
    for j in &jobs {
        assert_eq!(j.status, JobStatus::Finished, "{j:?}");
        assert_eq!(j.counts.failed, 0, "{j:?}");
        assert_eq!(j.counts.parked, 0, "{j:?}");
        assert_eq!(j.counts.done(), j.total, "{j:?}");
    }
    let inserted: u64 = jobs.iter().map(|j| j.counts.inserted).sum();
    assert!(inserted > 0);

    let c = checks(&sb, &store, &catalogue);
    for m in &c {
        assert!(m.ok(), "{}", describe_check(m));
    }
    no_duplicates(&sb);
    assert!(store.errors().unwrap().is_empty());

    // Dependency order: every CUSTOMER outcome precedes the first CONTACT one.
    let outcomes: Vec<_> = read_topic(&bus, &topics.outcomes)
        .await
        .iter()
        .filter_map(|m| decode_outcome(m.bytes()).ok())
        .collect();
    let last_customer = outcomes
        .iter()
        .filter(|o| o.mapping == "CUSTOMER")
        .map(|o| o.at)
        .max()
        .unwrap();
    let first_contact = outcomes
        .iter()
        .filter(|o| o.mapping == "CONTACT")
        .map(|o| o.at)
        .min()
        .unwrap();
    assert!(
        last_customer <= first_contact,
        "a CONTACT outcome ({first_contact}) before the last CUSTOMER one ({last_customer})"
    );
    let lines = log.lock().unwrap().clone();
    let pos = |p: &str| lines.iter().position(|l| l.starts_with(p)).unwrap();
    assert!(pos("full-sync CUSTOMER to_crm: started") < pos("full-sync CUSTOMER to_erp: started"));
    assert!(pos("full-sync CUSTOMER to_erp: finished") < pos("full-sync CONTACT to_crm: started"));

    // The metrics the dashboards read.
    let m = couplet::metrics::metrics();
    let total = m.full_sync_total.with_label_values(&["CONTACT"]).get();
    assert!(total > 0);
    assert_eq!(
        m.full_sync_done.with_label_values(&["CONTACT"]).get(),
        total
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_full_sync_resumes_without_redoing_or_duplicating() {
    init_tracing();
    let sb = Sandbox::start(SandboxConfig {
        records: 300,
        seed: 62,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("couplet.toml");
    std::fs::write(
        &config,
        build::sandbox_config_text(&sb, &dir.path().join("data")),
    )
    .unwrap();
    let exe = env!("CARGO_BIN_EXE_couplet");

    // First run: killed once the CONTACT job started.
    let mut child = Command::new(exe)
        .args(["full-sync", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let first: Vec<String> = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(out).lines() {
            let line = line.unwrap();
            let stop = line.starts_with("full-sync CONTACT to_crm: started");
            seen.push(line);
            if stop {
                break;
            }
        }
        seen
    })
    .await
    .unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("full-sync CONTACT to_crm: started")),
        "{first:#?}"
    );

    // Second run: resumes.
    let out = tokio::task::spawn_blocking(move || {
        Command::new(exe)
            .args(["full-sync", "--config"])
            .arg(&config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Resuming full-sync session"), "{text}");
    for dir in ["to_crm", "to_erp"] {
        assert!(
            text.contains(&format!(
                "full-sync CUSTOMER {dir}: finished in an earlier run; not redone"
            )),
            "{text}"
        );
        assert!(
            !text.contains(&format!("full-sync CUSTOMER {dir}: started")),
            "{text}"
        );
    }
    assert!(text.contains("full-sync CONTACT to_crm: started"), "{text}");
    assert!(
        text.contains("full-sync CONTACT to_erp: finished"),
        "{text}"
    );

    no_duplicates(&sb);
    let store = Store::open(&dir.path().join("data").join("projection")).unwrap();
    let catalogue = Catalogue::defaults()
        .unwrap()
        .select(&["CUSTOMER".to_string(), "CONTACT".to_string()])
        .unwrap();
    for m in checks(&sb, &store, &catalogue) {
        assert!(m.ok(), "{}", describe_check(&m));
    }
}
