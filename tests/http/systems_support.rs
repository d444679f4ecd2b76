//! A tiny scripted HTTP server for the system-client tests.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::json;
use tokio::time::Instant;

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The server's answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

pub fn reply(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        headers: vec![("content-type", "application/json".into())],
        body: if body.is_null() {
            String::new()
        } else {
            body.to_string()
        },
        delay: Duration::ZERO,
    }
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

fn token_reply(n: usize) -> Reply {
    reply(
        200,
        json!({"token_type":"Bearer","expires_in":3599,"access_token":format!("tok-{}", n + 1)}),
    )
}

pub struct Server {
    pub base: String,
    log: Mutex<Vec<Seen>>,
    script: Box<Script>,
}

impl Server {
    pub fn seen(&self, path_part: &str) -> Vec<Seen> {
        self.log
            .lock()
            .iter()
            .filter(|s| s.path.contains(path_part))
            .cloned()
            .collect()
    }
}

async fn handle(
    State(srv): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_string(),
        query: urlencoding::decode(uri.query().unwrap_or(""))
            .map(|q| q.into_owned())
            .unwrap_or_default(),
        headers,
        body,
        at: Instant::now(),
    };
    let n = {
        let mut log = srv.log.lock();
        let n = log.iter().filter(|s| s.path == seen.path).count();
        log.push(seen.clone());
        n
    };
    let r = (srv.script)(&seen, n);
    if !r.delay.is_zero() {
        tokio::time::sleep(r.delay).await;
    }
    let mut resp = (
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        r.body,
    )
        .into_response();
    for (k, v) in r.headers {
        if let Ok(v) = v.parse() {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// Starts a server whose token endpoint hands out `tok-<n>` (unless `script` answers it) and
/// whose other answers come from `script(request, earlier requests to the same path)`.
pub async fn serve(
    script: impl Fn(&Seen, usize) -> Option<Reply> + Send + Sync + 'static,
) -> Arc<Server> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let srv = Arc::new(Server {
        base: format!("http://{addr}/"),
        log: Mutex::new(Vec::new()),
        script: Box::new(move |s, n| match script(s, n) {
            Some(r) => r,
            None if s.path.ends_with("/oauth2/v2.0/token") => token_reply(n),
            None => reply(404, json!({"error":{"code":"","message":"no route"}})),
        }),
    });
    let app = Router::new().fallback(handle).with_state(srv.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    srv
}
