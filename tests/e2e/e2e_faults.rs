//! End-to-end: a storm of 429s (Retry-After honoured) and a burst of 503s on both systems in
//! the middle of live edits are ridden out without errors.

use std::time::{Duration, Instant};

use crate::common::*;
use couplet::sandbox::Fault;
use serde_json::json;

/// Edits `n` coupled records on each side (telephone numbers), tagged with `round`.
fn edit_both_sides(h: &Harness, round: u32, n: usize) {
    // Different pairs on each side: a pair edited on both sides is an update conflict.
    let mut edited = Vec::new();
    for i in 0..n {
        let acc = coupled(h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", i);
        h.sb.update_row(
            couplet::systems::DATAVERSE,
            "accounts",
            &acc,
            patch("telephone1", json!(format!("+1 555 {round:02}{i:02}"))),
        )
        .unwrap();
        edited.push(acc);
    }
    let mut skip = 0;
    for i in 0..n {
        let cust = loop {
            let c = coupled(h, "CUSTOMER", couplet::systems::BC, "customers", skip);
            skip += 1;
            if !edited.contains(&h.coupled_id("CUSTOMER", couplet::systems::BC, &c)) {
                break c;
            }
        };
        h.sb.update_row(
            couplet::systems::BC,
            "customers",
            &cust,
            patch("phoneNumber", json!(format!("+45 70 {round:02} {i:02}"))),
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_is_ridden_out() {
    let mut h = Harness::start(25, 41).await;
    h.wait_idle(IDLE_TIMEOUT).await;

    // The same round of edits without faults, for comparison.
    let t = Instant::now();
    edit_both_sides(&h, 1, 4);
    h.wait_idle(IDLE_TIMEOUT).await;
    let baseline = t.elapsed();

    let throttled = (
        h.sb.stats(couplet::systems::DATAVERSE).throttled,
        h.sb.stats(couplet::systems::BC).throttled,
    );
    let t = Instant::now();
    edit_both_sides(&h, 2, 4);
    for s in [couplet::systems::DATAVERSE, couplet::systems::BC] {
        h.sb.inject(
            s,
            Fault::Throttle {
                count: 20,
                retry_after: Duration::from_secs(1),
            },
        );
    }
    h.wait_idle(IDLE_TIMEOUT).await;
    let stormy = t.elapsed();
    eprintln!("edits settled in {baseline:?} without faults, {stormy:?} in the 429 storm");

    assert!(h.sb.stats(couplet::systems::DATAVERSE).throttled - throttled.0 >= 20);
    assert!(h.sb.stats(couplet::systems::BC).throttled - throttled.1 >= 20);
    // Every 429 said Retry-After: 1; honouring it costs at least that second.
    assert!(
        stormy >= Duration::from_secs(1) && stormy >= baseline + Duration::from_millis(800),
        "settled in {stormy:?} (baseline {baseline:?}): Retry-After was not honoured"
    );
    assert_eq!(
        text(
            &h.row(
                couplet::systems::BC,
                "customers",
                &h.coupled_id(
                    "CUSTOMER",
                    couplet::systems::DATAVERSE,
                    &coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 3)
                )
            ),
            "phoneNumber"
        ),
        "+1 555 0203"
    );
    h.assert_in_sync();
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_burst_is_ridden_out() {
    let mut h = Harness::start(25, 42).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    edit_both_sides(&h, 3, 4);
    for s in [couplet::systems::DATAVERSE, couplet::systems::BC] {
        h.sb.inject(s, Fault::Unavailable { count: 4 });
    }
    h.wait_idle(IDLE_TIMEOUT).await;
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 2);
    assert_eq!(
        text(
            &h.row(
                couplet::systems::BC,
                "customers",
                &h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc)
            ),
            "phoneNumber"
        ),
        "+1 555 0302"
    );
    h.assert_in_sync();
    h.stop_engine().await;
}

/// A Dataverse outage far longer than one write's retries (each write gives up after 3
/// attempts here; Dataverse answers 503 without `Retry-After` to the next 60 requests) while
/// customers are created in Business Central: the writes wait for Dataverse, nothing lands in
/// the errors list, and once it answers the customers are accounts, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_is_waited_out_not_listed_as_errors() {
    let tweak: Tweak = std::sync::Arc::new(|cfg: &mut couplet::config::Config| {
        cfg.http.max_attempts = 3;
        cfg.http.backoff_base = Duration::from_millis(50);
    });
    let mut h = Harness::start_erp_with(
        "bc",
        couplet::sandbox::SandboxConfig {
            records: 10,
            seed: 17,
            ..Default::default()
        },
        Some(tweak),
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.sb.inject(
        couplet::systems::DATAVERSE,
        Fault::Unavailable { count: 60 },
    );
    let mut made = Vec::new();
    for i in 0..3 {
        let name = format!("Outage Survivor {i}");
        h.sb.insert_row(
            couplet::systems::BC,
            "customers",
            patch("displayName", json!(name)),
        )
        .unwrap();
        made.push(name);
    }
    // While Dataverse is down, the writes wait: visible as waiting, never as errors.
    let waited = wait_for(Duration::from_secs(30), || {
        couplet::waits::waiting()
            .into_iter()
            .find(|w| w.system == "dataverse" && w.records > 0)
    })
    .await
    .expect("records wait for Dataverse");
    assert!(waited.last_error.contains("unavailable"), "{waited:?}");
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.wait_idle(Duration::from_secs(120)).await;
    for name in &made {
        let n = customer_accounts(&h.sb)
            .iter()
            .filter(|a| text(a, "name") == *name)
            .count();
        assert_eq!(n, 1, "{name} is an account once");
    }
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    assert!(
        !couplet::waits::waiting()
            .iter()
            .any(|w| w.system == "dataverse"),
        "nothing waits once Dataverse answers"
    );
    h.assert_in_sync();
    h.stop_engine().await;
}

/// A stop while a write waits for a system that does not answer ends within the configured
/// grace (2 s here; each write attempt cycle alone takes ~25 s against 503s), and loses nothing:
/// the waiting change is read again on the next start and written once the system answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_a_target_is_down_is_bounded_and_loses_nothing() {
    let tweak: Tweak = std::sync::Arc::new(|cfg: &mut couplet::config::Config| {
        cfg.sync.shutdown_grace_secs = 2.0;
    });
    let mut h = Harness::start_erp_with(
        "bc",
        couplet::sandbox::SandboxConfig {
            records: 6,
            seed: 19,
            ..Default::default()
        },
        Some(tweak),
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.sb.inject(
        couplet::systems::DATAVERSE,
        Fault::Unavailable { count: 1_000_000 },
    );
    let name = "Stopped Mid Outage";
    h.sb.insert_row(
        couplet::systems::BC,
        "customers",
        patch("displayName", json!(name)),
    )
    .unwrap();
    wait_for(Duration::from_secs(30), || {
        couplet::waits::waiting()
            .into_iter()
            .find(|w| w.system == "dataverse" && w.records > 0)
    })
    .await
    .expect("the write waits for Dataverse");
    let started = Instant::now();
    h.stop_engine().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "the stop took {took:?}");
    // The outage ends; the next start writes the change, once, and lists nothing as an error.
    h.sb.clear_faults(couplet::systems::DATAVERSE);
    h.start_engine().await;
    h.wait_idle(Duration::from_secs(90)).await;
    let n = customer_accounts(&h.sb)
        .iter()
        .filter(|a| text(a, "name") == name)
        .count();
    assert_eq!(n, 1, "the customer is an account once");
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.assert_in_sync();
    h.stop_engine().await;
}
