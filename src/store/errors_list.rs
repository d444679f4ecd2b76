//! The errors list: the latest failure per record and mapping, with what to retry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError};
use crate::event::ChangeEvent;

/// A failed record, as listed by `couplet errors list`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEntry {
    /// The failing record's key.
    pub record: String,
    /// Its mapping.
    pub mapping: String,
    /// Low-cardinality class, e.g. `validation`.
    pub class: String,
    /// Who must act: `user`, `external`, `internal`.
    pub actor: String,
    /// The field at fault, when known.
    pub field: Option<String>,
    /// The reason, naming the record and what to do.
    pub reason: String,
    /// First failure.
    pub first_at: DateTime<Utc>,
    /// Latest failure.
    pub last_at: DateTime<Utc>,
    /// How many times it failed.
    pub attempts: u32,
    /// The change to re-drive on `couplet errors retry`, when there is one.
    pub event: Option<ChangeEvent>,
}

impl Store {
    /// Records a failure; a repeated failure of the same record and mapping keeps `first_at`
    /// and increments `attempts`.
    pub fn record_error(&self, entry: &ErrorEntry) -> Result<(), StoreError> {
        let _ = entry;
        todo!("store helper")
    }

    /// Clears the error of a record in a mapping (it succeeded since).
    pub fn clear_error(&self, mapping: &str, record: &str) -> Result<(), StoreError> {
        let _ = (mapping, record);
        todo!("store helper")
    }

    /// Every listed error, oldest first.
    pub fn errors(&self) -> Result<Vec<ErrorEntry>, StoreError> {
        todo!("store helper")
    }
}
