//! Parked changes: records whose dependencies are not coupled yet.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError};
use crate::event::ChangeEvent;

/// A parked change, as listed by `couplet parked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParkedEntry {
    /// The dependency it waits for: `<mapping>/<system>/<id-or-natural-key>`.
    pub waiting_for: String,
    /// The parked record's key.
    pub record: String,
    /// Its mapping.
    pub mapping: String,
    /// Why, in words.
    pub reason: String,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
    /// The event to re-drive.
    pub event: ChangeEvent,
}

impl Store {
    /// Parks `entry`. A record parked again on the same dependency replaces its older entry.
    pub fn park(&self, entry: &ParkedEntry) -> Result<(), StoreError> {
        let _ = entry;
        todo!("store helper")
    }

    /// Removes and returns every entry waiting for `waiting_for`.
    pub fn take_parked(&self, waiting_for: &str) -> Result<Vec<ParkedEntry>, StoreError> {
        let _ = waiting_for;
        todo!("store helper")
    }

    /// Removes the entries of one record (it was synchronised another way).
    pub fn unpark_record(&self, record: &str) -> Result<(), StoreError> {
        let _ = record;
        todo!("store helper")
    }

    /// Every parked entry.
    pub fn parked(&self) -> Result<Vec<ParkedEntry>, StoreError> {
        todo!("store helper")
    }
}
