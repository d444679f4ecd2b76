//! What can go wrong with the credential store, its key, or a credential set's reference.

use std::path::PathBuf;

use crate::error::{Actor, Classify, Retry};

/// A credential store, key or reference that cannot be used. Every message names the file,
/// variable or credential and what to do; none contains a secret or a key.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// Neither a key file nor the key variable is configured or set.
    #[error(
        "no key for the credential store: set the environment variable {env} (or [credentials] key_env) to a key, or set [credentials] key_file; `couplet credentials new-key` makes one"
    )]
    NoKey {
        /// The environment variable looked at.
        env: String,
    },
    /// The key file can be read or written by group or others.
    #[error(
        "key file {} is readable by others than its owner (mode {mode:04o}); run `chmod 600 {}`",
        file.display(),
        file.display()
    )]
    KeyFileMode {
        /// The key file.
        file: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key cannot be read, or is not a key.
    #[error("key from {origin}: {reason}")]
    BadKey {
        /// Where it came from (`environment variable X`, `key file Y`).
        origin: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The store was encrypted under another key.
    #[error(
        "credential store {}: it is encrypted under key {stored}, and the key from {origin} is {given}; use the key it was written with (or `couplet credentials rotate` with the old key to move it to a new one)",
        file.display()
    )]
    WrongKey {
        /// The store.
        file: PathBuf,
        /// The id of the key the store names.
        stored: String,
        /// The id of the key given.
        given: String,
        /// Where the key given came from.
        origin: String,
    },
    /// Decryption failed under the right key: the file was changed or damaged.
    #[error(
        "credential store {}: the file was altered or damaged (authentication failed); restore it from a backup or set the credentials again",
        file.display()
    )]
    Tampered {
        /// The store.
        file: PathBuf,
    },
    /// The store cannot be read or written.
    #[error("credential store {}: {reason}", file.display())]
    Io {
        /// The store (or key file).
        file: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The store is not a credential store of a version this Couplet reads.
    #[error("credential store {}: {reason}", file.display())]
    Format {
        /// The store.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A setting that refers to credentials cannot be used.
    #[error("setting {setting}: {reason}")]
    Setting {
        /// The setting, e.g. `auth.bc.client_secret_env`.
        setting: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A credential name that cannot be stored.
    #[error("credential name '{name}': use 1 to 64 letters, digits, '-', '_' or '.'")]
    BadName {
        /// The name given.
        name: String,
    },
    /// No credential set of that name is stored.
    #[error(
        "no credential '{name}' in {}{known}; store it with `couplet credentials set {name} …`",
        file.display()
    )]
    NotFound {
        /// The name asked for.
        name: String,
        /// The store.
        file: PathBuf,
        /// `" (stored: a, b)"`, or empty.
        known: String,
    },
    /// The set is of another kind than the system signs in with.
    #[error(
        "setting {setting}: credential '{name}' is {found}, and {system} signs in with {expected}"
    )]
    WrongKind {
        /// The setting that names it.
        setting: String,
        /// The credential's name.
        name: String,
        /// The system.
        system: String,
        /// What the system needs.
        expected: &'static str,
        /// What the set is.
        found: &'static str,
    },
}

impl Classify for CredentialError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        "credentials"
    }
}
