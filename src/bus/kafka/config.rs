//! Settings of the Kafka backend (`[bus.kafka]` in the configuration file).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::error::ConfigError;

/// librdkafka properties Couplet sets itself: overriding them through `extra` would break the
/// guarantees the engine relies on (durable, ordered produce; commits only after processing).
const RESERVED: &[&str] = &[
    "bootstrap.servers",
    "metadata.broker.list",
    "enable.idempotence",
    "acks",
    "request.required.acks",
    "partitioner",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "auto.offset.reset",
    "enable.partition.eof",
    "partition.assignment.strategy",
    "group.protocol",
    "allow.auto.create.topics",
    "transactional.id",
    "sasl.password",
];

/// Why GSSAPI is refused by a build without the `kerberos` feature.
const KERBEROS_OFF: &str = "GSSAPI (Kerberos) needs Couplet built with the `kerberos` cargo \
     feature, which this build does not have: build with `cargo build --release --features \
     kerberos` (needs Debian's libsasl2-dev; at run time libsasl2-modules-gssapi-mit)";

/// How Couplet talks to the brokers, as librdkafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityProtocol {
    /// No TLS, no authentication (local brokers, tests).
    #[default]
    Plaintext,
    /// TLS, no SASL.
    Ssl,
    /// SASL without TLS.
    SaslPlaintext,
    /// SASL over TLS (managed Kafka services).
    SaslSsl,
}

impl SecurityProtocol {
    /// The librdkafka value.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
            SecurityProtocol::SaslSsl => "sasl_ssl",
        }
    }

    /// True when SASL authentication is used.
    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

/// `[bus.kafka]`: where the brokers are and how to authenticate. Topic names (and their
/// prefix) come from the engine's `Topics`, not from here.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap brokers, comma-separated `host:port` (librdkafka's `bootstrap.servers`).
    pub brokers: String,
    /// Replication factor of the topics Couplet creates (default 1; use 3 in production).
    #[serde(default = "default_replication_factor")]
    pub replication_factor: u16,
    /// `plaintext` (default), `ssl`, `sasl_plaintext` or `sasl_ssl`.
    #[serde(default)]
    pub security_protocol: SecurityProtocol,
    /// SASL mechanism: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`, `OAUTHBEARER`, or `GSSAPI`
    /// (Kerberos, only in a build with the `kerberos` feature).
    #[serde(default)]
    pub sasl_mechanism: Option<String>,
    /// SASL user name.
    #[serde(default)]
    pub sasl_username: Option<String>,
    /// SASL password, inline. Prefer `sasl_password_env`.
    #[serde(default)]
    pub sasl_password: Option<String>,
    /// Name of the environment variable holding the SASL password.
    #[serde(default)]
    pub sasl_password_env: Option<String>,
    /// CA certificate(s) (PEM file) to verify the brokers' TLS certificates; the system's
    /// store when unset.
    #[serde(default)]
    pub ssl_ca_location: Option<PathBuf>,
    /// Client id shown in the brokers' logs and quotas (default `couplet`).
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Milliseconds to wait for a broker to answer a metadata, admin or offset request
    /// (default 5000). `connect` fails after this long when no broker answers.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Further librdkafka properties, passed through unchanged (e.g. `compression.type`,
    /// `ssl.certificate.location`). The properties Couplet's guarantees depend on (idempotence,
    /// acks, partitioner, group and commit settings, the password) cannot be set here.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

fn default_replication_factor() -> u16 {
    1
}

fn default_client_id() -> String {
    "couplet".to_string()
}

fn default_request_timeout_ms() -> u64 {
    5000
}

impl std::fmt::Debug for KafkaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("replication_factor", &self.replication_factor)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password.as_ref().map(|_| "***"))
            .field("sasl_password_env", &self.sasl_password_env)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("client_id", &self.client_id)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("extra", &self.extra)
            .finish()
    }
}

impl KafkaConfig {
    /// Plaintext settings for `brokers` with every other setting at its default.
    pub fn new(brokers: &str) -> Self {
        KafkaConfig {
            brokers: brokers.to_string(),
            replication_factor: default_replication_factor(),
            security_protocol: SecurityProtocol::default(),
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            sasl_password_env: None,
            ssl_ca_location: None,
            client_id: default_client_id(),
            request_timeout_ms: default_request_timeout_ms(),
            extra: BTreeMap::new(),
        }
    }

    /// Checks the settings (the engine calls this when loading the configuration; `connect`
    /// calls it too).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &str, reason: String| ConfigError::Invalid {
            setting: format!("bus.kafka.{setting}"),
            reason,
        };
        if self.brokers.split(',').all(|b| b.trim().is_empty()) {
            return Err(invalid(
                "brokers",
                "no broker: list at least one host:port, e.g. \"localhost:9092\"".into(),
            ));
        }
        if self.replication_factor == 0 {
            return Err(invalid("replication_factor", "must be at least 1".into()));
        }
        if self.request_timeout_ms == 0 {
            return Err(invalid("request_timeout_ms", "must be at least 1".into()));
        }
        if let Some(key) = self.extra.keys().find(|k| {
            RESERVED.contains(&k.as_str()) || k.starts_with("sasl.oauthbearer.client.secret")
        }) {
            return Err(invalid(
                &format!("extra.{key}"),
                "Couplet sets this property itself; remove it (use the documented setting for \
                 brokers and the password)"
                    .into(),
            ));
        }
        if !cfg!(feature = "kerberos") {
            let gssapi = |v: &str| {
                v.split(',')
                    .any(|m| m.trim().eq_ignore_ascii_case("GSSAPI"))
            };
            let chosen = if self.sasl_mechanism.as_deref().is_some_and(gssapi) {
                Some("sasl_mechanism".to_string())
            } else {
                self.extra
                    .iter()
                    .find(|(k, v)| {
                        matches!(k.as_str(), "sasl.mechanism" | "sasl.mechanisms") && gssapi(v)
                    })
                    .map(|(k, _)| format!("extra.{k}"))
            };
            if let Some(setting) = chosen {
                return Err(invalid(&setting, KERBEROS_OFF.into()));
            }
        }
        if self.security_protocol.uses_sasl() && self.sasl_mechanism.is_none() {
            return Err(invalid(
                "sasl_mechanism",
                format!(
                    "security_protocol = \"{}\" needs a mechanism, e.g. \"SCRAM-SHA-512\"",
                    self.security_protocol.as_str()
                ),
            ));
        }
        let needs_password = self.security_protocol.uses_sasl()
            && matches!(
                self.sasl_mechanism.as_deref(),
                Some("PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512")
            );
        if needs_password {
            if self.sasl_username.is_none() {
                return Err(invalid(
                    "sasl_username",
                    "the SASL mechanism needs a user name".into(),
                ));
            }
            self.sasl_password()?;
        }
        Ok(())
    }

    /// How long to wait for a broker's answer (`request_timeout_ms`).
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.request_timeout_ms)
    }

    /// The SASL password, from `sasl_password_env` or inline; `None` when neither is set.
    pub fn sasl_password(&self) -> Result<Option<String>, ConfigError> {
        if let Some(var) = &self.sasl_password_env {
            return std::env::var(var)
                .map(Some)
                .map_err(|_| ConfigError::Invalid {
                    setting: "bus.kafka.sasl_password_env".into(),
                    reason: format!(
                        "environment variable {var} is not set; export it with the SASL password"
                    ),
                });
        }
        Ok(self.sasl_password.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_defaults_and_redacts_the_password() {
        let c: KafkaConfig = toml::from_str(
            r#"
            brokers = "b1:9092,b2:9092"
            security_protocol = "sasl_ssl"
            sasl_mechanism = "SCRAM-SHA-512"
            sasl_username = "couplet"
            sasl_password = "hunter2"
            extra = { "compression.type" = "zstd" }
            "#,
        )
        .unwrap();
        assert_eq!(c.replication_factor, 1);
        assert_eq!(c.client_id, "couplet");
        assert_eq!(c.request_timeout_ms, 5000);
        c.validate().unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn rejects_unknown_fields_and_reserved_extras() {
        assert!(toml::from_str::<KafkaConfig>("brokers = \"b\"\ntopic_prefix = \"x\"").is_err());
        let mut c = KafkaConfig::new("b:9092");
        c.extra.insert("enable.auto.commit".into(), "true".into());
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("bus.kafka.extra.enable.auto.commit"), "{e}");
        let c = KafkaConfig::new(" , ");
        assert!(c.validate().is_err());
    }

    #[test]
    fn gssapi_needs_the_kerberos_feature() {
        let mut by_setting = KafkaConfig::new("b:9092");
        by_setting.security_protocol = SecurityProtocol::SaslSsl;
        by_setting.sasl_mechanism = Some("GSSAPI".into());
        let mut by_extra = KafkaConfig::new("b:9092");
        by_extra.security_protocol = SecurityProtocol::SaslPlaintext;
        by_extra.sasl_mechanism = Some("SCRAM-SHA-512".into());
        by_extra.sasl_username = Some("u".into());
        by_extra.sasl_password = Some("p".into());
        by_extra
            .extra
            .insert("sasl.mechanisms".into(), "gssapi".into());
        for (c, setting) in [
            (by_setting, "bus.kafka.sasl_mechanism"),
            (by_extra, "bus.kafka.extra.sasl.mechanisms"),
        ] {
            if cfg!(feature = "kerberos") {
                c.validate().unwrap();
            } else {
                let e = c.validate().unwrap_err().to_string();
                assert!(e.contains(setting), "{e}");
                assert!(e.contains("--features kerberos"), "{e}");
            }
        }
    }

    #[test]
    fn sasl_needs_mechanism_user_and_password() {
        let mut c = KafkaConfig::new("b:9092");
        c.security_protocol = SecurityProtocol::SaslSsl;
        assert!(c.validate().is_err());
        c.sasl_mechanism = Some("PLAIN".into());
        c.sasl_username = Some("u".into());
        c.sasl_password_env = Some("COUPLET_TEST_SURELY_UNSET_VAR".into());
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("COUPLET_TEST_SURELY_UNSET_VAR"), "{e}");
    }
}
