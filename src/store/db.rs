//! Opening the sled database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sled::transaction::TransactionError;
use tokio::sync::broadcast;

use super::coupling::Coupling;
use crate::error::{Actor, Classify, Retry};

/// Capacity of the couplings broadcast channel (slow watchers lag beyond this).
const WATCH_CAPACITY: usize = 4096;

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
    pub(crate) intents: sled::Tree,
    pub(crate) intents_closed: sled::Tree,
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
    /// Opens (or creates) the projection under `dir`, readable by its owner only (the
    /// directory `0700`, its files `0600`; see [`crate::private_fs`]).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let io = |e: sled::Error| StoreError::Io {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        };
        let private = |e: std::io::Error| StoreError::Io {
            path: dir.to_path_buf(),
            reason: format!("cannot make the projection private to its owner: {e}"),
        };
        crate::private_fs::create_private_dir(dir).map_err(private)?;
        let db = sled::open(dir).map_err(io)?;
        crate::private_fs::restrict_tree(dir).map_err(private)?;
        let tree = |name: &str| db.open_tree(name).map_err(io);
        let couplings = tree("couplings")?;
        let checkpoints = tree("checkpoints")?;
        let parked = tree("parked")?;
        let errors = tree("errors")?;
        let audit = tree("audit")?;
        let index = tree("index")?;
        let intents = tree("intents")?;
        let intents_closed = tree("intents_closed")?;
        let (coupled_tx, _) = broadcast::channel(WATCH_CAPACITY);
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                path: dir.to_path_buf(),
                couplings,
                checkpoints,
                parked,
                errors,
                audit,
                index,
                intents,
                intents_closed,
                coupled_tx,
            }),
        })
    }

    /// Where the projection lives.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Flushes to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Drops every tree (used by `replay --rebuild` before replaying the log).
    pub fn clear_all(&self) -> Result<(), StoreError> {
        let i = &self.inner;
        for tree in [
            &i.couplings,
            &i.checkpoints,
            &i.parked,
            &i.errors,
            &i.audit,
            &i.index,
            &i.intents,
            &i.intents_closed,
        ] {
            tree.clear().map_err(|e| self.io(e))?;
        }
        self.flush()
    }

    /// A [`StoreError::Io`] naming this store's directory.
    pub(crate) fn io(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            path: self.inner.path.clone(),
            reason: e.to_string(),
        }
    }

    /// Maps the error of a sled transaction: aborts carry a [`StoreError`], the rest is I/O.
    pub(crate) fn tx_err(&self, e: TransactionError<StoreError>) -> StoreError {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => self.io(e),
        }
    }
}
