//! The chaos suite on Kafka, on a short schedule: the same driver as `chaos_short` (faults of
//! every kind into both systems, `couplet run` SIGKILLed and restarted), on a Tansu broker of
//! the run's own (SQLite storage, a free loopback port) that is SIGKILLed and restarted twice
//! in the middle of it; then both sides must be equal, every record coupled once, no twin,
//! nothing in error or parked. It fails, not skips, when Tansu with SQLite storage is missing
//! (`.ci/run` installs it; the message names the install command).

use std::path::PathBuf;
use std::time::Duration;

use couplet::cli::bench::chaos::{ChaosOptions, KafkaChaos, default_tansu, render, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_short_on_kafka_with_broker_restarts() {
    let mut o = ChaosOptions::new(PathBuf::from(env!("CARGO_BIN_EXE_couplet")));
    o.seed = 23;
    o.faults = 120;
    o.kills = 1;
    o.records = 60;
    o.edit_rounds = 4;
    o.updates_per_round = 4;
    o.max_chaos = Duration::from_secs(300);
    o.settle = Duration::from_secs(150);
    o.kafka = Some(KafkaChaos {
        tansu: default_tansu(),
        restarts: 2,
    });
    let report = run(o).await.expect("the chaos run runs");
    let text = render(&report);
    println!("{text}");
    assert_eq!(report.bus, "kafka", "{text}");
    assert!(report.total_faults() >= 120, "{text}");
    assert_eq!(report.kills.len(), 1, "{text}");
    assert_eq!(report.broker_restarts.len(), 2, "{text}");
    assert!(report.passed(), "{text}");
}
