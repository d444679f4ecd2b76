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

impl Store {
    /// Removes the trail entries made before `before` (with their de-duplication entries), in
    /// batches; returns how many. It reads the whole index (trails are ordered by record, not
    /// by time): run it now and then (`[bus.retention] check_secs`), not per message.
    pub fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let (mut batch, mut pending, mut pruned) = (sled::Batch::default(), 0usize, 0u64);
        for item in self.inner.audit.iter() {
            let (k, v) = item.map_err(|e| self.io(e))?;
            if k.first() == Some(&DEDUP) {
                // The de-duplication entries sort after every trail.
                break;
            }
            let entry: AuditEntry = decode(TREE, &k, &v)?;
            if entry.at >= before {
                continue;
            }
            let record = k.split(|b| *b == SEP).next().unwrap_or_default();
            batch.remove(dedup_key(&String::from_utf8_lossy(record), &entry));
            batch.remove(k);
            (pending, pruned) = (pending + 1, pruned + 1);
            if pending == 1000 {
                let full = std::mem::take(&mut batch);
                self.inner.audit.apply_batch(full).map_err(|e| self.io(e))?;
                pending = 0;
            }
        }
        self.inner
            .audit
            .apply_batch(batch)
            .map_err(|e| self.io(e))?;
        Ok(pruned)
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
