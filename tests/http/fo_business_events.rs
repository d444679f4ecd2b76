//! Couplet's F&O Business Events receiver fed by the sandbox's publisher over real HTTP:
//! changes made in F&O wake the customers' poll once each, duplicate deliveries are counted
//! and do not wake, a wrong secret gets 401 (and the event lands in F&O's error log), a
//! resent event is accepted once, and an overtaken one is stale.

use std::time::{Duration, Instant};

use couplet::event::Fields;
use couplet::sandbox::{BusinessEventsConfig, FoConfig, Sandbox, SandboxConfig};
use couplet::systems::Secret;
use couplet::systems::fo::events::{
    BusinessEventsConfig as ReceiverConfig, EventStats, Receiver, Wakes,
};
use futures::FutureExt;
use serde_json::{Value, json};
use tokio::sync::Notify;

const SECRET: &str = "s3cret";

async fn receiver(secret: &str, wakes: &Wakes) -> Receiver {
    let cfg = ReceiverConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret: Some(Secret::new(secret)),
        ..Default::default()
    };
    Receiver::start(&cfg, wakes.clone()).await.unwrap()
}

/// Waits (at most 10 s) until `cond` holds.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits (at most 5 s) for a wake-up.
async fn woken(wake: &Notify, what: &str) {
    tokio::time::timeout(Duration::from_secs(5), wake.notified())
        .await
        .unwrap_or_else(|_| panic!("no wake-up for {what}"));
}

fn no_pending_wake(wake: &Notify) -> bool {
    wake.notified().now_or_never().is_none()
}

/// Changes one customer as a person would, which raises one business event.
fn touch(sb: &Sandbox, key: &str, n: u32) {
    let patch: Fields = json!({"PrimaryContactPhone": format!("+1 555 01{n:02}")})
        .as_object()
        .cloned()
        .unwrap();
    sb.fo_update_row("CustomersV3", key, patch).unwrap();
}

fn delta(after: EventStats, before: EventStats) -> [u64; 6] {
    [
        after.accepted - before.accepted,
        after.duplicate - before.duplicate,
        after.stale - before.stale,
        after.ignored - before.ignored,
        after.unauthorized - before.unauthorized,
        after.malformed - before.malformed,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fo_business_events_wake_the_poll_once_per_change() {
    let sb = Sandbox::start(SandboxConfig {
        records: 5,
        fo: FoConfig {
            events: BusinessEventsConfig {
                // The 2nd, 4th, … event is delivered twice.
                duplicate_every: Some(2),
                secret: SECRET.into(),
                retry_interval: Duration::from_millis(20),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let customers = sb.fo_rows("CustomersV3");
    assert!(customers.len() >= 2, "{customers:?}");
    let key = |r: &Fields| {
        let area = r["dataAreaId"].as_str().unwrap();
        let account = r["CustomerAccount"].as_str().unwrap();
        (
            format!("dataAreaId='{area}',CustomerAccount='{account}'"),
            account.to_string(),
        )
    };
    let (key_a, account_a) = key(&customers[0]);
    let (key_b, account_b) = key(&customers[1]);

    let wakes = Wakes::new();
    let wake = wakes.subscribe("CustomersV3");
    let products = wakes.subscribe("ReleasedProductsV2");
    let good = receiver(SECRET, &wakes).await;
    let bad = receiver("not-the-secret", &wakes).await;
    sb.fo_register_endpoint(&good.url());

    // Event 1, delivered once: accepted, wakes the customers' poll only.
    touch(&sb, &key_a, 1);
    woken(&wake, "the first change").await;
    until("event 1 accepted", || good.stats().accepted == 1).await;
    assert!(no_pending_wake(&products));

    // Event 2, delivered twice: one wake, one duplicate.
    touch(&sb, &key_a, 2);
    woken(&wake, "the second change").await;
    until("event 2's second delivery", || good.stats().duplicate == 1).await;
    assert_eq!(
        delta(good.stats(), EventStats::default()),
        [2, 1, 0, 0, 0, 0]
    );
    assert!(no_pending_wake(&wake), "the duplicate woke the poll again");

    // Event 3 to an endpoint that refuses the secret: 401 on each of F&O's four attempts,
    // then F&O keeps it in its error log.
    sb.fo_register_endpoint(&bad.url());
    touch(&sb, &key_b, 3);
    until("event 3 in F&O's error log", || {
        sb.fo_failed_events().len() == 1
    })
    .await;
    let failed = sb.fo_failed_events();
    assert_eq!(failed[0]["CustomerAccount"], json!(account_b));
    assert_eq!(
        delta(bad.stats(), EventStats::default()),
        [0, 0, 0, 0, 4, 0]
    );
    assert!(no_pending_wake(&wake), "a refused event woke the poll");

    // Resent to the right endpoint: accepted once.
    sb.fo_register_endpoint(&good.url());
    let before = good.stats();
    assert_eq!(sb.fo_resend_failed_events(), 1);
    woken(&wake, "the resent event").await;
    until("the resent event accepted", || {
        good.stats().accepted == before.accepted + 1
    })
    .await;
    assert!(sb.fo_failed_events().is_empty());
    // The same body again (another Resend path): a duplicate.
    let again = reqwest::Client::new()
        .post(good.url())
        .header("x-couplet-event-secret", SECRET)
        .json(&failed[0])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["outcome"], "duplicate");
    assert_eq!(delta(good.stats(), before), [1, 1, 0, 0, 0, 0]);

    // Event 4 (delivered twice) fails into the error log; event 5 for the same customer is
    // accepted; resending event 4 then brings an older change: stale, then a duplicate.
    sb.fo_register_endpoint(&bad.url());
    touch(&sb, &key_a, 4);
    until("event 4 twice in the error log", || {
        sb.fo_failed_events().len() == 2
    })
    .await;
    let overtaken = sb.fo_failed_events();
    assert_eq!(overtaken[0]["EventId"], overtaken[1]["EventId"]);
    sb.fo_register_endpoint(&good.url());
    let before = good.stats();
    touch(&sb, &key_a, 5);
    woken(&wake, "the fifth change").await;
    until("event 5 accepted", || {
        good.stats().accepted == before.accepted + 1
    })
    .await;
    assert_eq!(sb.fo_resend_failed_events(), 2);
    until("the overtaken event judged", || {
        let s = good.stats();
        s.stale + s.duplicate == before.stale + before.duplicate + 2
    })
    .await;
    assert_eq!(delta(good.stats(), before), [1, 1, 1, 0, 0, 0]);
    assert!(no_pending_wake(&wake), "a stale event woke the poll");
    assert!(sb.fo_failed_events().is_empty());
    assert_eq!(overtaken[0]["CustomerAccount"], json!(account_a));

    let text = couplet::metrics::metrics().render();
    for outcome in ["accepted", "duplicate", "stale", "unauthorized"] {
        let line = format!("couplet_fo_business_events_total{{outcome=\"{outcome}\"}}");
        assert!(text.contains(&line), "{line} missing");
    }
    good.shutdown().await;
    bad.shutdown().await;
    sb.shutdown().await;
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// With `tls_cert` and `tls_key` the receiver serves HTTPS itself: the sandbox's F&O (trusting
/// the test CA) posts to the `https://` URL and the event wakes the poll; a plain-HTTP request
/// to that port gets no answer, and a half-configured TLS is refused, naming the setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_serves_https_itself() {
    let sb = Sandbox::start(SandboxConfig {
        records: 3,
        fo: FoConfig {
            events: BusinessEventsConfig {
                secret: SECRET.into(),
                retry_interval: Duration::from_millis(20),
                trust_root_pem: Some(std::fs::read(fixture("ca.pem")).unwrap()),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let wakes = Wakes::new();
    let cfg = ReceiverConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret: Some(Secret::new(SECRET)),
        tls_cert: Some(fixture("leaf.pem")),
        tls_key: Some(fixture("leaf.key")),
        ..Default::default()
    };
    let r = Receiver::start(&cfg, wakes.clone()).await.unwrap();
    assert!(r.url().starts_with("https://127.0.0.1:"), "{}", r.url());
    let wake = wakes.subscribe("CustomersV3");
    sb.fo_register_endpoint(&r.url());
    touch(&sb, "dataAreaId='usmf',CustomerAccount='C00001'", 1);
    woken(&wake, "an event over HTTPS").await;
    until("the event counted", || r.stats().accepted == 1).await;
    assert!(sb.fo_failed_events().is_empty());
    // Plain HTTP to the TLS port is not served.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
        .post(r.url().replacen("https://", "http://", 1))
        .header("x-couplet-event-secret", SECRET)
        .body("{}")
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");
    r.shutdown().await;
    // Half a TLS configuration is a configuration error naming the missing key.
    let half = ReceiverConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret: Some(Secret::new(SECRET)),
        tls_cert: Some(fixture("leaf.pem")),
        ..Default::default()
    };
    let Err(e) = Receiver::start(&half, Wakes::new()).await else {
        panic!("half a TLS configuration was taken");
    };
    assert!(e.to_string().contains("tls_key"), "{e}");
    sb.shutdown().await;
}
