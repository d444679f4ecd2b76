//! Error classification shared by every module.
//!
//! Each module has its own `thiserror` enum; every one of them can say who must act on it
//! ([`Actor`]) and whether trying again can help ([`Retry`]). The pipeline uses these two
//! answers to decide between retrying, parking, dead-lettering and listing an error.
//!
//! [`ConfigError`] is here too, below both the configuration file ([`crate::config`]) and the
//! sections other modules own and validate (such as `bus::kafka::KafkaConfig`).

use std::path::PathBuf;
use std::time::Duration;

/// Who has to act for an error to go away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The person running Couplet: a setting, a mapping, a credential or the data itself.
    User,
    /// A system Couplet talks to: it is down, throttling, or rejecting the request.
    External,
    /// Couplet itself: a bug or a broken local store.
    Internal,
}

impl Actor {
    /// The stable lower-case name used in metrics labels and the errors list.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::External => "external",
            Actor::Internal => "internal",
        }
    }
}

/// Whether, and when, the same operation may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Trying again cannot succeed until someone changes something.
    Never,
    /// A transient fault: try again with jittered exponential backoff.
    Backoff,
    /// The other side said when: try again after this long (`Retry-After`).
    After(Duration),
}

/// Implemented by every module's error enum.
pub trait Classify {
    /// Who must act.
    fn actor(&self) -> Actor;
    /// Whether to retry.
    fn retry(&self) -> Retry;
    /// A short, stable, low-cardinality class name for metrics and the errors list
    /// (for example `throttled`, `validation`, `not_found`).
    fn class(&self) -> &'static str;
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config file {file}: {reason}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid, or has unknown or missing settings.
    #[error("config file {file}: {reason}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// What the parser said, with line and column.
        reason: String,
    },
    /// A setting has an unusable value.
    #[error("setting {setting}: {reason}")]
    Invalid {
        /// The setting, e.g. `auth.client_secret_env`.
        setting: String,
        /// What is wrong and what to do.
        reason: String,
    },
}

impl Classify for ConfigError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        "config"
    }
}
