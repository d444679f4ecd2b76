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
    /// The projection's files are damaged (sled found them corrupt, or failed reading them).
    #[error(
        "the projection at {path} is damaged ({reason}); run `couplet replay --rebuild`, which sets it aside (renamed to {path}.damaged-<time>) and rebuilds it from the log: nothing is lost, every coupling, checkpoint, parked change and create intent is on the log"
    )]
    Damaged {
        /// The projection's directory.
        path: PathBuf,
        /// What sled reported.
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
            StoreError::Io { .. } | StoreError::Damaged { .. } => Actor::User,
            StoreError::Corrupt { .. } => Actor::Internal,
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            StoreError::Io { .. } => "store_io",
            StoreError::Damaged { .. } => "store_damaged",
            StoreError::Corrupt { .. } => "store_corrupt",
        }
    }
}

/// Renames a damaged projection to `<dir>.damaged-<unix time>`, kept for inspection.
pub(crate) fn set_aside(dir: &Path) -> Result<PathBuf, StoreError> {
    let mut aside = dir.as_os_str().to_owned();
    aside.push(format!(".damaged-{}", chrono::Utc::now().timestamp()));
    let aside = PathBuf::from(aside);
    std::fs::rename(dir, &aside).map_err(|e| StoreError::Io {
        path: dir.to_path_buf(),
        reason: format!(
            "setting the damaged projection aside as {}: {e}",
            aside.display()
        ),
    })?;
    Ok(aside)
}

/// Opens sled under `dir`. sled panics on some damaged files (seen: random bytes near the end
/// of its `db` file) instead of returning an error; the panic is caught here, where the
/// database is opened, and reported as [`StoreError::Damaged`].
fn open_db(dir: &Path) -> Result<sled::Db, StoreError> {
    open_db_with(dir, || sled::open(dir))
}

/// [`open_db`] with the opening itself given (tests give one that panics as sled does).
pub(crate) fn open_db_with(
    dir: &Path,
    open: impl FnOnce() -> sled::Result<sled::Db> + std::panic::UnwindSafe,
) -> Result<sled::Db, StoreError> {
    match quietly(open) {
        Ok(r) => r.map_err(|e| opening_error(dir, e)),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "sled stopped reading it".into());
            Err(StoreError::Damaged {
                path: dir.to_path_buf(),
                reason,
            })
        }
    }
}

thread_local! {
    /// True while this thread runs [`quietly`].
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic without the panic hook's message and backtrace on stderr (on
/// this thread only: the hook installed once here defers to the previous one elsewhere).
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let r = std::panic::catch_unwind(f);
    QUIET.with(|q| q.set(false));
    r
}

/// The error of opening the projection: damaged files apart from I/O and locks.
fn opening_error(dir: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => StoreError::Damaged {
            path: dir.to_path_buf(),
            reason: e.to_string(),
        },
        other => StoreError::Io {
            path: dir.to_path_buf(),
            reason: other.to_string(),
        },
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
    pub(crate) state_offsets: sled::Tree,
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
    /// directory `0700`, its files `0600`; see [`crate::private_fs`]). Damaged files are a
    /// [`StoreError::Damaged`] naming the remedy, never a panic.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let io = |e: sled::Error| opening_error(dir, e);
        let private = |e: std::io::Error| StoreError::Io {
            path: dir.to_path_buf(),
            reason: format!("cannot make the projection private to its owner: {e}"),
        };
        crate::private_fs::create_private_dir(dir).map_err(private)?;
        let db = open_db(dir)?;
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
        let state_offsets = tree("state_offsets")?;
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
                state_offsets,
                coupled_tx,
            }),
        })
    }

    /// Opens the projection under `dir`; a damaged one is first set aside (renamed to
    /// `<dir>.damaged-<unix time>`, returned) and a new, empty one created in its place, to be
    /// rebuilt from the log.
    pub fn open_setting_aside_damaged(dir: &Path) -> Result<(Store, Option<PathBuf>), StoreError> {
        match Store::open(dir) {
            Ok(s) => Ok((s, None)),
            Err(StoreError::Damaged { .. }) => {
                let aside = set_aside(dir)?;
                Ok((Store::open(dir)?, Some(aside)))
            }
            Err(e) => Err(e),
        }
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
            &i.state_offsets,
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
