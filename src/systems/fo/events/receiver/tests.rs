use std::time::Duration;

use futures::FutureExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::systems::Secret;

const HEADER: &str = "x-couplet-event-secret";

async fn start(max_body_bytes: usize) -> (Receiver, Wakes) {
    let cfg = BusinessEventsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        secret: Some(Secret::new("s3cret")),
        max_body_bytes,
        ..Default::default()
    };
    let wakes = Wakes::new();
    (Receiver::start(&cfg, wakes.clone()).await.unwrap(), wakes)
}

fn event(event_id: &str, control: u64, account: &str) -> Value {
    json!({
        "BusinessEventId": "CustomerChangedBusinessEvent",
        "BusinessEventLegalEntity": "USMF",
        "ControlNumber": control,
        "EventId": event_id,
        "EventTime": "/Date(1672408275000)/",
        "DataAreaId": "usmf",
        "CustomerAccount": account,
        "ChangeType": "Updated"
    })
}

async fn post(r: &Receiver, secret: Option<&str>, body: String) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(r.url()).body(body);
    if let Some(s) = secret {
        req = req.header(HEADER, s);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

const A: &str = "3C47A4CD-6EDC-4319-B893-3F862EED65FD";
const B: &str = "5D2B6C1E-0000-4000-8000-000000000002";
const C: &str = "5D2B6C1E-0000-4000-8000-000000000003";

#[tokio::test]
async fn fresh_events_wake_and_repeats_are_answered_200_without_waking() {
    let (r, wakes) = start(64 * 1024).await;
    let wake = wakes.subscribe("CustomersV3");
    let products = wakes.subscribe("ReleasedProductsV2");
    let (status, body) = post(&r, Some("s3cret"), event(A, 200, "C1").to_string()).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("accepted")));
    assert!(wake.notified().now_or_never().is_some(), "woken");
    assert!(products.notified().now_or_never().is_none());

    let (status, body) = post(&r, Some("s3cret"), event(A, 200, "C1").to_string()).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("duplicate")));
    let (status, body) = post(&r, Some("s3cret"), event(B, 150, "C1").to_string()).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("stale")));
    assert!(
        wake.notified().now_or_never().is_none(),
        "no wake for a repeat"
    );

    let mut other = event(C, 300, "C1");
    other["BusinessEventId"] = json!("SalesOrderConfirmedBusinessEvent");
    let (status, body) = post(&r, Some("s3cret"), other.to_string()).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("ignored")));
    assert!(wake.notified().now_or_never().is_none());

    let s = r.stats();
    assert_eq!((s.accepted, s.duplicate, s.stale, s.ignored), (1, 1, 1, 1));
    r.shutdown().await;
}

#[tokio::test]
async fn a_missing_or_wrong_secret_gets_401_and_a_bad_body_400_or_413() {
    let (r, wakes) = start(1024).await;
    let wake = wakes.subscribe("CustomersV3");
    let body = event(A, 1, "C1").to_string();
    assert_eq!(post(&r, None, body.clone()).await.0, 401);
    assert_eq!(post(&r, Some("wrong"), body.clone()).await.0, 401);
    assert!(wake.notified().now_or_never().is_none());

    let (status, v) = post(&r, Some("s3cret"), "{not json".into()).await;
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("not JSON"), "{v}");
    let mut no_number = event(A, 1, "C1");
    no_number.as_object_mut().unwrap().remove("ControlNumber");
    let (status, v) = post(&r, Some("s3cret"), no_number.to_string()).await;
    assert_eq!(status, 400);
    assert!(
        v["message"].as_str().unwrap().contains("ControlNumber"),
        "{v}"
    );
    assert_eq!(post(&r, Some("s3cret"), "x".repeat(4096)).await.0, 413);

    let s = r.stats();
    assert_eq!((s.unauthorized, s.malformed, s.accepted), (2, 3, 0));
    // The refused event was not remembered: delivered properly, it is accepted.
    assert_eq!(post(&r, Some("s3cret"), body).await.0, 200);
    assert_eq!(r.stats().accepted, 1);
    r.shutdown().await;
}

#[tokio::test]
async fn the_secret_is_checked_before_the_body_is_read() {
    let (r, _wakes) = start(64 * 1024).await;
    let mut stream = tokio::net::TcpStream::connect(r.local_addr())
        .await
        .unwrap();
    // Announce a body and never send it: the 401 must come anyway.
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: x\r\n{HEADER}: wrong\r\ncontent-type: application/json\r\ncontent-length: 50000\r\n\r\n{{",
        "/fo/business-events"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("answered without the body")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    r.shutdown().await;
}

#[tokio::test]
async fn start_refuses_a_config_without_a_secret_and_a_taken_port() {
    let cfg = BusinessEventsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let e = Receiver::start(&cfg, Wakes::new()).await.unwrap_err();
    assert_eq!(e.class(), "config");
    let (r, _) = start(1024).await;
    let cfg = BusinessEventsConfig {
        listen: r.local_addr(),
        secret: Some(Secret::new("x")),
        ..Default::default()
    };
    let e = Receiver::start(&cfg, Wakes::new()).await.unwrap_err();
    assert_eq!(e.class(), "bind");
    assert!(e.to_string().contains(&r.local_addr().to_string()), "{e}");
    r.shutdown().await;
}
