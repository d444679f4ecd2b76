//! Sandbox settings and the small public value types around them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// How a [`Sandbox`](super::Sandbox) is started.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Seed for every generated value (names, ids, credentials). Default 42.
    pub seed: u64,
    /// Number of companies to seed. Default 200.
    pub records: usize,
    /// Address the three servers listen on. Default 127.0.0.1.
    pub bind: IpAddr,
    /// Entra ID port; 0 picks a free port.
    pub entra_port: u16,
    /// Dataverse port; 0 picks a free port.
    pub dataverse_port: u16,
    /// Business Central port; 0 picks a free port.
    pub bc_port: u16,
    /// Lifetime of issued access tokens. Default 3599 s.
    pub token_lifetime: Duration,
    /// Dataverse service-protection limits; `None` turns them off.
    pub dataverse_limits: Option<RateLimit>,
    /// Business Central per-user limits; `None` turns them off.
    pub bc_limits: Option<RateLimit>,
    /// The Finance & Operations emulator.
    pub fo: FoConfig,
    /// Certificates (PEM) registered on the app besides its client secret: a client
    /// assertion signed with one of their keys signs in (certificate credentials). Default
    /// none.
    pub client_certificates: Vec<String>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            records: 200,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            entra_port: 0,
            dataverse_port: 0,
            bc_port: 0,
            token_lifetime: Duration::from_secs(3599),
            dataverse_limits: None,
            bc_limits: None,
            fo: FoConfig::default(),
            client_certificates: Vec::new(),
        }
    }
}

/// How the Finance & Operations emulator runs.
#[derive(Debug, Clone)]
pub struct FoConfig {
    /// Port; 0 picks a free port.
    pub port: u16,
    /// User-based service-protection limits (requests per window, concurrent requests);
    /// `None` turns them off.
    pub limits: Option<RateLimit>,
    /// The combined execution time a user's requests may take per window of `limits`
    /// (F&O's default: 1200 s per 300 s); `None` turns it off.
    pub execution_limit: Option<Duration>,
    /// How long the first request after start waits, as the first OData call after an AOS
    /// restart does while the metadata is not cached yet (`data-entities/odata.md`, "After
    /// restarting AOS, the first OData call may take a long time"). Default none.
    pub cold_start: Duration,
    /// Server-driven page size (F&O's is 10,000, the most); `Prefer: odata.maxpagesize`
    /// lowers it per request.
    pub page_size: usize,
    /// Business Events.
    pub events: BusinessEventsConfig,
}

impl Default for FoConfig {
    fn default() -> Self {
        FoConfig {
            port: 0,
            limits: None,
            execution_limit: None,
            cold_start: Duration::ZERO,
            page_size: 10_000,
            events: BusinessEventsConfig::default(),
        }
    }
}

/// Where the F&O emulator sends Business Events, and how.
#[derive(Clone)]
pub struct BusinessEventsConfig {
    /// The HTTPS endpoint events are posted to; none until one is registered
    /// ([`Sandbox::fo_register_endpoint`](super::Sandbox::fo_register_endpoint)).
    pub endpoint: Option<String>,
    /// The header carrying the shared secret the receiver checks.
    pub secret_header: String,
    /// The shared secret's value.
    pub secret: String,
    /// Every n-th event is delivered twice (at-least-once delivery); `None` never.
    pub duplicate_every: Option<u32>,
    /// Pause between the retries of a failed delivery (F&O retries 3 times, 1 s apart).
    pub retry_interval: Duration,
    /// A root certificate (PEM) the publisher trusts besides the system's, for an HTTPS
    /// endpoint with a private CA (tests).
    pub trust_root_pem: Option<Vec<u8>>,
}

impl Default for BusinessEventsConfig {
    fn default() -> Self {
        BusinessEventsConfig {
            endpoint: None,
            secret_header: "x-couplet-event-secret".into(),
            secret: "couplet-sandbox-business-events".into(),
            duplicate_every: None,
            retry_interval: Duration::from_secs(1),
            trust_root_pem: None,
        }
    }
}

impl fmt::Debug for BusinessEventsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessEventsConfig")
            .field("endpoint", &self.endpoint)
            .field("secret_header", &self.secret_header)
            .field("secret", &"<redacted>")
            .field("duplicate_every", &self.duplicate_every)
            .field("retry_interval", &self.retry_interval)
            .field(
                "trust_root_pem",
                &self.trust_root_pem.as_ref().map(|p| p.len()),
            )
            .finish()
    }
}

/// Per-caller limits: a sliding window of `requests` per `window`, at most `concurrent`
/// requests in flight; over either, 429 with `Retry-After: retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub requests: u32,
    /// Length of the sliding window.
    pub window: Duration,
    /// Requests allowed in flight at once.
    pub concurrent: u32,
    /// The `Retry-After` sent with a 429 (whole seconds, at least 1).
    pub retry_after: Duration,
}

impl RateLimit {
    /// The documented Dataverse defaults: 6000 requests per 300 s, 52 concurrent.
    pub fn dataverse_default() -> Self {
        RateLimit {
            requests: 6000,
            window: Duration::from_secs(300),
            concurrent: 52,
            retry_after: Duration::from_secs(5),
        }
    }

    /// The documented F&O user-based limits: 6000 requests per 300 s, 52 concurrent
    /// (`data-entities/service-protection-api-limits.md`).
    pub fn fo_default() -> Self {
        RateLimit {
            requests: 6000,
            window: Duration::from_secs(300),
            concurrent: 52,
            retry_after: Duration::from_secs(5),
        }
    }

    /// The documented Business Central defaults: 6000 requests per 5 minutes, 5 concurrent.
    pub fn bc_default() -> Self {
        RateLimit {
            requests: 6000,
            window: Duration::from_secs(300),
            concurrent: 5,
            retry_after: Duration::from_secs(5),
        }
    }
}

/// The app registration the sandbox's Entra ID lets in.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Directory (tenant) id, a GUID.
    pub tenant_id: String,
    /// Application (client) id, a GUID.
    pub client_id: String,
    /// Client secret value.
    pub client_secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// A fault injected into one system; consumed by the next matching requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The next `count` requests get 429 with `Retry-After`.
    Throttle {
        /// How many requests.
        count: u32,
        /// The `Retry-After` to send.
        retry_after: Duration,
    },
    /// The next `count` requests get 503 (Business Central adds `retry-after: 1`).
    Unavailable {
        /// How many requests.
        count: u32,
    },
    /// The next `count` collection GETs return a body that is not valid JSON.
    MalformedPage {
        /// How many collection GETs.
        count: u32,
    },
    /// The next `count` requests of kind `on` get `status` (500, 502, 503 or 504) before the
    /// service handles them, with `Retry-After` when `retry_after` is set; 502 and 504 come
    /// with a gateway's HTML page, as from a load balancer.
    ServerError {
        /// How many requests.
        count: u32,
        /// The HTTP status.
        status: u16,
        /// The `Retry-After` to send, if any (whole seconds).
        retry_after: Option<Duration>,
        /// Which requests.
        on: Requests,
    },
    /// The next `count` requests of kind `on` are handled (a write is made), but the answer is
    /// held for `hold`: longer than the client's timeout, it never arrives in time.
    Timeout {
        /// How many requests.
        count: u32,
        /// How long the answer is held.
        hold: Duration,
        /// Which requests.
        on: Requests,
    },
    /// The next `count` requests of kind `on` get no answer: the connection is closed, before
    /// the service handles the request ([`Lost::Request`]) or after ([`Lost::Response`]: a
    /// write is made and its answer lost).
    Reset {
        /// How many requests.
        count: u32,
        /// What is lost.
        lost: Lost,
        /// Which requests.
        on: Requests,
    },
    /// The next `count` requests of kind `on` are answered normally after `delay` (within the
    /// client's timeout).
    Slow {
        /// How many requests.
        count: u32,
        /// The added delay.
        delay: Duration,
        /// Which requests.
        on: Requests,
    },
    /// The next `count` requests of kind `on` are handled, and their answer is cut off
    /// half-way through the body (the header's `Content-Length` promised all of it; the
    /// connection then closes). Answers without a body are not hit.
    Truncated {
        /// How many requests.
        count: u32,
        /// Which requests.
        on: Requests,
    },
    /// The next `count` requests of kind `on` are handled, and their answer's body is a
    /// gateway's HTML page instead of JSON (the status kept). Answers without a body are not
    /// hit.
    MalformedBody {
        /// How many requests.
        count: u32,
        /// Which requests.
        on: Requests,
    },
}

/// Which requests a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Requests {
    /// Every request.
    Any,
    /// GETs of a collection (a query or a page).
    Collection,
    /// GETs of one record (`set(key)`).
    Single,
    /// POST, PATCH, PUT and DELETE.
    Write,
}

/// What a [`Fault::Reset`] loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lost {
    /// The request: the service never sees it.
    Request,
    /// The answer: the service handled the request.
    Response,
}

/// The kinds of injected fault, as counted when served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// 429 with `Retry-After` ([`Fault::Throttle`]).
    Throttle,
    /// 503 ([`Fault::Unavailable`]).
    Unavailable,
    /// A collection page that is not JSON ([`Fault::MalformedPage`]).
    MalformedPage,
    /// 500, 502, 503 or 504 ([`Fault::ServerError`]).
    ServerError,
    /// The answer held past the client's timeout ([`Fault::Timeout`]).
    Timeout,
    /// The connection closed before the request was handled.
    ResetRequest,
    /// The connection closed after the request was handled.
    ResetResponse,
    /// A late answer ([`Fault::Slow`]).
    Slow,
    /// A body cut off half-way ([`Fault::Truncated`]).
    Truncated,
    /// A body that is not JSON ([`Fault::MalformedBody`]).
    MalformedBody,
}

impl FaultKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Throttle,
        FaultKind::Unavailable,
        FaultKind::MalformedPage,
        FaultKind::ServerError,
        FaultKind::Timeout,
        FaultKind::ResetRequest,
        FaultKind::ResetResponse,
        FaultKind::Slow,
        FaultKind::Truncated,
        FaultKind::MalformedBody,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Throttle => "429 throttle",
            FaultKind::Unavailable => "503 unavailable",
            FaultKind::MalformedPage => "malformed page",
            FaultKind::ServerError => "5xx burst",
            FaultKind::Timeout => "timeout",
            FaultKind::ResetRequest => "reset (request lost)",
            FaultKind::ResetResponse => "reset (answer lost)",
            FaultKind::Slow => "slow answer",
            FaultKind::Truncated => "truncated body",
            FaultKind::MalformedBody => "malformed body",
        }
    }

    /// The position of this kind in [`FaultKind::ALL`] (the declaration order).
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// Request counters of one emulated system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SandboxStats {
    /// Requests received (all of them, including rejected ones).
    pub requests: u64,
    /// Requests answered with 429.
    pub throttled: u64,
    /// Successful creates, updates and deletes through the API.
    pub writes: u64,
}
