//! Parked changes: records whose dependencies are not coupled yet.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codec::{SEP, decode, encode, key};
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

impl ParkedEntry {
    /// What one parked change stands for beside its dependency: the record in its mapping
    /// (one record may wait for the same dependency in several mappings, e.g. an item in
    /// ITEM UOM and in ITEM-PRODUCT).
    pub fn slot(&self) -> String {
        format!("{}#{}", self.record, self.mapping)
    }
}

impl Store {
    /// Parks `entry`. A record parked again on the same dependency in the same mapping
    /// replaces its older entry.
    pub fn park(&self, entry: &ParkedEntry) -> Result<(), StoreError> {
        let k = key(&[&entry.waiting_for, &entry.slot()]);
        let v = encode(TREE, &k, entry)?;
        self.inner.parked.insert(k, v).map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Removes and returns every entry waiting for `waiting_for`.
    pub fn take_parked(&self, waiting_for: &str) -> Result<Vec<ParkedEntry>, StoreError> {
        let prefix = key(&[waiting_for, ""]);
        let mut out = Vec::new();
        for item in self.inner.parked.scan_prefix(&prefix).keys() {
            let k = item.map_err(|e| self.io(e))?;
            // `remove` hands back the value only to the caller that removed it, so two
            // concurrent takers never both re-drive one entry.
            if let Some(v) = self.inner.parked.remove(&k).map_err(|e| self.io(e))? {
                out.push(decode(TREE, &k, &v)?);
            }
        }
        Ok(out)
    }

    /// Removes the entries of one record (it was synchronised another way).
    pub fn unpark_record(&self, record: &str) -> Result<(), StoreError> {
        // Parked entries are few; a scan is cheaper than maintaining a second index.
        for item in self.inner.parked.iter().keys() {
            let k = item.map_err(|e| self.io(e))?;
            let rest = k.iter().position(|b| *b == SEP).map(|i| &k[i + 1..]);
            let prefix = format!("{record}#");
            if rest.is_some_and(|r| r.starts_with(prefix.as_bytes())) {
                self.inner.parked.remove(&k).map_err(|e| self.io(e))?;
            }
        }
        Ok(())
    }

    /// Every parked entry.
    /// The change parked in `slot` on `waiting_for`, if any.
    pub fn parked_entry(
        &self,
        waiting_for: &str,
        slot: &str,
    ) -> Result<Option<ParkedEntry>, StoreError> {
        let k = key(&[waiting_for, slot]);
        match self.inner.parked.get(&k).map_err(|e| self.io(e))? {
            Some(v) => Ok(Some(decode(TREE, &k, &v)?)),
            None => Ok(None),
        }
    }

    /// Every parked change.
    pub fn parked(&self) -> Result<Vec<ParkedEntry>, StoreError> {
        let mut out = Vec::new();
        for item in self.inner.parked.iter() {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.push(decode(TREE, &k, &v)?);
        }
        Ok(out)
    }
}

/// The tree name, for errors.
const TREE: &str = "parked";
