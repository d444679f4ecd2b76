//! The Prometheus endpoint: `/metrics` (text exposition), `/healthz` (the process answers)
//! and `/readyz` (the bus is reachable and each system's connection works), served by axum;
//! and `/status` ([`status_endpoint`]: the systems waited for).
//!
//! `/readyz` answers 200 only when every connection is `ok`, 503 otherwise, with a JSON body
//! naming each connection and its state. A system is `ok` when its last HTTP request got an
//! answer (any status but 401/403 and 5xx) within [`STALE_AFTER`], or when every capture task
//! reading it has completed a pass and none has failed since.
//!
//! The details of a connection that is not ready (error messages, which name URLs with tenant
//! and company ids) are shown only to callers presenting the configured token (`Authorization:
//! Bearer …`, `[metrics] detail_token_env`); everyone else gets the names and states. Each
//! change of a connection's state is logged with its detail.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::bus::Bus;
use crate::capture::CaptureStatus;
use crate::metrics::metrics;
use crate::status_endpoint;
use crate::systems::Secret;

/// A system whose last answer is older than this (and whose captures have not completed a
/// pass) is not ready.
pub const STALE_AFTER: Duration = Duration::from_secs(120);

/// The systems `/readyz` reports.
pub const SYSTEMS: &[&str] = &["dataverse", "bc"];

#[derive(Debug, Default, Clone)]
struct Conn {
    last_ok: Option<Instant>,
    last_err: Option<(Instant, String)>,
}

fn conns() -> &'static Mutex<HashMap<&'static str, Conn>> {
    static C: OnceLock<Mutex<HashMap<&'static str, Conn>>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// Records the result of one HTTP request to `system`: `Ok` when the system answered,
/// `Err(reason)` when it could not be reached, refused the credentials or failed (5xx).
pub fn note_request(system: &'static str, result: Result<(), String>) {
    let mut c = conns().lock();
    let e = c.entry(system).or_default();
    match result {
        Ok(()) => e.last_ok = Some(Instant::now()),
        Err(r) => e.last_err = Some((Instant::now(), r)),
    }
}

/// What `/readyz` checks once the engine runs.
#[derive(Clone)]
pub struct Probe {
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// A topic whose end offsets are read to check the log.
    pub topic: String,
    /// The capture tasks (named `<mapping>/<system>/<entity>`).
    pub captures: Vec<CaptureStatus>,
}

fn system_state(system: &str, captures: &[CaptureStatus]) -> (bool, Value) {
    let mine: Vec<&CaptureStatus> = captures
        .iter()
        .filter(|c| c.name().split('/').nth(1) == Some(system))
        .collect();
    let failing: Vec<String> = mine
        .iter()
        .filter_map(|c| c.last_error().map(|e| format!("{}: {e}", c.name())))
        .collect();
    let passed = !mine.is_empty() && mine.iter().all(|c| c.cycles() > 0);
    let conn = conns().lock().get(system).cloned().unwrap_or_default();
    let now = Instant::now();
    let ago = |t: Option<Instant>| t.map(|t| (now - t).as_secs_f64());
    let err_newer = match (&conn.last_err, conn.last_ok) {
        (Some((te, _)), Some(tok)) => *te > tok,
        (Some(_), None) => true,
        _ => false,
    };
    let recent_ok = conn.last_ok.is_some_and(|t| now - t < STALE_AFTER);
    let (ok, state, detail) = if !failing.is_empty() {
        (false, "failing", failing.join("; "))
    } else if err_newer {
        let reason = conn.last_err.as_ref().map(|(_, r)| r.clone());
        (false, "failing", reason.unwrap_or_default())
    } else if recent_ok || passed {
        (true, "ok", String::new())
    } else if conn.last_ok.is_some() {
        (false, "stale", "no successful request recently".to_string())
    } else {
        (false, "starting", "no request answered yet".to_string())
    };
    let mut v = json!({
        "name": system,
        "state": state,
        "last_success_secs_ago": ago(conn.last_ok),
        "captures": mine.len(),
        "captures_passed": mine.iter().filter(|c| c.cycles() > 0).count(),
    });
    if !detail.is_empty() {
        v["detail"] = json!(detail);
    }
    (ok, v)
}

/// The readiness report: `(ready, body)`.
pub async fn readiness(probe: Option<&Probe>) -> (bool, Value) {
    let Some(p) = probe else {
        return (
            false,
            json!({"ready": false, "connections": [
                {"name": "engine", "state": "starting", "detail": "the engine has not started yet"}
            ]}),
        );
    };
    let mut ready = true;
    let mut list = Vec::new();
    let bus = tokio::time::timeout(Duration::from_secs(2), p.bus.end_offsets(&p.topic)).await;
    let (bus_ok, bus_v) = match bus {
        Ok(Ok(_)) => (true, json!({"name": "bus", "state": "ok"})),
        Ok(Err(e)) => (
            false,
            json!({"name": "bus", "state": "failing", "detail": e.to_string()}),
        ),
        Err(_) => (
            false,
            json!({"name": "bus", "state": "failing", "detail": "no answer within 2 s"}),
        ),
    };
    ready &= bus_ok;
    list.push(bus_v);
    for s in SYSTEMS {
        let (ok, v) = system_state(s, &p.captures);
        ready &= ok;
        list.push(v);
    }
    (ready, json!({"ready": ready, "connections": list}))
}

type Shared = Arc<Mutex<Option<Probe>>>;

/// What the handlers share: the probe, and the digest of the token that unlocks `/readyz`'s
/// details (a digest, so the comparison takes the same time whatever the token sent).
#[derive(Clone)]
struct AppState {
    probe: Shared,
    detail_token: Option<[u8; 32]>,
}

impl AppState {
    /// True when the request presents the detail token.
    fn may_see_detail(&self, headers: &HeaderMap) -> bool {
        status_endpoint::presents_token(self.detail_token.as_ref(), headers)
    }
}

/// The readiness report without details: each connection's name and state only.
pub fn summary(body: &Value) -> Value {
    let list: Vec<Value> = body["connections"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|c| json!({"name": c["name"], "state": c["state"]}))
                .collect()
        })
        .unwrap_or_default();
    json!({"ready": body["ready"], "connections": list})
}

/// Logs each connection whose state changed since the last report, with its detail.
fn log_changes(body: &Value) {
    static LAST: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut last = LAST.get_or_init(Default::default).lock();
    for c in body["connections"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or_default().to_string();
        let state = c["state"].as_str().unwrap_or_default().to_string();
        if last.get(&name) == Some(&state) {
            continue;
        }
        let detail = c["detail"].as_str().unwrap_or_default();
        if state == "ok" {
            tracing::info!(connection = %name, %state, "Readiness changed.");
        } else {
            tracing::warn!(connection = %name, %state, %detail, "Readiness changed.");
        }
        last.insert(name, state);
    }
}

async fn metrics_handler() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics().render(),
    )
        .into_response()
}

async fn readyz(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let p = st.probe.lock().clone();
    let (ready, body) = readiness(p.as_ref()).await;
    log_changes(&body);
    let body = if st.may_see_detail(&headers) {
        body
    } else {
        summary(&body)
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

/// The running endpoint.
pub struct MetricsServer {
    addr: SocketAddr,
    probe: Shared,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` and serves until [`MetricsServer::shutdown`]. `/readyz` answers 503
    /// "starting" until [`MetricsServer::set_probe`] is called, and shows no details (see
    /// [`MetricsServer::start_with_token`]).
    pub async fn start(addr: SocketAddr) -> std::io::Result<MetricsServer> {
        MetricsServer::start_with_token(addr, None).await
    }

    /// As [`MetricsServer::start`]; `/readyz` shows the details of each connection to
    /// requests with `Authorization: Bearer <detail_token>`.
    pub async fn start_with_token(
        addr: SocketAddr,
        detail_token: Option<Secret>,
    ) -> std::io::Result<MetricsServer> {
        MetricsServer::start_with_routes(addr, detail_token, None).await
    }

    /// As [`MetricsServer::start_with_token`], also serving `extra`'s routes (the operator
    /// console, when it is on).
    pub async fn start_with_routes(
        addr: SocketAddr,
        detail_token: Option<Secret>,
        extra: Option<Router>,
    ) -> std::io::Result<MetricsServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let probe: Shared = Arc::new(Mutex::new(None));
        let state = AppState {
            probe: probe.clone(),
            detail_token: detail_token.map(|t| status_endpoint::token_digest(t.expose())),
        };
        let app = Router::new()
            .route("/metrics", get(metrics_handler))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .with_state(state.clone())
            .merge(status_endpoint::router(state.detail_token))
            .merge(extra.unwrap_or_default());
        let (stop, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.changed().await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "The metrics endpoint stopped.");
            }
        });
        tracing::info!(%addr, "Serving /metrics, /healthz, /readyz and /status.");
        Ok(MetricsServer {
            addr,
            probe,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What `/readyz` checks from now on.
    pub fn set_probe(&self, probe: Probe) {
        *self.probe.lock() = Some(probe);
    }

    /// Stops serving.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn not_ready_until_the_engine_runs() {
        let (ready, body) = readiness(None).await;
        assert!(!ready);
        assert_eq!(body["connections"][0]["state"], "starting");
    }

    #[test]
    fn a_system_is_ready_after_an_answer_and_failing_after_an_error() {
        // A system name of its own, so other tests' requests do not interfere.
        let sys = "test-system";
        assert_eq!(system_state(sys, &[]).1["state"], "starting");
        note_request(sys, Ok(()));
        assert!(system_state(sys, &[]).0);
        note_request(sys, Err("HTTP 503 from query".into()));
        let (ok, v) = system_state(sys, &[]);
        assert!(!ok);
        assert_eq!(v["state"], "failing");
        assert_eq!(v["detail"], "HTTP 503 from query");
        note_request(sys, Ok(()));
        assert!(system_state(sys, &[]).0);
    }

    #[tokio::test]
    async fn serves_metrics_healthz_and_readyz() {
        let s = MetricsServer::start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", s.local_addr());
        let get = |p: &str| reqwest::get(format!("{base}{p}"));
        metrics().build_info.with_label_values(&["test"]).set(1);
        let m = get("/metrics").await.unwrap();
        assert_eq!(m.status().as_u16(), 200);
        assert!(m.text().await.unwrap().contains("couplet_build_info"));
        assert_eq!(get("/healthz").await.unwrap().status().as_u16(), 200);
        let r = get("/readyz").await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["ready"], false);
        s.shutdown().await;
    }

    #[tokio::test]
    async fn readyz_details_only_with_the_token() {
        let s = MetricsServer::start_with_token(
            "127.0.0.1:0".parse().unwrap(),
            Some(Secret::new("tok-123")),
        )
        .await
        .unwrap();
        let url = format!("http://{}/readyz", s.local_addr());
        let http = reqwest::Client::new();
        let ask = |token: Option<&str>| {
            let mut r = http.get(&url);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send()
        };
        for token in [None, Some("wrong")] {
            let r = ask(token).await.unwrap();
            assert_eq!(r.status().as_u16(), 503);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["connections"][0]["state"], "starting");
            assert!(body["connections"][0].get("detail").is_none(), "{body}");
        }
        let body: Value = ask(Some("tok-123")).await.unwrap().json().await.unwrap();
        assert_eq!(
            body["connections"][0]["detail"],
            "the engine has not started yet"
        );
        s.shutdown().await;
    }

    #[test]
    fn the_summary_keeps_names_and_states_only() {
        let full = json!({"ready": false, "connections": [
            {"name": "bus", "state": "ok"},
            {"name": "bc", "state": "failing", "last_success_secs_ago": 1.0, "captures": 2,
             "detail": "HTTP 401 from https://api.businesscentral.dynamics.com/v2.0/tenant-x/Production/api/v2.0/companies(abc)"}
        ]});
        let s = summary(&full);
        assert_eq!(
            s,
            json!({"ready": false, "connections": [
                {"name": "bus", "state": "ok"}, {"name": "bc", "state": "failing"}
            ]})
        );
        assert!(!s.to_string().contains("tenant-x"));
    }
}
