//! Capture checkpoints (delta links, watermarks), saved only after the events they cover are
//! on the log.

use super::codec::{decode, encode, show};
use super::db::{Store, StoreError};

impl Store {
    /// The checkpoint named `name` (e.g. `CUSTOMER/dataverse`).
    pub fn checkpoint(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        match self.inner.checkpoints.get(name).map_err(|e| self.io(e))? {
            Some(v) => Ok(Some(decode(TREE, name.as_bytes(), &v)?)),
            None => Ok(None),
        }
    }

    /// Saves (replaces) a checkpoint and flushes it to disk before returning.
    pub fn save_checkpoint(&self, name: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        let v = encode(TREE, name.as_bytes(), value)?;
        self.inner
            .checkpoints
            .insert(name, v)
            .map_err(|e| self.io(e))?;
        self.inner.checkpoints.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Deletes a checkpoint (forces a full re-read).
    pub fn delete_checkpoint(&self, name: &str) -> Result<(), StoreError> {
        self.inner
            .checkpoints
            .remove(name)
            .map_err(|e| self.io(e))?;
        self.inner.checkpoints.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// All checkpoints, by name.
    pub fn checkpoints(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.checkpoints.iter() {
            let (k, v) = item.map_err(|e| self.io(e))?;
            let name = String::from_utf8(k.to_vec()).map_err(|e| StoreError::Corrupt {
                tree: TREE,
                key: show(&k),
                reason: e.to_string(),
            })?;
            out.push((name, decode(TREE, &k, &v)?));
        }
        Ok(out)
    }
}

/// The projection's marker among the checkpoints: present once an engine started on the
/// projection or a rebuild filled it, so an empty projection without it, beside a log that
/// holds state, was lost (see `pipeline::recover`).
pub const BUILT: &str = "_projection";

impl Store {
    /// Marks the projection as built (`rebuilt`: by a rebuild from the log).
    pub fn mark_built(&self, rebuilt: bool) -> Result<(), StoreError> {
        self.save_checkpoint(
            BUILT,
            &serde_json::json!({ "at": chrono::Utc::now().to_rfc3339(), "rebuilt": rebuilt }),
        )
    }

    /// True once [`Store::mark_built`] ran on this projection.
    pub fn is_built(&self) -> Result<bool, StoreError> {
        Ok(self.checkpoint(BUILT)?.is_some())
    }
}

/// The tree name, for errors.
const TREE: &str = "checkpoints";
