//! The receiver's settings: where it listens, which path F&O posts to, and the shared secret
//! the caller must present.
//!
//! F&O only accepts an `https://` URL for an HTTPS business-event endpoint. With `tls_cert`
//! and `tls_key` (PEM files) the receiver serves **HTTPS** itself ([`super::tls`]); without
//! them it speaks plain HTTP, for a TLS-terminating ingress or reverse proxy in front of it
//! (which then owns the certificate's renewal, and whose URL is registered in F&O).
//!
//! Every default is in [`BusinessEventsConfig::default`]; a TOML section only names what
//! differs:
//!
//! ```toml
//! listen = "0.0.0.0:9465"
//! secret_env = "COUPLET_FO_EVENT_SECRET"
//! ```

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use axum::http::HeaderName;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::systems::Secret;

/// The default port: next to the metrics endpoint's customary 9464.
pub const DEFAULT_PORT: u16 = 9465;

/// How the Business Events receiver runs.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusinessEventsConfig {
    /// The socket address to listen on. Default `127.0.0.1:9465` (loopback: the TLS
    /// terminator runs on the same host); use `0.0.0.0:9465` when it runs elsewhere, and port
    /// 0 to let the system pick one (tests).
    pub listen: SocketAddr,
    /// The URL path F&O posts events to. Default `/fo/business-events`. Must start with `/`.
    pub path: String,
    /// The request header carrying the shared secret, configured on the F&O side as the
    /// endpoint's header (or added by the ingress). Default `x-couplet-event-secret`.
    pub secret_header: String,
    /// Name of the environment variable holding the shared secret. Preferred over `secret`,
    /// and wins when both are set.
    pub secret_env: Option<String>,
    /// The shared secret inline. Prefer `secret_env`, so the value stays out of files.
    pub secret: Option<Secret>,
    /// A PEM file with the endpoint's certificate chain: with `tls_key`, the receiver serves
    /// HTTPS itself (F&O posts only to an HTTPS URL); without both, plain HTTP behind a
    /// TLS-terminating ingress.
    pub tls_cert: Option<std::path::PathBuf>,
    /// A PEM file with the private key of `tls_cert`.
    pub tls_key: Option<std::path::PathBuf>,
    /// The largest body accepted, in bytes; a larger one gets 413. Default 64 KiB (business
    /// events are small by design: F&O advises against using them to export data).
    pub max_body_bytes: usize,
    /// How many event ids and how many records the de-duplication remembers, each; the
    /// oldest are forgotten first. Default 100,000. Forgetting only makes a late duplicate or
    /// a stale event wake the poll once more: the poll, not the event, is the source of truth.
    pub dedup_capacity: usize,
}

impl Default for BusinessEventsConfig {
    fn default() -> Self {
        BusinessEventsConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            path: "/fo/business-events".into(),
            secret_header: "x-couplet-event-secret".into(),
            secret_env: None,
            secret: None,
            tls_cert: None,
            tls_key: None,
            max_body_bytes: 64 * 1024,
            dedup_capacity: 100_000,
        }
    }
}

impl fmt::Debug for BusinessEventsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessEventsConfig")
            .field("listen", &self.listen)
            .field("path", &self.path)
            .field("secret_header", &self.secret_header)
            .field("secret_env", &self.secret_env)
            .field("secret", &self.secret)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("dedup_capacity", &self.dedup_capacity)
            .finish()
    }
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: format!("fo.business_events.{setting}"),
        reason: reason.into(),
    }
}

impl BusinessEventsConfig {
    /// Checks every setting but the secret's value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.path.starts_with('/') || self.path.contains(['?', '#', ' ']) {
            return Err(invalid(
                "path",
                format!(
                    "{:?} is not a URL path: it must start with '/' and have no query",
                    self.path
                ),
            ));
        }
        self.header_name()?;
        if self.max_body_bytes == 0 {
            return Err(invalid("max_body_bytes", "must be at least 1"));
        }
        if self.dedup_capacity == 0 {
            return Err(invalid("dedup_capacity", "must be at least 1"));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(invalid(
                if self.tls_cert.is_some() {
                    "tls_key"
                } else {
                    "tls_cert"
                },
                "set both tls_cert and tls_key (PEM files) to serve HTTPS, or neither",
            ));
        }
        Ok(())
    }

    /// The secret header as an HTTP header name.
    pub fn header_name(&self) -> Result<HeaderName, ConfigError> {
        HeaderName::try_from(self.secret_header.as_str()).map_err(|_| {
            invalid(
                "secret_header",
                format!("{:?} is not a valid HTTP header name", self.secret_header),
            )
        })
    }

    /// The shared secret, from the environment variable or inline. An empty secret is refused:
    /// the endpoint never runs unauthenticated.
    pub fn resolve_secret(&self) -> Result<Secret, ConfigError> {
        let secret = if let Some(var) = &self.secret_env {
            let value = std::env::var(var).map_err(|_| {
                invalid(
                    "secret_env",
                    format!(
                        "environment variable {var} is not set; export it with the shared secret"
                    ),
                )
            })?;
            Secret::new(value)
        } else {
            self.secret.clone().ok_or_else(|| {
                invalid(
                    "secret",
                    "no shared secret: set secret_env (preferred) or secret",
                )
            })?
        };
        if secret.is_empty() {
            return Err(invalid("secret", "the shared secret is empty"));
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<BusinessEventsConfig, toml::de::Error> {
        toml::from_str(toml_text)
    }

    #[test]
    fn an_empty_section_has_the_documented_defaults() {
        let c = parse("").unwrap();
        assert_eq!(c, BusinessEventsConfig::default());
        assert_eq!(c.listen.to_string(), "127.0.0.1:9465");
        assert_eq!(c.path, "/fo/business-events");
        assert_eq!(c.secret_header, "x-couplet-event-secret");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = parse("secert = \"x\"").unwrap_err().to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn the_inline_secret_is_redacted_and_resolved() {
        let c = parse("secret = \"hunter2\"\nlisten = \"0.0.0.0:0\"").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.resolve_secret().unwrap().expose(), "hunter2");
    }

    #[test]
    fn a_missing_or_empty_secret_is_a_config_error_naming_the_setting() {
        let e = BusinessEventsConfig::default()
            .resolve_secret()
            .unwrap_err();
        assert!(e.to_string().contains("fo.business_events.secret"), "{e}");
        let c = parse("secret_env = \"COUPLET_TEST_FO_EVENT_SECRET_UNSET\"").unwrap();
        let e = c.resolve_secret().unwrap_err().to_string();
        assert!(e.contains("COUPLET_TEST_FO_EVENT_SECRET_UNSET"), "{e}");
        let c = parse("secret = \"\"").unwrap();
        assert!(c.resolve_secret().is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        for text in [
            "path = \"fo/events\"",
            "secret_header = \"bad header\"",
            "max_body_bytes = 0",
            "dedup_capacity = 0",
        ] {
            let c = parse(text).unwrap();
            assert!(c.validate().is_err(), "{text}");
        }
    }
}
