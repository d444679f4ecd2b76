//! `/status` on the running instance's listener (`[metrics] listen`): the systems it writes
//! to and, for each, whether it answers or since when records wait for it (throttled,
//! unavailable), and how many. `couplet status` asks it, as the projection it would read
//! otherwise is locked by `couplet run`.
//!
//! Everyone may see the systems, states, times and counts (the same as the metrics
//! `couplet_target_waiting_records` and `couplet_target_unavailable_since_seconds`); the last
//! fault's text, which can name internal URLs with tenant and company ids, only a caller
//! presenting the `/readyz` detail token (`Authorization: Bearer …`, `[metrics]
//! detail_token_env`).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The path served.
pub const PATH: &str = "/status";

/// Whether a system answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemState {
    /// No record waits for it.
    Answering,
    /// Records wait for it (it is throttled, or does not answer).
    Waiting,
}

/// One system of the running instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// The system's name (`dataverse`, `bc`, `fo`).
    pub system: String,
    /// Answering or waited for.
    pub state: SystemState,
    /// Since when records wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// The class of the last fault: `throttled`, `unavailable` or `malformed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// The records waiting for it.
    pub records: usize,
    /// The last fault, in words (only with the detail token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The body of `/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// When the instance answered.
    pub at: DateTime<Utc>,
    /// Each system it writes to, by name.
    pub systems: Vec<SystemStatus>,
}

/// The report now; the faults' texts only `with_detail`.
pub fn report(with_detail: bool) -> StatusReport {
    let waiting = crate::waits::waiting();
    let systems = crate::waits::systems()
        .into_iter()
        .map(|system| match waiting.iter().find(|w| w.system == system) {
            Some(w) => SystemStatus {
                system,
                state: SystemState::Waiting,
                since: Some(w.since),
                class: Some(w.class.clone()).filter(|c| !c.is_empty()),
                records: w.records,
                detail: with_detail.then(|| w.last_error.clone()),
            },
            None => SystemStatus {
                system,
                state: SystemState::Answering,
                since: None,
                class: None,
                records: 0,
                detail: None,
            },
        })
        .collect();
    StatusReport {
        at: Utc::now(),
        systems,
    }
}

/// The digest of a detail token (compared as digests, so the comparison takes the same time
/// whatever the token sent).
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(token.trim().as_bytes()).into()
}

/// True when `headers` present the token whose digest is `want` as `Authorization: Bearer`.
pub fn presents_token(want: Option<&[u8; 32]>, headers: &HeaderMap) -> bool {
    let Some(want) = want else {
        return false;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| token_digest(t) == *want)
}

async fn status(State(token): State<Option<[u8; 32]>>, headers: HeaderMap) -> Response {
    axum::Json(report(presents_token(token.as_ref(), &headers))).into_response()
}

/// The `/status` route, its details unlocked by the token whose digest is `detail_token`.
pub fn router(detail_token: Option<[u8; 32]>) -> Router {
    Router::new()
        .route(PATH, get(status))
        .with_state(detail_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_are_listed_and_their_faults_only_with_the_token() {
        crate::waits::watch("status-test-up");
        crate::waits::wait(
            "status-test-down",
            "dataverse/accounts/x",
            "unavailable",
            "HTTP 500 from https://internal/tenant-x",
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = router(Some(token_digest("tok")));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::new();
        let ask = |token: Option<&'static str>| {
            let mut r = http.get(format!("http://{addr}{PATH}"));
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            async move {
                r.send()
                    .await
                    .unwrap()
                    .json::<StatusReport>()
                    .await
                    .unwrap()
            }
        };
        let find =
            |r: &StatusReport, s: &str| r.systems.iter().find(|x| x.system == s).cloned().unwrap();
        for token in [None, Some("wrong")] {
            let r = ask(token).await;
            assert_eq!(find(&r, "status-test-up").state, SystemState::Answering);
            let down = find(&r, "status-test-down");
            assert_eq!(
                (down.state, down.records, down.class.as_deref()),
                (SystemState::Waiting, 1, Some("unavailable"))
            );
            assert!(down.since.is_some() && down.detail.is_none(), "{down:?}");
        }
        let down = find(&ask(Some("tok")).await, "status-test-down");
        assert_eq!(
            down.detail.as_deref(),
            Some("HTTP 500 from https://internal/tenant-x")
        );
        crate::waits::done("status-test-down", "dataverse/accounts/x");
        let down = find(&ask(None).await, "status-test-down");
        assert_eq!((down.state, down.records), (SystemState::Answering, 0));
        server.abort();
    }
}
