//! The chaos suite on a short schedule (`couplet bench chaos` runs the long one through the
//! same driver): a full synchronisation of a seeded world plus live edits on both sides, while
//! at least 150 faults of every kind are served and `couplet run` is SIGKILLed and restarted
//! twice; then both sides must be equal, every record coupled once, no twin, nothing in error
//! or parked.

use std::path::PathBuf;
use std::time::Duration;

use couplet::cli::bench::chaos::{ChaosOptions, render, run};
use couplet::sandbox::FaultKind;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_short() {
    let mut o = ChaosOptions::new(PathBuf::from(env!("CARGO_BIN_EXE_couplet")));
    o.seed = 17;
    o.faults = 150;
    o.kills = 2;
    o.records = 80;
    o.edit_rounds = 4;
    o.updates_per_round = 4;
    o.max_chaos = Duration::from_secs(240);
    o.settle = Duration::from_secs(90);
    let report = run(o).await.expect("the chaos run runs");
    let text = render(&report);
    println!("{text}");
    assert!(report.total_faults() >= 150, "{text}");
    assert_eq!(report.kills.len(), 2, "{text}");
    for kind in [
        FaultKind::Throttle,
        FaultKind::ServerError,
        FaultKind::Slow,
        FaultKind::ResetRequest,
        FaultKind::ResetResponse,
        FaultKind::Timeout,
        FaultKind::Truncated,
        FaultKind::MalformedBody,
    ] {
        assert!(
            report.of_kind(kind) > 0,
            "no {} served\n{text}",
            kind.name()
        );
    }
    assert!(report.passed(), "{text}");
}
