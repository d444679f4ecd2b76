//! What a connector is built with from its configuration section, and how it says that the
//! section cannot be used.

use std::sync::Arc;

use super::auth::TokenCache;
use super::http::HttpConfig;

/// What every connector may use when it is built: Entra ID tokens from its own credentials
/// (`[auth.<system>]` or the shared `[auth]`) and the HTTP settings (`[http]`).
pub struct ConnectContext {
    /// Entra ID client-credential tokens of the system's app, cached per scope.
    pub tokens: Arc<TokenCache>,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

/// A system's configuration section that cannot be used: the setting and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionError {
    /// The setting, e.g. `bc.page_size`, or the section.
    pub setting: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl SectionError {
    /// An error about `setting`.
    pub fn new(setting: &str, reason: impl Into<String>) -> Self {
        SectionError {
            setting: setting.to_string(),
            reason: reason.into(),
        }
    }
}

/// Checks that `url`, the value of `setting`, is absolute and ends in `/`.
pub fn check_url(setting: &str, url: &str) -> Result<(), SectionError> {
    if url::Url::parse(url).is_err() || !url.ends_with('/') {
        return Err(SectionError::new(
            setting,
            format!("'{url}' is not an absolute URL ending in '/'"),
        ));
    }
    Ok(())
}
