//! Capture checkpoints (delta links, watermarks), saved only after the events they cover are
//! on the log.

use super::db::{Store, StoreError};

impl Store {
    /// The checkpoint named `name` (e.g. `CUSTOMER/dataverse`).
    pub fn checkpoint(&self, name: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let _ = name;
        todo!("store helper")
    }

    /// Saves (replaces) a checkpoint and flushes it to disk before returning.
    pub fn save_checkpoint(&self, name: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        let _ = (name, value);
        todo!("store helper")
    }

    /// Deletes a checkpoint (forces a full re-read).
    pub fn delete_checkpoint(&self, name: &str) -> Result<(), StoreError> {
        let _ = name;
        todo!("store helper")
    }

    /// All checkpoints, by name.
    pub fn checkpoints(&self) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        todo!("store helper")
    }
}
