//! Entra ID client-credentials tokens, cached per scope and fetched single-flight, and the
//! bearer-token [`Authenticator`] of the systems Entra ID guards (Dataverse, Business
//! Central, F&O). The app proves who it is with a client secret or a certificate (a signed
//! client assertion, [`ClientCertificate`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::client_assertion::{ASSERTION_TYPE, ClientCertificate};
use super::error::{SystemError, redact_url};
use super::http::authenticator::{Authenticator, Credential, set_secret_header};
use super::http::retry::{backoff_delay, classify, retry_after};
use super::http::{HostGate, HttpConfig, RetryAction};
use super::secret::Secret;
use crate::event::key::System;
use crate::metrics::metrics;

/// The longest margin before expiry at which a token is refreshed.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// How an app proves who it is to Entra ID: its client secret, or a client assertion signed
/// with its certificate's key. `Debug` shows no secret.
#[derive(Clone, Debug)]
pub enum ClientProof {
    /// The client secret's value.
    Secret(Secret),
    /// The certificate and its private key.
    Certificate(Arc<ClientCertificate>),
}

struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// Access tokens from Entra ID's client-credentials flow, one per scope
/// (`<resource>/.default`). Refreshed 5 minutes (or 10% of the lifetime, whichever is smaller)
/// before they expire; concurrent callers for one scope share one fetch.
pub struct TokenCache {
    http: reqwest::Client,
    cfg: HttpConfig,
    gate: HostGate,
    endpoint: String,
    client_id: String,
    proof: ClientProof,
    origin: CredentialOrigin,
    cache: Mutex<HashMap<String, Cached>>,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("proof", &self.proof)
            .field("cached_scopes", &self.cache.lock().len())
            .finish()
    }
}

impl TokenCache {
    /// A cache for one app registration. `authority` is e.g.
    /// `https://login.microsoftonline.com/` (a local emulator in tests).
    pub fn new(
        authority: &str,
        tenant_id: &str,
        client_id: &str,
        client_secret: Secret,
        http: HttpConfig,
    ) -> Self {
        Self::with_proof(
            authority,
            tenant_id,
            client_id,
            ClientProof::Secret(client_secret),
            http,
        )
    }

    /// As [`TokenCache::new`], the app proving who it is with `proof`.
    pub fn with_proof(
        authority: &str,
        tenant_id: &str,
        client_id: &str,
        proof: ClientProof,
        http: HttpConfig,
    ) -> Self {
        let authority = authority.trim_end_matches('/');
        let client = reqwest::Client::builder()
            .timeout(http.timeout)
            .build()
            .unwrap_or_default();
        TokenCache {
            http: client,
            cfg: http,
            gate: HostGate::global(),
            endpoint: format!(
                "{authority}/{}/oauth2/v2.0/token",
                urlencoding::encode(tenant_id.trim())
            ),
            client_id: client_id.trim().to_string(),
            proof,
            origin: CredentialOrigin::default(),
            cache: Mutex::new(HashMap::new()),
            flights: Mutex::new(HashMap::new()),
        }
    }

    /// Names where its credentials are configured, for the hints of Entra's refusals.
    pub fn with_origin(mut self, origin: CredentialOrigin) -> Self {
        self.origin = origin;
        self
    }

    /// Uses `gate` for pauses instead of the process-wide one.
    pub fn with_gate(mut self, gate: HostGate) -> Self {
        self.gate = gate;
        self
    }

    fn cached(&self, scope: &str) -> Option<String> {
        let cache = self.cache.lock();
        let c = cache.get(scope)?;
        (Instant::now() < c.refresh_at).then(|| c.token.expose().to_string())
    }

    /// A valid access token for `scope`, from the cache or freshly fetched, for `system`'s
    /// requests (it names the system in metrics and errors).
    pub async fn token(&self, system: System, scope: &str) -> Result<String, SystemError> {
        if let Some(t) = self.cached(scope) {
            return Ok(t);
        }
        let flight = self
            .flights
            .lock()
            .entry(scope.to_string())
            .or_default()
            .clone();
        let _guard = flight.lock().await;
        if let Some(t) = self.cached(scope) {
            return Ok(t);
        }
        let (token, lifetime) = self.fetch(system, scope).await?;
        let margin = MAX_REFRESH_MARGIN.min(lifetime / 10);
        self.cache.lock().insert(
            scope.to_string(),
            Cached {
                token: Secret::new(token.clone()),
                refresh_at: Instant::now() + lifetime.saturating_sub(margin),
            },
        );
        Ok(token)
    }

    /// Forgets the token for `scope` (after a 401), so the next call fetches a new one.
    pub fn invalidate(&self, scope: &str) {
        self.cache.lock().remove(scope);
    }

    /// Forgets the token for `scope` only if it is still `token`, so many requests failing
    /// with the same stale token cause one refresh.
    pub fn invalidate_token(&self, scope: &str, token: &str) {
        let mut cache = self.cache.lock();
        if cache.get(scope).is_some_and(|c| c.token.expose() == token) {
            cache.remove(scope);
        }
    }

    /// The token request's form: the client secret, or a new client assertion (its `aud`
    /// is the token endpoint, as Microsoft's "certificate credentials" page documents).
    fn form(&self, system: System, scope: &str) -> Result<String, SystemError> {
        let proof = match &self.proof {
            ClientProof::Secret(s) => format!("client_secret={}", urlencoding::encode(s.expose())),
            ClientProof::Certificate(c) => {
                let assertion = c
                    .assertion(
                        &self.client_id,
                        &self.endpoint,
                        std::time::SystemTime::now(),
                    )
                    .map_err(|e| SystemError::Auth {
                        system,
                        message: format!("{e} ({})", self.origin.certificate_hint()),
                    })?;
                format!(
                    "client_assertion_type={}&client_assertion={assertion}",
                    urlencoding::encode(ASSERTION_TYPE)
                )
            }
        };
        Ok(format!(
            "client_id={}&scope={}&{proof}&grant_type=client_credentials",
            urlencoding::encode(&self.client_id),
            urlencoding::encode(scope),
        ))
    }

    async fn fetch(&self, system: System, scope: &str) -> Result<(String, Duration), SystemError> {
        let endpoint = redact_url(&self.endpoint);
        let key = url::Url::parse(&self.endpoint)
            .map(|u| HostGate::key(&u))
            .map_err(|e| SystemError::Auth {
                system,
                message: format!(
                    "the Entra authority URL is invalid ({e}); check the authority and tenant_id"
                ),
            })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let waited = self.gate.wait(&key).await;
            if !waited.is_zero() {
                metrics()
                    .retry_after_seconds
                    .with_label_values(&[system.as_str()])
                    .inc_by(waited.as_secs_f64());
            }
            let sent = self
                .http
                .post(&self.endpoint)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(self.form(system, scope)?)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    let message = format!("token request to {endpoint}: {}", e.without_url());
                    if attempt >= self.cfg.max_attempts {
                        return Err(SystemError::Unavailable {
                            system,
                            operation: "token",
                            status: None,
                            message,
                        });
                    }
                    warn!(%system, attempt, "{message}; retrying");
                    metrics()
                        .http_retries
                        .with_label_values(&[system.as_str()])
                        .inc();
                    tokio::time::sleep(backoff_delay(&self.cfg, attempt)).await;
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.text().await.unwrap_or_default();
            let action = classify(status, &headers, &body);
            match action {
                RetryAction::Success => return self.parse_token(system, &body),
                RetryAction::RetryAfter(_) | RetryAction::Backoff
                    if attempt < self.cfg.max_attempts =>
                {
                    metrics()
                        .http_retries
                        .with_label_values(&[system.as_str()])
                        .inc();
                    match action {
                        RetryAction::RetryAfter(d) => {
                            self.gate.pause(&key, d.min(self.cfg.max_retry_after))
                        }
                        _ => tokio::time::sleep(backoff_delay(&self.cfg, attempt)).await,
                    }
                    debug!(%system, status, attempt, "token request retried");
                }
                _ if status >= 500 || status == 429 => {
                    return Err(SystemError::from_response(
                        system,
                        "token",
                        status,
                        retry_after(&headers),
                        &body,
                    ));
                }
                _ => return Err(aad_error(system, &self.origin, status, &body)),
            }
        }
    }

    fn parse_token(&self, system: System, body: &str) -> Result<(String, Duration), SystemError> {
        let malformed = |reason: &str| SystemError::Malformed {
            system,
            operation: "token",
            reason: reason.to_string(),
        };
        let v: serde_json::Value =
            serde_json::from_str(body).map_err(|_| malformed("the token response is not JSON"))?;
        let token = v
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| malformed("the token response has no access_token"))?;
        let expires_in = match v.get("expires_in") {
            Some(serde_json::Value::Number(n)) => n.as_f64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|s| *s > 0.0)
        .ok_or_else(|| malformed("the token response has no valid expires_in"))?;
        metrics()
            .token_refreshes
            .with_label_values(&[system.as_str()])
            .inc();
        let lifetime = Duration::try_from_secs_f64(expires_in).unwrap_or(Duration::from_secs(3599));
        Ok((token.to_string(), lifetime))
    }
}

/// `Authorization: Bearer` tokens for one resource (scope `<resource>/.default`) from a
/// shared [`TokenCache`]: one token per scope (so per host), cached, refreshed before it
/// expires, and dropped after a 401 so the retry carries a new one.
#[derive(Debug, Clone)]
pub struct BearerAuth {
    system: System,
    tokens: Arc<TokenCache>,
    scope: Arc<str>,
}

impl BearerAuth {
    /// Tokens for `scope` from `tokens`, for `system`'s requests.
    pub fn new(system: System, tokens: Arc<TokenCache>, scope: impl Into<String>) -> Self {
        let scope: String = scope.into();
        BearerAuth {
            system,
            tokens,
            scope: scope.into(),
        }
    }

    /// The scope its tokens are for.
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

#[async_trait]
impl Authenticator for BearerAuth {
    async fn authorise(&self, request: &mut reqwest::Request) -> Result<Credential, SystemError> {
        let token = self.tokens.token(self.system, &self.scope).await?;
        set_secret_header(
            self.system,
            request,
            AUTHORIZATION,
            &format!("Bearer {token}"),
        )?;
        Ok(Credential::new(token))
    }

    fn on_unauthorised(&self, used: &Credential) -> bool {
        self.tokens.invalidate_token(&self.scope, used.expose());
        true
    }
}

/// Where a system's Entra ID credentials are configured, so that a refusal names the
/// setting to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialOrigin {
    /// The keys of a config table: `auth` (the shared default) or `auth.<system>`.
    Table(String),
    /// A set in the credential store, named by `setting` (`auth.bc.credential`).
    Stored {
        /// The setting naming it.
        setting: String,
        /// The set's name.
        name: String,
    },
}

impl Default for CredentialOrigin {
    fn default() -> Self {
        CredentialOrigin::Table("auth".into())
    }
}

impl CredentialOrigin {
    fn secret_hint(&self) -> String {
        match self {
            CredentialOrigin::Table(t) => format!("check [{t}] client_secret_env or client_secret"),
            CredentialOrigin::Stored { setting, name } => format!(
                "replace the secret of stored credential '{name}' ({setting}) with `couplet credentials set {name} …`"
            ),
        }
    }

    fn certificate_hint(&self) -> String {
        match self {
            CredentialOrigin::Table(t) => format!(
                "check [{t}] certificate_file and private_key_file: the certificate must be one uploaded to the app registration, the key its own"
            ),
            CredentialOrigin::Stored { setting, name } => format!(
                "replace the certificate of stored credential '{name}' ({setting}) with `couplet credentials set {name} --certificate-file … --private-key-file …`, using a certificate uploaded to the app registration"
            ),
        }
    }

    fn ids_hint(&self, keys: &str) -> String {
        match self {
            CredentialOrigin::Table(t) => format!("check [{t}] {keys}"),
            CredentialOrigin::Stored { setting, name } => format!(
                "check the {keys} of stored credential '{name}' ({setting}; `couplet credentials list` shows them)"
            ),
        }
    }
}

/// Maps an Entra error answer (`AADSTSnnnn`) to [`SystemError::Auth`] with a hint naming
/// where the credentials are configured.
fn aad_error(system: System, origin: &CredentialOrigin, status: u16, body: &str) -> SystemError {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let error = v.get("error").and_then(|e| e.as_str()).unwrap_or("");
    let description = v
        .get("error_description")
        .and_then(|d| d.as_str())
        .unwrap_or("");
    let first = description.split(['\r', '\n']).next().unwrap_or("").trim();
    let code = v
        .get("error_codes")
        .and_then(|c| c.as_array())
        .and_then(|c| c.first())
        .and_then(|c| c.as_u64())
        .or_else(|| {
            let rest = first.strip_prefix("AADSTS")?;
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        });
    // The credentials are `[auth]`'s, `[auth.<system>]`'s or a stored set's (`origin`); the
    // resource (the scope's host) is the system's own section.
    let section = system.as_str();
    let secret = origin.secret_hint();
    let hint = match code {
        Some(7000215) => {
            format!("the client secret is wrong; use the secret's value, not its id ({secret})")
        }
        Some(7000222) => format!("the client secret has expired; create a new one ({secret})"),
        Some(7000218) => format!("no client secret was sent ({secret})"),
        Some(700016) => format!(
            "client_id not found in tenant; {}, and that the app is consented",
            origin.ids_hint("client_id and tenant_id")
        ),
        Some(90002) => format!(
            "the tenant was not found ({})",
            origin.ids_hint("tenant_id")
        ),
        Some(700027) => format!(
            "the client assertion's certificate is not registered on the app, or its signature does not verify ({})",
            origin.certificate_hint()
        ),
        Some(700024) => format!(
            "the client assertion is outside its valid time range: check this machine's clock (NTP) ({})",
            origin.certificate_hint()
        ),
        Some(700021) => format!(
            "the client assertion names another app ({})",
            origin.ids_hint("client_id")
        ),
        Some(700023) => format!(
            "the client assertion's audience is not the token endpoint ({})",
            origin.ids_hint("authority and tenant_id")
        ),
        Some(70011) => format!(
            "the scope is invalid (check [{section}] url/resource; the scope is <resource>/.default)"
        ),
        _ => format!("{}; {secret}", origin.ids_hint("tenant_id and client_id")),
    };
    let code_text = code.map(|c| format!("AADSTS{c} ")).unwrap_or_default();
    let detail = if first.is_empty() {
        format!("HTTP {status}")
    } else {
        first.to_string()
    };
    SystemError::Auth {
        system,
        message: format!("token request failed: {code_text}{error}: {detail}; {hint}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_aadsts_codes_to_hints() {
        let body = r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1","error_codes":[7000215]}"#;
        let e = aad_error(
            crate::systems::DATAVERSE,
            &CredentialOrigin::default(),
            401,
            body,
        );
        let text = e.to_string();
        assert!(text.contains("AADSTS7000215"), "{text}");
        assert!(text.contains("not its id"), "{text}");
        assert!(!text.contains("Trace ID"), "{text}");
        let e = aad_error(
            crate::systems::BC,
            &CredentialOrigin::default(),
            400,
            r#"{"error":"invalid_request","error_description":"AADSTS90002: Tenant 'x' not found."}"#,
        );
        // The credentials are `[auth]`'s keys, never a system section's (which rejects them
        // as unknown).
        assert!(e.to_string().contains("[auth] tenant_id"), "{e}");
        assert!(text.contains("[auth] client_secret_env"), "{text}");
        for code in [7000215, 7000222, 7000218, 700016, 90002, 1] {
            let body = format!(r#"{{"error":"x","error_codes":[{code}]}}"#);
            let t =
                aad_error(crate::systems::BC, &CredentialOrigin::default(), 401, &body).to_string();
            assert!(
                !t.contains("[bc] client") && !t.contains("[bc] tenant"),
                "{t}"
            );
        }
    }

    #[test]
    fn hints_name_the_per_system_table_or_the_stored_set() {
        let body = r#"{"error":"invalid_client","error_codes":[7000215]}"#;
        let t = aad_error(
            crate::systems::BC,
            &CredentialOrigin::Table("auth.bc".into()),
            401,
            body,
        )
        .to_string();
        assert!(t.contains("[auth.bc] client_secret_env"), "{t}");
        let stored = CredentialOrigin::Stored {
            setting: "auth.bc.credential".into(),
            name: "bc-prod".into(),
        };
        let t = aad_error(crate::systems::BC, &stored, 401, body).to_string();
        assert!(
            t.contains("stored credential 'bc-prod' (auth.bc.credential)"),
            "{t}"
        );
        assert!(t.contains("couplet credentials set bc-prod"), "{t}");
        let t = aad_error(
            crate::systems::BC,
            &stored,
            400,
            r#"{"error_codes":[90002]}"#,
        )
        .to_string();
        assert!(
            t.contains("tenant_id of stored credential 'bc-prod'"),
            "{t}"
        );
        // A certificate's refusals name its settings, or the stored set and the command.
        let expired = r#"{"error":"invalid_client","error_description":"AADSTS700024: Client assertion is not within its valid time range.\r\nTrace ID: x","error_codes":[700024]}"#;
        let t = aad_error(crate::systems::BC, &stored, 401, expired).to_string();
        assert!(t.contains("AADSTS700024") && t.contains("clock"), "{t}");
        assert!(
            t.contains("couplet credentials set bc-prod --certificate-file"),
            "{t}"
        );
        let t = aad_error(
            crate::systems::BC,
            &CredentialOrigin::Table("auth.bc".into()),
            401,
            r#"{"error":"invalid_client","error_codes":[700027]}"#,
        )
        .to_string();
        assert!(
            t.contains("[auth.bc] certificate_file and private_key_file"),
            "{t}"
        );
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = TokenCache::new(
            "http://127.0.0.1:1/",
            "t",
            "c",
            Secret::new("s3cr3t"),
            HttpConfig::default(),
        );
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t"));
        assert!(d.contains("***"));
        assert!(
            c.form(crate::systems::BC, "x/.default")
                .unwrap()
                .contains("client_secret=s3cr3t")
        );
        let bearer = BearerAuth::new(crate::systems::BC, Arc::new(c), "x/.default");
        assert_eq!(bearer.scope(), "x/.default");
        let d = format!("{bearer:?}");
        assert!(!d.contains("s3cr3t") && d.contains("x/.default"), "{d}");
    }
}
