//! The audit index: every event, command and outcome about a record, in order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::db::{Store, StoreError};

/// One line of a record's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// `change`, `command` or `outcome`.
    pub kind: String,
    /// Where it is on the log, so it can be re-read or replayed.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
    /// Mapping.
    pub mapping: String,
    /// Correlation id.
    pub correlation_id: String,
    /// One line: what happened (e.g. `updated bc/customers/… (3 fields)`).
    pub summary: String,
}

impl Store {
    /// Appends to the trail of `record` (a record key). Idempotent per (topic, partition,
    /// offset): indexing the same message twice keeps one entry.
    pub fn append_audit(&self, record: &str, entry: &AuditEntry) -> Result<(), StoreError> {
        let _ = (record, entry);
        todo!("store helper")
    }

    /// The trail of `record`, oldest first.
    pub fn audit(&self, record: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let _ = record;
        todo!("store helper")
    }
}
