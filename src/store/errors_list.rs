//! The errors list: the latest failure per record and mapping, with what to retry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use sled::transaction::ConflictableTransactionError;

use super::codec::{decode, decode_tx, encode, key};
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
        let k = key(&[&entry.mapping, &entry.record]);
        self.inner
            .errors
            .transaction(|t| {
                let mut e = entry.clone();
                if let Some(old) = t.get(&k)? {
                    let old: ErrorEntry = decode_tx(TREE, &k, &old)?;
                    e.first_at = old.first_at.min(entry.first_at);
                    e.attempts = old.attempts.saturating_add(1);
                } else {
                    e.attempts = entry.attempts.max(1);
                }
                let v = encode(TREE, &k, &e).map_err(ConflictableTransactionError::Abort)?;
                t.insert(k.as_slice(), v)?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))
    }

    /// Clears the error of a record in a mapping (it succeeded since).
    pub fn clear_error(&self, mapping: &str, record: &str) -> Result<(), StoreError> {
        self.inner
            .errors
            .remove(key(&[mapping, record]))
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Every listed error, oldest first.
    pub fn errors(&self) -> Result<Vec<ErrorEntry>, StoreError> {
        let mut out: Vec<ErrorEntry> = Vec::new();
        for item in self.inner.errors.iter() {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.push(decode(TREE, &k, &v)?);
        }
        // Stable sort: ties keep key order (mapping, record).
        out.sort_by_key(|e| e.first_at);
        Ok(out)
    }
}

/// The tree name, for errors.
const TREE: &str = "errors";
