//! The HTTP client every system uses: its connector's authenticator, timeouts, the retry
//! policy, metrics.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{Instrument, debug, warn};

use super::authenticator::{Authenticator, Credential};
use super::config::HttpConfig;
use super::gate::HostGate;
use super::retry::{RetryAction, backoff_delay, classify, retry_after};
use crate::event::key::System;
use crate::metrics::metrics;
use crate::systems::error::{SystemError, redact_url};

/// An HTTP client for one system. Cheap to clone: clones share the connection pool, the host
/// gate and the authenticator.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    cfg: HttpConfig,
    gate: HostGate,
    system: System,
    auth: Option<Arc<dyn Authenticator>>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("system", &self.system)
            .field("config", &self.cfg)
            .field("auth", &self.auth)
            .finish()
    }
}

impl ApiClient {
    /// A client for `system` with the configured timeout, using the process-wide host gate and
    /// no authentication.
    pub fn new(system: System, cfg: HttpConfig) -> Result<Self, SystemError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| SystemError::Request {
                system,
                operation: "init",
                reason: e.to_string(),
            })?;
        Ok(ApiClient {
            http,
            cfg,
            gate: HostGate::global(),
            system,
            auth: None,
        })
    }

    /// Authenticates every request with `auth` (the connector's: bearer tokens, a session).
    pub fn with_authenticator(mut self, auth: Arc<dyn Authenticator>) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Uses `gate` instead of the process-wide one.
    pub fn with_gate(mut self, gate: HostGate) -> Self {
        self.gate = gate;
        self
    }

    /// The system this client talks to.
    pub fn system(&self) -> System {
        self.system
    }

    /// The timeouts and retry limits.
    pub fn config(&self) -> &HttpConfig {
        &self.cfg
    }

    /// The host gate.
    pub fn gate(&self) -> &HostGate {
        &self.gate
    }

    /// Sends the request `build` makes (called once per attempt), with the authenticator's
    /// credentials, the host gate and the retry policy. A 401 makes the authenticator drop
    /// the credentials sent, and the request is retried once with new ones. Returns the
    /// response for 2xx and 304; every other outcome becomes a [`SystemError`].
    pub async fn send<F>(
        &self,
        operation: &'static str,
        build: F,
    ) -> Result<reqwest::Response, SystemError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync,
    {
        let span = tracing::info_span!("http", system = self.system.as_str(), operation);
        self.send_inner(operation, &build).instrument(span).await
    }

    /// Like [`ApiClient::send`], then parses the body as JSON (`Null` for an empty body).
    pub async fn send_json<F>(
        &self,
        operation: &'static str,
        build: F,
    ) -> Result<serde_json::Value, SystemError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync,
    {
        let resp = self.send(operation, build).await?;
        self.read_json(operation, resp).await
    }

    /// Reads a response body as JSON (`Null` when empty).
    pub async fn read_json(
        &self,
        operation: &'static str,
        resp: reqwest::Response,
    ) -> Result<serde_json::Value, SystemError> {
        let bytes = resp.bytes().await.map_err(|e| SystemError::Unavailable {
            system: self.system,
            operation,
            status: None,
            message: format!("reading the response: {}", e.without_url()),
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| SystemError::Malformed {
            system: self.system,
            operation,
            reason: format!("the body is not JSON: {e}"),
        })
    }

    async fn send_inner(
        &self,
        operation: &'static str,
        build: &(dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder + Sync),
    ) -> Result<reqwest::Response, SystemError> {
        let m = metrics();
        let sys = self.system.as_str();
        let max = self.cfg.max_attempts.max(1);
        let mut attempt = 0u32;
        let mut refreshed = false;
        let mut throttled_for = Duration::ZERO;
        loop {
            attempt += 1;
            let mut request = build(&self.http)
                .build()
                .map_err(|e| SystemError::Request {
                    system: self.system,
                    operation,
                    reason: e.without_url().to_string(),
                })?;
            let key = HostGate::key(request.url());
            let url = redact_url(request.url().as_str());
            // A POST (a create, an action) is not idempotent: once it may have reached the
            // system, a fault that hides its outcome is not answered by sending it again here.
            let once = request.method() == reqwest::Method::POST;
            let waited = self.gate.wait(&key).await;
            if !waited.is_zero() {
                m.retry_after_seconds
                    .with_label_values(&[sys])
                    .inc_by(waited.as_secs_f64());
            }
            // Credentials are put on after any pause, so they are fresh when the request leaves.
            let mut used: Option<Credential> = None;
            if let Some(auth) = &self.auth {
                used = Some(auth.authorise(&mut request).await.inspect_err(|e| {
                    crate::metrics_server::note_request(sys, Err(format!("auth: {e}")));
                })?);
            }
            let started = Instant::now();
            let result = self.http.execute(request).await;
            m.http_seconds
                .with_label_values(&[sys, operation])
                .observe(started.elapsed().as_secs_f64());
            let resp = match result {
                Ok(resp) => resp,
                Err(e) => {
                    let label = if e.is_timeout() { "timeout" } else { "error" };
                    let not_sent = e.is_connect();
                    m.http_requests
                        .with_label_values(&[sys, operation, label])
                        .inc();
                    let message = format!("{} {url}: {}", method_hint(&e), e.without_url());
                    crate::metrics_server::note_request(sys, Err(message.clone()));
                    if once && !not_sent {
                        return Err(SystemError::Unavailable {
                            system: self.system,
                            operation,
                            status: None,
                            message: format!("{message}; {OUTCOME_UNKNOWN}"),
                        });
                    }
                    if attempt >= max {
                        return Err(SystemError::Unavailable {
                            system: self.system,
                            operation,
                            status: None,
                            message,
                        });
                    }
                    self.backoff(attempt, &message).await;
                    continue;
                }
            };
            let status = resp.status().as_u16();
            m.http_requests
                .with_label_values(&[sys, operation, &status.to_string()])
                .inc();
            crate::metrics_server::note_request(
                sys,
                if status == 401 || status == 403 || status >= 500 {
                    Err(format!("HTTP {status} from {operation}"))
                } else {
                    Ok(())
                },
            );
            if (200..300).contains(&status) || status == 304 {
                return Ok(resp);
            }
            let headers = resp.headers().clone();
            let body = resp.text().await.unwrap_or_default();
            let fail = || {
                SystemError::from_response(
                    self.system,
                    operation,
                    status,
                    retry_after(&headers),
                    &body,
                )
            };
            if once && outcome_unknown(status) {
                let mut e = fail();
                if let SystemError::Unavailable { message, .. } = &mut e {
                    message.push_str("; ");
                    message.push_str(OUTCOME_UNKNOWN);
                }
                return Err(e);
            }
            match classify(status, &headers, &body) {
                RetryAction::Success => {
                    return Err(SystemError::Malformed {
                        system: self.system,
                        operation,
                        reason: format!("HTTP {status} classified as success after reading"),
                    });
                }
                RetryAction::RetryAfter(wait) => {
                    m.http_throttled.with_label_values(&[sys]).inc();
                    let wait = wait.min(self.cfg.max_retry_after);
                    self.gate.pause(&key, wait);
                    // A 429 or 503 saying when to come back is back-pressure, never a failure
                    // of the request: it does not use up an attempt. Only a system that
                    // throttles for longer than `max_throttled` in all fails it. (Without a
                    // delay to honour, each answer counts, and the backoff grows.)
                    if is_throttling(status) && !wait.is_zero() {
                        throttled_for += wait;
                        if throttled_for > self.cfg.max_throttled {
                            return Err(fail());
                        }
                        attempt -= 1;
                    } else if attempt >= max {
                        return Err(fail());
                    }
                    if wait.is_zero() {
                        // "Retry-After: 0" or a date in the past: still back off a little.
                        self.backoff(attempt, &format!("HTTP {status} from {url}"))
                            .await;
                    } else {
                        m.http_retries.with_label_values(&[sys]).inc();
                        warn!(status, attempt, wait_secs = wait.as_secs_f64(), %url, "throttled; host paused");
                    }
                }
                RetryAction::Backoff if attempt < max => {
                    self.backoff(attempt, &format!("HTTP {status} from {url}"))
                        .await;
                }
                RetryAction::RefreshToken if !refreshed && attempt < max => {
                    match (&self.auth, &used) {
                        (Some(auth), Some(used)) if auth.on_unauthorised(used) => {
                            refreshed = true;
                            m.http_retries.with_label_values(&[sys]).inc();
                            debug!(%url, "401: renewing the credentials and retrying once");
                        }
                        _ => return Err(fail()),
                    }
                }
                _ => return Err(fail()),
            }
        }
    }

    async fn backoff(&self, attempt: u32, what: &str) {
        let delay: Duration = backoff_delay(&self.cfg, attempt);
        metrics()
            .http_retries
            .with_label_values(&[self.system.as_str()])
            .inc();
        warn!(
            attempt,
            delay_ms = delay.as_millis() as u64,
            "{what}; retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// Why a POST whose outcome a fault hid is not sent again by the client.
const OUTCOME_UNKNOWN: &str = "the outcome is unknown (the system may have carried the request out), so it is not sent again blindly: the write waits and is tried again after looking for what this attempt may have made";

/// True for the answers after which a request may have been carried out all the same: a
/// server error, or a gateway or the server giving up waiting. (429, and 503 with or without
/// `Retry-After`, refuse the request before it is processed: sending it again is safe.)
fn outcome_unknown(status: u16) -> bool {
    matches!(status, 408 | 500 | 502 | 504)
}

/// True for the statuses by which a system says "slow down": 429, and 503 (Business Central
/// and Dataverse answer 503 with `Retry-After` when they shed load).
fn is_throttling(status: u16) -> bool {
    matches!(status, 429 | 503)
}

fn method_hint(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out:"
    } else if e.is_connect() {
        "cannot connect:"
    } else {
        "request failed:"
    }
}
