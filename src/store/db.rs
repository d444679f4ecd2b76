//! Opening the sled database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;

use super::couplings::Coupling;
use crate::error::{Actor, Classify, Retry};

/// Errors from the projection store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory cannot be opened or written.
    #[error(
        "the data directory {path} cannot be used: {reason}; check that it exists, is writable and is not open in another Couplet process"
    )]
    Io {
        /// The data directory.
        path: PathBuf,
        /// What sled said.
        reason: String,
    },
    /// A stored value does not decode.
    #[error(
        "stored {tree} entry '{key}' is corrupt: {reason}; rebuild the projection with `couplet replay --rebuild`"
    )]
    Corrupt {
        /// The sled tree.
        tree: &'static str,
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
}

impl Classify for StoreError {
    fn actor(&self) -> Actor {
        match self {
            StoreError::Io { .. } => Actor::User,
            StoreError::Corrupt { .. } => Actor::Internal,
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "store_io",
            StoreError::Corrupt { .. } => "store_corrupt",
        }
    }
}

/// The projection. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: sled::Db,
    pub(crate) path: PathBuf,
    pub(crate) couplings: sled::Tree,
    pub(crate) checkpoints: sled::Tree,
    pub(crate) parked: sled::Tree,
    pub(crate) errors: sled::Tree,
    pub(crate) audit: sled::Tree,
    pub(crate) index: sled::Tree,
    pub(crate) coupled_tx: broadcast::Sender<Coupling>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Opens (or creates) the projection under `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let _ = dir;
        todo!("store helper")
    }

    /// Where the projection lives.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Flushes to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        todo!("store helper")
    }

    /// Drops every tree (used by `replay --rebuild` before replaying the log).
    pub fn clear_all(&self) -> Result<(), StoreError> {
        todo!("store helper")
    }
}
