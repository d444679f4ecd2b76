//! State shared by the servers and the [`Sandbox`](super::Sandbox) handle.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;

use super::config::Credentials;
use super::faults::Faults;
use super::fo::state::FoService;
use super::table::Store;
use super::throttle::Limiter;

/// The resource (audience) of Business Central tokens.
pub(crate) const BC_RESOURCE: &str = "https://api.businesscentral.dynamics.com";
/// The BC environment name in URLs.
pub(crate) const BC_ENVIRONMENT: &str = "sandbox";

/// An access token the sandbox issued.
#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub audience: String,
    pub appid: String,
    pub expires: SystemTime,
}

/// One emulated resource server's state.
#[derive(Debug)]
pub(crate) struct Service {
    pub store: Mutex<Store>,
    pub faults: Faults,
    pub limiter: Limiter,
}

/// Everything the servers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub creds: Credentials,
    /// The certificates registered on the app (DER).
    pub app_certificates: Vec<rustls_pki_types::CertificateDer<'static>>,
    pub token_lifetime: Duration,
    /// `http://host:port/`
    pub entra_authority: String,
    /// Dataverse environment URL, `http://host:port/`.
    pub dv_url: String,
    /// BC API root, `http://host:port/v2.0/{tenant}/{env}/api/v2.0/`.
    pub bc_api_url: String,
    pub bc_company_id: String,
    pub tokens: Mutex<HashMap<String, TokenInfo>>,
    pub tokens_issued: AtomicU64,
    pub dv: Service,
    pub bc: Service,
    /// Finance & Operations environment URL, `http://host:port/`.
    pub fo_url: String,
    pub fo: FoService,
    /// The Dataverse application user of the client app.
    pub dv_app_user: String,
    /// The Dataverse human user that direct edits are attributed to.
    pub dv_human_user: String,
}

impl Shared {
    /// The Dataverse token resource: the environment URL without its trailing slash.
    pub fn dv_resource(&self) -> String {
        self.dv_url.trim_end_matches('/').to_string()
    }

    /// The F&O token resource: the environment URL without its trailing slash.
    pub fn fo_resource(&self) -> String {
        self.fo_url.trim_end_matches('/').to_string()
    }

    /// The F&O OData service root, `http://host:port/data/`.
    pub fn fo_data_url(&self) -> String {
        format!("{}data/", self.fo_url)
    }

    /// The Dataverse Web API base, ending in `/`.
    pub fn dv_api_base(&self) -> String {
        format!("{}api/data/v9.2/", self.dv_url)
    }
}
