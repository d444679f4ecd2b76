//! `couplet mappings dry-run` on Kafka beside a running instance: the instance synchronises the
//! sandbox, then the dry-run (the binary) replays the log through a file with a rule added to
//! one field. The report names exactly that field; the instance keeps running; the event topics
//! and changelogs gain no message and its consumer groups' committed offsets do not move.

use std::process::Command;
use std::time::Duration;

use couplet::bus::Bus;
use couplet::sandbox::{Sandbox, SandboxConfig};

use crate::common::defaults_with;
use crate::common::instances::{Instance, expected, unique_prefix, wait_converged, write_config};

/// End offsets of the topics the dry-run reads, and the instance's committed offsets.
async fn offsets(bus: &dyn Bus, t: &couplet::bus::Topics) -> Vec<(String, Vec<Option<u64>>)> {
    let mut all = Vec::new();
    for topic in [
        &t.changes,
        &t.commands,
        &t.outcomes,
        &t.dlq,
        &t.couplings,
        &t.parked,
    ] {
        let ends = bus.end_offsets(topic).await.unwrap();
        all.push((format!("end {topic}"), ends.into_iter().map(Some).collect()));
    }
    for group in ["transform", "apply"] {
        let g = t.group(group);
        for topic in [&t.changes, &t.commands] {
            all.push((
                format!("committed {g} {topic}"),
                bus.committed(&g, topic).await.unwrap(),
            ));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_beside_a_running_instance_disturbs_nothing() {
    let brokers = std::env::var("COUPLET_KAFKA_BROKERS").unwrap_or_else(|_| {
        panic!("COUPLET_KAFKA_BROKERS is not set: start a broker with `scripts/kafka-broker.sh start` and export COUPLET_KAFKA_BROKERS=127.0.0.1:19092")
    });
    let sb = Sandbox::start(SandboxConfig {
        records: 10,
        seed: 31,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(&sb, dir.path(), &unique_prefix("dryrun"), &brokers);
    let log = dir.path().join("instance.log");
    let mut instance = Instance::spawn(&config, &log);
    wait_converged(&sb, expected(&sb), Duration::from_secs(180), || {
        instance
            .0
            .try_wait()
            .unwrap()
            .map_or(Ok(()), |s| Err(format!("the instance exited: {s}")))
    })
    .await;

    let cfg = couplet::config::Config::load(&config).unwrap();
    let bus = couplet::cli::build::connect_bus(&cfg).await.unwrap();
    let topics = couplet::bus::Topics::new(&cfg.bus.topic_prefix);
    // Settled: the same offsets twice, 3 s apart.
    let mut before = offsets(bus.as_ref(), &topics).await;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_secs(3)).await;
        let again = offsets(bus.as_ref(), &topics).await;
        if again == before {
            break;
        }
        before = again;
    }

    let file = dir.path().join("new-mappings.toml");
    std::fs::write(
        &file,
        defaults_with(
            "CUSTOMER",
            "crm = \"name\"\n  erp = \"displayName\"",
            "crm = \"name\"\n  erp = \"displayName\"\n  rules = [\"upper\"]",
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(["mappings", "dry-run", "--config"])
        .arg(&config)
        .arg("--mappings")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["backend"], "kafka");
    let customer = &r["mappings"]["CUSTOMER"];
    let changed = customer["verdicts"]["changed"].as_u64().unwrap_or(0);
    assert!(changed > 0, "{r:#}");
    assert_eq!(customer["fields_changed"].as_u64(), Some(changed), "{r:#}");
    assert_eq!(customer["fields_added"].as_u64(), Some(0), "{r:#}");
    assert_eq!(customer["fields_removed"].as_u64(), Some(0), "{r:#}");
    let records = r["records"].as_array().unwrap();
    assert!(!records.is_empty());
    for rec in records {
        for c in rec["changes"].as_array().unwrap() {
            assert_eq!(c["verdict"], "changed", "{c:#}");
            for f in c["fields"].as_array().unwrap() {
                assert!(f["field"] == "displayName" || f["field"] == "name", "{f:#}");
                let was = f["was"].as_str().unwrap();
                assert_eq!(f["would_be"].as_str(), Some(was.to_uppercase().as_str()));
            }
        }
    }
    let contact = &r["mappings"]["CONTACT"];
    assert_eq!(
        contact["verdicts"]["same"], contact["changes"],
        "{contact:#}"
    );

    // The instance runs on, and nothing moved.
    instance.assert_running("the instance", &log);
    assert_eq!(offsets(bus.as_ref(), &topics).await, before);
    instance.signal("TERM");
    let _ = instance.0.wait();
}
