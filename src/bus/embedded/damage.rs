//! Opening the embedded log's sled database, and what a damaged one means for the user.
//!
//! Two kinds of damage are recognised:
//!
//! - sled reports corruption, or panics while recovering (a file cut in the middle of what a
//!   snapshot points at: "tried to serialize Uninitialized"). The panic is caught at open
//!   with `catch_unwind`, the one place it is: sled offers no checked way to open a damaged
//!   file, and a panic there would end the process with exit 101 and sled's stack trace
//!   instead of saying which directory is damaged and what to do. While the open runs, a
//!   panic hook keeps the panic's message for the error instead of printing it (on this
//!   thread only; other threads' panics are printed as usual).
//! - sled recovers quietly to an empty database (a file cut near its start): the marker file
//!   [`MARKER`], written when the log first gets topics, tells that this log had topics, so
//!   an open that finds none is damage, not a new log.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use crate::bus::api::BusError;

/// The marker file beside sled's files: present once the log has had topics.
pub(super) const MARKER: &str = "couplet-log";

/// The database and its `meta`, `offsets` and `starts` trees.
pub(super) type Opened = (sled::Db, sled::Tree, sled::Tree, sled::Tree);

thread_local! {
    /// Set while this thread opens a database: the message of a panic there.
    static CAUGHT: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Opens the database under `dir` and its trees.
pub(super) fn open_db(dir: &Path) -> Result<Opened, BusError> {
    quiet_hook();
    CAUGHT.with(|c| *c.borrow_mut() = Some(None));
    let opened = panic::catch_unwind(AssertUnwindSafe(|| open_trees(dir)));
    let message = CAUGHT.with(|c| c.borrow_mut().take().flatten());
    let (db, meta, offsets, starts) = match opened {
        Ok(r) => r?,
        Err(_) => {
            return Err(damaged(
                dir,
                format!(
                    "sled stopped reading it: {}",
                    message.unwrap_or_else(|| "a panic without a message".into())
                ),
            ));
        }
    };
    if meta.is_empty() && dir.join(MARKER).exists() {
        return Err(damaged(
            dir,
            format!(
                "it holds no topic although {} says it had some: its files were cut short, \
                 replaced or deleted",
                dir.join(MARKER).display()
            ),
        ));
    }
    Ok((db, meta, offsets, starts))
}

fn open_trees(dir: &Path) -> Result<Opened, BusError> {
    let db = sled::open(dir).map_err(|e| classify(dir, e))?;
    let tree = |name: &str| db.open_tree(name).map_err(|e| classify(dir, e));
    let (meta, offsets, starts) = (tree("meta")?, tree("offsets")?, tree("starts")?);
    Ok((db, meta, offsets, starts))
}

/// Writes the marker (once the log has topics), so a later open that finds none knows.
pub(super) fn mark(dir: &Path) -> Result<(), BusError> {
    let path = dir.join(MARKER);
    if path.exists() {
        return Ok(());
    }
    std::fs::write(
        &path,
        "This embedded log has had topics: if sled finds none here, its files are damaged.\n",
    )
    .map_err(|e| BusError::Unavailable {
        location: path.display().to_string(),
        reason: format!("cannot write the marker file: {e}"),
    })
}

/// Installs, once, a panic hook that keeps the message of a panic on a thread opening a
/// database and hands every other panic to the hook that was there before.
fn quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let kept = CAUGHT.with(|c| match c.borrow_mut().as_mut() {
                Some(slot) => {
                    *slot = Some(info.to_string());
                    true
                }
                None => false,
            });
            if !kept {
                previous(info);
            }
        }));
    });
}

/// sled's error as ours: damage (corruption) or plain unavailability (permissions, a
/// database held by another process).
fn classify(dir: &Path, e: sled::Error) -> BusError {
    match e {
        sled::Error::Corruption { .. } => damaged(dir, e.to_string()),
        other => BusError::Unavailable {
            location: dir.display().to_string(),
            reason: other.to_string(),
        },
    }
}

fn damaged(dir: &Path, reason: String) -> BusError {
    BusError::Damaged {
        dir: dir.display().to_string(),
        reason,
    }
}
