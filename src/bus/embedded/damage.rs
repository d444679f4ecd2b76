//! Opening the embedded log's sled database, and what a damaged one means for the user.

use std::path::Path;

use crate::bus::api::BusError;

/// The database and its `meta`, `offsets` and `starts` trees.
pub(super) type Opened = (sled::Db, sled::Tree, sled::Tree, sled::Tree);

/// Opens the database under `dir` and its trees.
pub(super) fn open_db(dir: &Path) -> Result<Opened, BusError> {
    let db = sled::open(dir).map_err(|e| classify(dir, e))?;
    let tree = |name: &str| db.open_tree(name).map_err(|e| classify(dir, e));
    let (meta, offsets, starts) = (tree("meta")?, tree("offsets")?, tree("starts")?);
    Ok((db, meta, offsets, starts))
}

/// sled's error as ours: damage (corruption, unreadable files) or plain unavailability.
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
