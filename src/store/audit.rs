//! The audit index: every event, command and outcome about a record, in order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use sled::transaction::ConflictableTransactionError;

use super::codec::{SEP, decode, encode, key};
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
        let primary = primary_key(record, entry);
        let dedup = dedup_key(record, entry);
        let value = encode(TREE, &primary, entry)?;
        self.inner
            .audit
            .transaction(|t| {
                // Indexed before (perhaps with another time): replace that entry.
                if let Some(old) = t.insert(dedup.as_slice(), primary.as_slice())?
                    && old.as_ref() != primary.as_slice()
                {
                    t.remove(old)?;
                }
                t.insert(primary.as_slice(), value.as_slice())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|e| self.tx_err(e))
    }

    /// The trail of `record`, oldest first.
    pub fn audit(&self, record: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.audit.scan_prefix(key(&[record, ""])) {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.push(decode(TREE, &k, &v)?);
        }
        Ok(out)
    }
}

/// The tree name, for errors.
const TREE: &str = "audit";

/// Marks the dedup entries. `0xFF` never starts a UTF-8 string, so these keys never share a
/// prefix with a record's trail.
const DEDUP: u8 = 0xFF;

/// `<record>\0<ms BE>\0<topic>\0<partition BE><offset BE>`: ordered by time within a record.
fn primary_key(record: &str, e: &AuditEntry) -> Vec<u8> {
    let mut k = key(&[record, ""]);
    // Offsetting by i64::MIN keeps times before 1970 in order as unsigned big-endian.
    let ms = (e.at.timestamp_millis() as u64) ^ (1 << 63);
    k.extend_from_slice(&ms.to_be_bytes());
    k.push(SEP);
    k.extend_from_slice(e.topic.as_bytes());
    k.push(SEP);
    k.extend_from_slice(&e.partition.to_be_bytes());
    k.extend_from_slice(&e.offset.to_be_bytes());
    k
}

/// `0xFF<record>\0<topic>\0<partition BE><offset BE>` → the primary key.
fn dedup_key(record: &str, e: &AuditEntry) -> Vec<u8> {
    let mut k = vec![DEDUP];
    k.extend_from_slice(&key(&[record, &e.topic, ""]));
    k.extend_from_slice(&e.partition.to_be_bytes());
    k.extend_from_slice(&e.offset.to_be_bytes());
    k
}
