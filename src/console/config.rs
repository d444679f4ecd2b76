//! `[console]`: the operator console's settings. The console is off unless a token is
//! configured; it is served on the HTTP listener (`[metrics] listen`, or
//! [`DEFAULT_LISTEN`] when that is not set), which must be a loopback address unless
//! `allow_remote` says otherwise.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::systems::Secret;

/// Where the listener binds when the console is on and `[metrics] listen` is not set.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";

/// `[console]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    /// The environment variable holding the console's token (what an operator types on the
    /// login page, or sends as `Authorization: Bearer …`). None: the console is off.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Serve the console on a listener that is not a loopback address. Off by default: the
    /// console changes couplings and re-drives records, so put it behind a TLS proxy on
    /// loopback, and turn this on only when that proxy runs on another host.
    #[serde(default)]
    pub allow_remote: bool,
}

impl ConsoleSection {
    /// The console's token (None: the console is off).
    pub fn token(&self) -> Result<Option<Secret>, ConfigError> {
        let Some(var) = &self.token_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(v) if v.trim().len() >= 16 => Ok(Some(Secret::new(v.trim().to_string()))),
            Ok(v) if !v.trim().is_empty() => Err(ConfigError::Invalid {
                setting: "console.token_env".into(),
                reason: format!(
                    "the token in {var} is shorter than 16 characters; use a long random one (e.g. `openssl rand -hex 24`)"
                ),
            }),
            _ => Err(ConfigError::Invalid {
                setting: "console.token_env".into(),
                reason: format!(
                    "environment variable {var} is not set (or empty); export it with the console's token, or remove [console] token_env to turn the console off"
                ),
            }),
        }
    }

    /// Checks that the console may be served on `addr`.
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), ConfigError> {
        if addr.ip().is_loopback() || self.allow_remote {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            setting: "console.allow_remote".into(),
            reason: format!(
                "the console would be served on {addr}, which is not a loopback address; set [metrics] listen to 127.0.0.1:PORT (and reach it through a TLS proxy), or set [console] allow_remote = true"
            ),
        })
    }
}

/// The listener's address: `[metrics] listen`, or [`DEFAULT_LISTEN`] when the console is on
/// and no listener is configured.
pub fn listen_addr(metrics_listen: Option<SocketAddr>, console_on: bool) -> Option<SocketAddr> {
    metrics_listen.or_else(|| console_on.then(|| DEFAULT_LISTEN.parse().ok()).flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_without_a_token_and_loopback_only_by_default() {
        let off = ConsoleSection::default();
        assert!(off.token().unwrap().is_none());
        assert_eq!(listen_addr(None, false), None);
        assert_eq!(
            listen_addr(None, true),
            Some(DEFAULT_LISTEN.parse().unwrap())
        );
        let c = ConsoleSection::default();
        assert!(c.check_listen("127.0.0.1:9464".parse().unwrap()).is_ok());
        let e = c
            .check_listen("0.0.0.0:9464".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("allow_remote"), "{e}");
        let remote = ConsoleSection {
            allow_remote: true,
            ..Default::default()
        };
        assert!(remote.check_listen("0.0.0.0:9464".parse().unwrap()).is_ok());
    }

    #[test]
    fn a_missing_or_short_token_is_refused_naming_the_variable() {
        let c = ConsoleSection {
            token_env: Some("COUPLET_TEST_CONSOLE_TOKEN_UNSET".into()),
            ..Default::default()
        };
        let e = c.token().unwrap_err().to_string();
        assert!(e.contains("COUPLET_TEST_CONSOLE_TOKEN_UNSET"), "{e}");
    }
}
