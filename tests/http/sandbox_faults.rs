//! The sandbox's injected network and server faults over real HTTP, with a plain client whose
//! timeout is short: each is served to the requests it targets only, behaves as a real
//! service's failure does (a write made before a lost answer is made), and is counted.

use std::time::{Duration, Instant};

use couplet::sandbox::{Fault, FaultKind, Lost, Requests, Sandbox, SandboxConfig};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::sandbox_support::bearer;

const DV: couplet::event::System = couplet::systems::DATAVERSE;

fn served(sb: &Sandbox, kind: FaultKind) -> u64 {
    sb.faults_served(DV)
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, n)| n)
        .unwrap_or(0)
}

fn accounts(sb: &Sandbox) -> usize {
    sb.rows(DV, "accounts").len()
}

#[tokio::test]
async fn network_and_server_faults_are_served_to_their_requests_and_counted() {
    let sb = Sandbox::start(SandboxConfig {
        records: 4,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let tok = bearer(&c, &sb, sb.dataverse_url().trim_end_matches('/')).await;
    let base = format!("{}api/data/v9.2/", sb.dataverse_url());
    let list = || c.get(format!("{base}accounts")).bearer_auth(&tok).send();
    let create = |name: &str| {
        c.post(format!("{base}accounts"))
            .bearer_auth(&tok)
            .header("Prefer", "return=representation")
            .json(&json!({"name": name}))
            .send()
    };

    // A 502 burst with no Retry-After on writes: a GET passes, two writes get the gateway's
    // page and make nothing.
    sb.inject(
        DV,
        Fault::ServerError {
            count: 2,
            status: 502,
            retry_after: None,
            on: Requests::Write,
        },
    );
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);
    let before = accounts(&sb);
    for _ in 0..2 {
        let r = create("Gateway Ltd").await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        assert!(r.headers().get("retry-after").is_none());
    }
    assert_eq!(
        accounts(&sb),
        before,
        "a 5xx before the service makes nothing"
    );
    assert_eq!(
        create("Gateway Ltd").await.unwrap().status(),
        StatusCode::CREATED
    );
    sb.inject(
        DV,
        Fault::ServerError {
            count: 1,
            status: 503,
            retry_after: Some(Duration::from_secs(3)),
            on: Requests::Any,
        },
    );
    let r = list().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(served(&sb, FaultKind::ServerError), 3);

    // A timeout on a write: the client gives up, the record is made all the same.
    let before = accounts(&sb);
    sb.inject(
        DV,
        Fault::Timeout {
            count: 1,
            hold: Duration::from_secs(2),
            on: Requests::Write,
        },
    );
    let e = create("Late Answer Ltd").await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(accounts(&sb), before + 1);

    // A reset before the service: nothing made; after it: made, the answer lost.
    let before = accounts(&sb);
    sb.inject(
        DV,
        Fault::Reset {
            count: 1,
            lost: Lost::Request,
            on: Requests::Write,
        },
    );
    let e = create("Lost Request Ltd").await.unwrap_err();
    assert!(!e.is_timeout(), "a closed connection, not a timeout: {e}");
    assert_eq!(accounts(&sb), before);
    sb.inject(
        DV,
        Fault::Reset {
            count: 1,
            lost: Lost::Response,
            on: Requests::Write,
        },
    );
    assert!(create("Lost Answer Ltd").await.is_err());
    assert_eq!(accounts(&sb), before + 1);
    assert_eq!(served(&sb, FaultKind::ResetRequest), 1);
    assert_eq!(served(&sb, FaultKind::ResetResponse), 1);

    // A slow answer within the timeout arrives.
    sb.inject(
        DV,
        Fault::Slow {
            count: 1,
            delay: Duration::from_millis(300),
            on: Requests::Collection,
        },
    );
    let t = Instant::now();
    assert_eq!(list().await.unwrap().status(), StatusCode::OK);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // A truncated collection page: the status and headers arrive, the body does not.
    sb.inject(
        DV,
        Fault::Truncated {
            count: 1,
            on: Requests::Collection,
        },
    );
    let r = list().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.is_err(), "the body is cut short");

    // A single-record GET's body as a gateway page, not JSON; the next one is fine.
    let id = sb.rows(DV, "accounts")[0]["accountid"]
        .as_str()
        .unwrap()
        .to_string();
    sb.inject(
        DV,
        Fault::MalformedBody {
            count: 1,
            on: Requests::Single,
        },
    );
    let one = || {
        c.get(format!("{base}accounts({id})"))
            .bearer_auth(&tok)
            .send()
    };
    let r = one().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());
    assert!(one().await.unwrap().json::<Value>().await.is_ok());

    for (kind, n) in [
        (FaultKind::Timeout, 1),
        (FaultKind::Slow, 1),
        (FaultKind::Truncated, 1),
        (FaultKind::MalformedBody, 1),
    ] {
        assert_eq!(served(&sb, kind), n, "{kind:?}");
    }
    assert_eq!(sb.faults_pending(DV), 0);
    sb.shutdown().await;
}
