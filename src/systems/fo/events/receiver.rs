//! The HTTP endpoint F&O posts business events to.
//!
//! `POST <path>` answers:
//! - **401** when the secret header is missing or wrong, decided on the headers alone, before
//!   a byte of the body is read;
//! - **413** for a body over `max_body_bytes`, **400** for one that is not a readable event
//!   (the message names the field), **408** for one not received within [`BODY_TIMEOUT`];
//! - **200** for everything else: a fresh event (which wakes the polls of its entity set), a
//!   duplicate, a stale event, or an event of a type Couplet does not act on. Answering 200
//!   for those keeps F&O from retrying them into its error log.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::auth::SecretCheck;
use super::config::BusinessEventsConfig;
use super::dedup::{Dedup, RecordRef, Verdict};
use super::payload::{BusinessEvent, parse};
use super::stats::{self, Counters, EventStats, Outcome};
use super::wakes::Wakes;
use crate::error::{Actor, Classify, ConfigError, Retry};

/// How long a caller may take to send the body once its headers were accepted.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Receiver::shutdown`] lets requests in flight finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// A setting is unusable (including a missing secret).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The listen address cannot be bound.
    #[error("cannot listen on {addr} for F&O business events: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Classify for ReceiverError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            ReceiverError::Config(_) => "config",
            ReceiverError::Bind { .. } => "bind",
        }
    }
}

/// What the handler shares.
#[derive(Debug)]
struct Inner {
    check: SecretCheck,
    dedup: Mutex<Dedup>,
    wakes: Wakes,
    counters: Counters,
}

/// A running receiver.
#[derive(Debug)]
pub struct Receiver {
    addr: SocketAddr,
    path: String,
    /// `https` when the receiver terminates TLS itself, else `http`.
    scheme: &'static str,
    inner: Arc<Inner>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Validates `cfg`, resolves its secret, binds `cfg.listen` and serves until
    /// [`Receiver::shutdown`]. Fresh events wake `wakes`' subscribers of their entity set.
    pub async fn start(
        cfg: &BusinessEventsConfig,
        wakes: Wakes,
    ) -> Result<Receiver, ReceiverError> {
        cfg.validate()?;
        let secret = cfg.resolve_secret()?;
        let inner = Arc::new(Inner {
            check: SecretCheck::new(cfg.header_name()?, &secret),
            dedup: Mutex::new(Dedup::new(cfg.dedup_capacity)),
            wakes,
            counters: Counters::default(),
        });
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| ReceiverError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ReceiverError::Bind {
                addr: cfg.listen,
                source,
            })?;
        stats::prime();
        let app = Router::new()
            .route(&cfg.path, post(receive))
            .layer(DefaultBodyLimit::max(cfg.max_body_bytes))
            .with_state(inner.clone());
        let tls = match (&cfg.tls_cert, &cfg.tls_key) {
            (Some(cert), Some(key)) => Some(super::tls::acceptor(cert, key)?),
            _ => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let (stop, mut rx) = watch::channel(false);
        let task = match tls {
            Some(acceptor) => tokio::spawn(super::tls::serve(listener, acceptor, app, rx)),
            None => tokio::spawn(async move {
                let shutdown = async move {
                    let _ = rx.changed().await;
                };
                if let Err(e) = axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
                {
                    tracing::error!(error = %e, "The F&O business-events endpoint stopped.");
                }
            }),
        };
        tracing::info!(%addr, path = %cfg.path, "Receiving F&O business events.");
        Ok(Receiver {
            addr,
            path: cfg.path.clone(),
            scheme,
            inner,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The endpoint's URL on the bound address (`https://127.0.0.1:9465/fo/business-events`,
    /// `http://` without TLS):
    /// what a local sandbox registers. In production F&O is given the TLS terminator's URL.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.addr, self.path)
    }

    /// What this receiver has handled so far.
    pub fn stats(&self) -> EventStats {
        self.inner.counters.snapshot()
    }

    /// Stops accepting connections and lets requests in flight finish, for at most
    /// [`SHUTDOWN_GRACE`]; then the server is aborted.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            tracing::warn!("The F&O business-events endpoint did not stop in time; aborted.");
            task.abort();
        }
    }
}

fn reply(status: StatusCode, outcome: Outcome, message: &str) -> Response {
    let body = json!({"outcome": outcome.as_str(), "message": message});
    (status, axum::Json(body)).into_response()
}

/// One delivery. The request is taken whole so the secret is checked before the body is read.
async fn receive(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    if !inner.check.allows(request.headers()) {
        inner.counters.count(Outcome::Unauthorized);
        tracing::warn!("F&O business event refused: the secret header is missing or wrong.");
        return reply(
            StatusCode::UNAUTHORIZED,
            Outcome::Unauthorized,
            "missing or wrong secret header",
        );
    }
    let body = match tokio::time::timeout(BODY_TIMEOUT, Bytes::from_request(request, &())).await {
        Ok(Ok(body)) => body,
        Ok(Err(rejection)) => {
            inner.counters.count(Outcome::Malformed);
            let message = rejection.body_text();
            tracing::warn!(%message, "F&O business event refused: body not received.");
            return reply(rejection.status(), Outcome::Malformed, &message);
        }
        Err(_) => {
            inner.counters.count(Outcome::Malformed);
            return reply(
                StatusCode::REQUEST_TIMEOUT,
                Outcome::Malformed,
                "the body did not arrive in time",
            );
        }
    };
    let event = match parse(&body) {
        Ok(event) => event,
        Err(e) => {
            inner.counters.count(Outcome::Malformed);
            let message = format!("not a readable business event: {e}");
            tracing::warn!(%message, "F&O business event refused.");
            return reply(StatusCode::BAD_REQUEST, Outcome::Malformed, &message);
        }
    };
    let span = tracing::info_span!(
        "fo_business_event",
        legal_entity = %event.legal_entity,
        event_type = %event.event_type,
        control_number = event.control_number,
        event_id = %event.event_id,
        record_key = tracing::field::Empty,
    );
    if let Some((field, value)) = &event.record_key {
        span.record(
            "record_key",
            tracing::field::display(format!("{field}={value}")),
        );
    }
    let outcome = span.in_scope(|| judge(&inner, &event));
    inner.counters.count(outcome);
    reply(StatusCode::OK, outcome, "received")
}

/// Decides what an authenticated, readable event is, and wakes the polls for a fresh one.
fn judge(inner: &Inner, event: &BusinessEvent) -> Outcome {
    let Some(known) = event.known() else {
        tracing::debug!("Business event of a type Couplet does not act on; ignored.");
        return Outcome::Ignored;
    };
    let record = event.record_key.as_ref().map(|(_, key)| RecordRef {
        legal_entity: event.legal_entity.clone(),
        entity_set: known.entity_set,
        key: key.clone(),
    });
    let verdict = inner
        .dedup
        .lock()
        .observe(&event.event_id, event.control_number, record);
    match verdict {
        Verdict::Fresh => {
            let woken = inner.wakes.wake(known.entity_set);
            stats::note_accepted_control(event.control_number);
            tracing::debug!(
                entity_set = known.entity_set,
                woken,
                "Business event accepted."
            );
            Outcome::Accepted
        }
        Verdict::Duplicate => {
            tracing::debug!("Business event delivered again; ignored.");
            Outcome::Duplicate
        }
        Verdict::Stale { applied } => {
            tracing::debug!(
                applied,
                "Business event older than one already applied; ignored."
            );
            Outcome::Stale
        }
    }
}

#[cfg(test)]
mod tests;
