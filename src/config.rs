//! Couplet's configuration file (TOML). Every section and field is documented in README.md
//! ("Configuration"); defaults live here and only here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::credentials::{AuthConfig, AuthSource, CredentialsSection};
pub use crate::error::ConfigError;
use crate::event::{Side, System};
use crate::systems::HttpConfig;
use crate::systems::registry::{self, Registered};

/// The whole configuration. Besides the sections below, each system has its own section
/// named after it (`[dataverse]`, `[bc]`, …), read by its connector; an unknown section is
/// an error (see [`Config::check`]).
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    /// Where the embedded log and the projection live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The systems' credentials: `[auth]` (the shared default) and `[auth.<system>]`.
    #[serde(default)]
    pub auth: AuthConfig,
    /// The encrypted credential store and its key.
    #[serde(default)]
    pub credentials: CredentialsSection,
    /// Which ERP this instance keeps in step with the CRM.
    #[serde(default)]
    pub erp: ErpSection,
    /// The log.
    #[serde(default)]
    pub bus: BusSection,
    /// Change capture.
    #[serde(default)]
    pub capture: CaptureSection,
    /// What to synchronise.
    #[serde(default)]
    pub sync: SyncSection,
    /// HTTP timeouts and retries, for every system.
    #[serde(default)]
    pub http: HttpConfig,
    /// Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsSection,
    /// The operator console (`[console]`), served on the same listener.
    #[serde(default)]
    pub console: crate::console::ConsoleSection,
    /// Sales orders from Dataverse to Business Central.
    #[serde(default)]
    pub orders: crate::orders::OrdersConfig,
    /// Drift reconciliation (`couplet reconcile`, and its schedule in `couplet run`).
    #[serde(default)]
    pub reconcile: crate::drift::ReconcileConfig,
    /// The systems' own sections, by system name (checked by their connectors).
    #[serde(flatten)]
    pub systems: std::collections::BTreeMap<String, toml::Value>,
}

/// `[erp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErpSection {
    /// The ERP's system name (`bc`); its own section (`[bc]`) configures it. One CRM↔ERP
    /// pair per instance: several pairs are several instances with their own topic prefix.
    #[serde(default = "default_erp")]
    pub system: String,
}

impl Default for ErpSection {
    fn default() -> Self {
        ErpSection {
            system: default_erp(),
        }
    }
}

/// `[bus]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSection {
    /// `embedded` (a durable log in the data directory) or `kafka` (then `[bus.kafka]`).
    #[serde(default = "default_backend")]
    pub backend: String,
    /// Partitions per topic.
    #[serde(default = "default_partitions")]
    pub partitions: u32,
    /// Topic name prefix.
    #[serde(default = "default_prefix")]
    pub topic_prefix: String,
    /// Kafka brokers and security, for `backend = "kafka"`.
    #[serde(default)]
    pub kafka: Option<crate::bus::KafkaConfig>,
    /// How long events are kept, how the changelogs are compacted, how long the audit index
    /// keeps entries (`[bus.retention]`).
    #[serde(default)]
    pub retention: crate::bus::RetentionConfig,
}

impl Default for BusSection {
    fn default() -> Self {
        BusSection {
            backend: default_backend(),
            partitions: default_partitions(),
            topic_prefix: default_prefix(),
            kafka: None,
            retention: crate::bus::RetentionConfig::default(),
        }
    }
}

/// `[capture]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureSection {
    /// Milliseconds between polls once a capture has caught up.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// Business Central polling overlap in milliseconds: each poll re-reads this much before
    /// the watermark and drops what it has already seen, so a change committed late within the
    /// same second is never missed.
    #[serde(default = "default_overlap_ms")]
    pub bc_overlap_ms: u64,
}

impl Default for CaptureSection {
    fn default() -> Self {
        CaptureSection {
            poll_interval_ms: default_poll_ms(),
            bc_overlap_ms: default_overlap_ms(),
        }
    }
}

/// `[sync]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSection {
    /// Mappings to run; empty (the default): the ERP's default selection (Business
    /// Central: CUSTOMER, CONTACT; F&O: CUSTOMER, ITEM-PRODUCT, SALESORDER).
    #[serde(default)]
    pub mappings: Vec<String>,
    /// A mapping file replacing the shipped defaults.
    #[serde(default)]
    pub mapping_file: Option<PathBuf>,
    /// Business Central's local currency: a blank currency code means this ISO code.
    #[serde(default = "default_lcy")]
    pub lcy_code: String,
    /// Writes in flight at once (one per partition at most).
    #[serde(default = "default_apply_concurrency")]
    pub apply_concurrency: usize,
    /// Seconds a stop (SIGTERM, Ctrl-C) waits for the stages to finish the message in hand
    /// (default 10, under an orchestrator's usual 30 s kill). Then they are stopped where they
    /// are: what is not committed is read again on the next start, and the writes are
    /// idempotent.
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_secs: f64,
}

impl SyncSection {
    /// `shutdown_grace_secs` as a duration.
    pub fn shutdown_grace(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.shutdown_grace_secs.max(0.0))
            .unwrap_or(std::time::Duration::from_secs(10))
    }
}

impl Default for SyncSection {
    fn default() -> Self {
        SyncSection {
            mappings: Vec::new(),
            mapping_file: None,
            lcy_code: default_lcy(),
            apply_concurrency: default_apply_concurrency(),
            shutdown_grace_secs: default_shutdown_grace(),
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Address for `/metrics`, `/healthz` and `/readyz`; none = not served. Give a loopback
    /// address (`127.0.0.1:9464`) unless a scraper on another host (or container) must
    /// reach it.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// The environment variable holding a token: `/readyz` shows each connection's details
    /// (error messages with URLs) only to requests with `Authorization: Bearer <token>`;
    /// without it, only names and states (the details are in the log).
    #[serde(default)]
    pub detail_token_env: Option<String>,
}

impl MetricsSection {
    /// The `/readyz` detail token, from `detail_token_env`.
    pub fn detail_token(&self) -> Result<Option<crate::systems::Secret>, ConfigError> {
        let Some(var) = &self.detail_token_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Some(crate::systems::Secret::new(v))),
            _ => Err(ConfigError::Invalid {
                setting: "metrics.detail_token_env".into(),
                reason: format!(
                    "environment variable {var} is not set (or empty); export it with the token callers of /readyz present"
                ),
            }),
        }
    }
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let cfg: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        cfg.check()?;
        cfg.warn_exposed_secrets(path);
        Ok(cfg)
    }

    /// Logs a warning for each secret written in the config file (naming the setting) and
    /// for a config file others than its owner can read (naming the file and the chmod).
    pub fn warn_exposed_secrets(&self, path: &Path) {
        for setting in self.auth.inline_secrets() {
            tracing::warn!(
                %setting,
                file = %path.display(),
                "A client secret is written in the config file; store it with `couplet credentials set` and name it with `credential`, or use `client_secret_env`."
            );
        }
        if let Ok(bits) = crate::private_fs::loose_bits(path)
            && bits != 0
        {
            tracing::warn!(
                file = %path.display(),
                "The config file can be read by others than its owner; run `chmod 600 {}`.",
                path.display()
            );
        }
    }

    /// Checks values that parse but cannot work.
    pub fn check(&self) -> Result<(), ConfigError> {
        let bad = |setting: &str, reason: &str| {
            Err(ConfigError::Invalid {
                setting: setting.into(),
                reason: reason.into(),
            })
        };
        match (self.bus.backend.as_str(), &self.bus.kafka) {
            ("embedded", _) => {}
            ("kafka", Some(k)) => k.validate()?,
            ("kafka", None) => {
                return bad(
                    "bus.kafka",
                    "backend = \"kafka\" needs a [bus.kafka] table with at least brokers = \"host:9092\"",
                );
            }
            (other, _) => {
                return bad(
                    "bus.backend",
                    &format!("'{other}' is not a backend: use \"embedded\" or \"kafka\""),
                );
            }
        }
        if self.bus.partitions == 0 || self.bus.partitions > 256 {
            return bad("bus.partitions", "use 1 to 256");
        }
        if let Some((setting, reason)) = self.bus.retention.problem() {
            return bad(setting, reason);
        }
        self.auth.check(
            |name| registry::find(name).map(|s| s.as_str()) == Some(name),
            &registry::names(),
        )?;
        for name in self.systems.keys() {
            if name.parse::<System>().ok().map(|s| s.as_str()) != Some(name.as_str()) {
                return bad(
                    name,
                    &format!(
                        "unknown section [{name}]: the systems are {}; check the spelling",
                        registry::names()
                    ),
                );
            }
        }
        for side in [Side::Crm, Side::Erp] {
            let (r, section) = self.system_section(side)?;
            (r.check)(section).map_err(invalid)?;
            self.auth.require(r.system.as_str())?;
        }
        if let Some((setting, reason)) = self.reconcile.problem() {
            return bad(setting, &reason);
        }
        if self.sync.apply_concurrency == 0 {
            return bad("sync.apply_concurrency", "use at least 1");
        }
        Ok(())
    }
}

impl Config {
    /// The registered system on `side` (the CRM, or `[erp] system`) and its section.
    pub fn system_section(
        &self,
        side: Side,
    ) -> Result<(&'static Registered, &toml::Value), ConfigError> {
        let (name, setting) = match side {
            Side::Crm => (registry::default_pair().crm.as_str(), "crm"),
            Side::Erp => (self.erp.system.as_str(), "erp.system"),
        };
        let r = name
            .parse::<System>()
            .ok()
            .filter(|s| s.side() == side)
            .and_then(registry::registered)
            .ok_or_else(|| ConfigError::Invalid {
                setting: setting.into(),
                reason: format!(
                    "'{name}' is not a registered {side} system; the systems are {}",
                    registry::names()
                ),
            })?;
        let section = self
            .systems
            .get(r.system.as_str())
            .ok_or_else(|| ConfigError::Invalid {
                setting: r.system.as_str().into(),
                reason: format!(
                    "missing section [{}]: it configures the {side} system",
                    r.system
                ),
            })?;
        Ok((r, section))
    }
}

fn invalid(e: registry::SectionError) -> ConfigError {
    ConfigError::Invalid {
        setting: e.setting,
        reason: e.reason,
    }
}

fn default_erp() -> String {
    "bc".into()
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("couplet-data")
}
fn default_backend() -> String {
    "embedded".into()
}
fn default_partitions() -> u32 {
    8
}
fn default_prefix() -> String {
    "couplet".into()
}
fn default_poll_ms() -> u64 {
    2000
}
fn default_overlap_ms() -> u64 {
    5000
}
fn default_lcy() -> String {
    "USD".into()
}
fn default_shutdown_grace() -> f64 {
    10.0
}
fn default_apply_concurrency() -> usize {
    8
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[auth]
tenant_id = "t"
client_id = "c"
client_secret_env = "COUPLET_TEST_SECRET_UNSET"
[dataverse]
url = "https://org.crm.dynamics.com/"
[bc]
api_url = "https://api.businesscentral.dynamics.com/v2.0/t/Production/api/v2.0/"
company_id = "00000000-0000-0000-0000-000000000001"
"#;

    #[test]
    fn minimal_config_gets_defaults() {
        let cfg: Config = toml::from_str(MINIMAL).unwrap();
        cfg.check().unwrap();
        assert_eq!(cfg.bus.partitions, 8);
        assert!(cfg.sync.mappings.is_empty(), "the ERP's default selection");
        let (erp, _) = cfg.system_section(Side::Erp).unwrap();
        assert_eq!(erp.default_selection, ["CUSTOMER", "CONTACT"]);
        let mut r = crate::credentials::Resolver::new(&cfg.auth, &cfg.credentials, &cfg.data_dir);
        let err = r.entra_app("bc").unwrap_err().to_string();
        assert!(err.contains("COUPLET_TEST_SECRET_UNSET"), "{err}");
        assert!(err.contains("auth.client_secret_env"), "{err}");
    }

    #[test]
    fn unknown_setting_is_named() {
        let text = format!("{MINIMAL}\n[capture]\npoll_interval = 5\n");
        let err = toml::from_str::<Config>(&text).unwrap_err().to_string();
        assert!(err.contains("poll_interval"), "{err}");
    }
}
