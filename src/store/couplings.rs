//! The couplings table: which CRM record and which ERP record are the same thing, per mapping
//! (each a [`Coupling`]).

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use super::codec::{SEP, decode, decode_tx, encode, key};
use super::coupling::Coupling;
use super::db::{Store, StoreError};
use crate::event::Side;

/// The answer of [`Store::couple_if_absent`].
// Returned once per coupling attempt, never stored in bulk: boxing would only change the API.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum CoupleResult {
    /// The coupling was inserted.
    Inserted,
    /// One of the two records is already coupled in this mapping: here is that coupling.
    Existing(Coupling),
}

impl Store {
    /// The coupling of the record `id` on `side` in `mapping`.
    pub fn coupling(
        &self,
        mapping: &str,
        side: impl Into<Side>,
        id: &str,
    ) -> Result<Option<Coupling>, StoreError> {
        let side = side.into();
        let k = side_key(mapping, side.is_crm(), id);
        match self.inner.couplings.get(&k).map_err(|e| self.io(e))? {
            Some(v) => Ok(Some(decode(TREE, &k, &v)?)),
            None => Ok(None),
        }
    }

    /// Inserts `c` unless its CRM or its ERP record is already coupled in the mapping; atomic.
    pub fn couple_if_absent(&self, c: &Coupling) -> Result<CoupleResult, StoreError> {
        let crm = side_key(&c.mapping, true, &c.crm_id);
        let erp = side_key(&c.mapping, false, &c.erp_id);
        let value = encode(TREE, &crm, c)?;
        let result = self
            .inner
            .couplings
            .transaction(|t| {
                for k in [&crm, &erp] {
                    if let Some(v) = t.get(k)? {
                        return Ok(CoupleResult::Existing(decode_tx(TREE, k, &v)?));
                    }
                }
                t.insert(crm.as_slice(), value.as_slice())?;
                t.insert(erp.as_slice(), value.as_slice())?;
                Ok(CoupleResult::Inserted)
            })
            .map_err(|e| self.tx_err(e))?;
        if result == CoupleResult::Inserted {
            let _ = self.inner.coupled_tx.send(c.clone());
        }
        Ok(result)
    }

    /// Inserts or replaces `c` (both sides' index entries).
    pub fn put_coupling(&self, c: &Coupling) -> Result<(), StoreError> {
        let crm = side_key(&c.mapping, true, &c.crm_id);
        let erp = side_key(&c.mapping, false, &c.erp_id);
        let value = encode(TREE, &crm, c)?;
        self.inner
            .couplings
            .transaction(|t| {
                // A side that was coupled to another record: drop that pair's other entry,
                // so no stale coupling points at either of the two records.
                if let Some(v) = t.get(&crm)? {
                    let old: Coupling = decode_tx(TREE, &crm, &v)?;
                    if old.erp_id != c.erp_id {
                        t.remove(side_key(&c.mapping, false, &old.erp_id))?;
                    }
                }
                if let Some(v) = t.get(&erp)? {
                    let old: Coupling = decode_tx(TREE, &erp, &v)?;
                    if old.crm_id != c.crm_id {
                        t.remove(side_key(&c.mapping, true, &old.crm_id))?;
                    }
                }
                t.insert(crm.as_slice(), value.as_slice())?;
                t.insert(erp.as_slice(), value.as_slice())?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))?;
        let _ = self.inner.coupled_tx.send(c.clone());
        Ok(())
    }

    /// Removes the coupling of the record `id` on `side`; returns it if there was one.
    pub fn remove_coupling(
        &self,
        mapping: &str,
        side: impl Into<Side>,
        id: &str,
    ) -> Result<Option<Coupling>, StoreError> {
        let side = side.into();
        let k = side_key(mapping, side.is_crm(), id);
        self.inner
            .couplings
            .transaction(|t| {
                let Some(v) = t.remove(k.as_slice())? else {
                    return Ok(None);
                };
                let c: Coupling = decode_tx(TREE, &k, &v)?;
                let other = side_key(mapping, !side.is_crm(), c.id_on(side.other()));
                // Only remove the other side's entry if it still belongs to this pair.
                if let Some(ov) = t.get(&other)? {
                    let oc: Coupling = decode_tx(TREE, &other, &ov)?;
                    if oc.id_on(side) == id {
                        t.remove(other)?;
                    }
                }
                Ok(Some(c))
            })
            .map_err(|e| self.tx_err(e))
    }

    /// All couplings, or those of one mapping, ordered by mapping then CRM id.
    pub fn couplings(&self, mapping: Option<&str>) -> Result<Vec<Coupling>, StoreError> {
        let prefix = match mapping {
            Some(m) => side_key(m, true, ""),
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for item in self.inner.couplings.scan_prefix(&prefix) {
            let (k, v) = item.map_err(|e| self.io(e))?;
            if is_crm_key(&k) {
                out.push(decode(TREE, &k, &v)?);
            }
        }
        Ok(out)
    }

    /// How many couplings a mapping has.
    pub fn coupling_count(&self, mapping: &str) -> Result<usize, StoreError> {
        let mut n = 0;
        for item in self
            .inner
            .couplings
            .scan_prefix(side_key(mapping, true, ""))
        {
            item.map_err(|e| self.io(e))?;
            n += 1;
        }
        Ok(n)
    }

    /// Every coupling inserted or replaced from now on.
    pub fn watch_couplings(&self) -> broadcast::Receiver<Coupling> {
        self.inner.coupled_tx.subscribe()
    }
}

/// The tree name, for errors.
const TREE: &str = "couplings";

/// `<mapping>\0crm\0<id>` or `<mapping>\0erp\0<id>`.
fn side_key(mapping: &str, crm: bool, id: &str) -> Vec<u8> {
    key(&[mapping, if crm { "crm" } else { "erp" }, id])
}

/// Whether a key is a CRM-side entry (its second part is `crm`).
fn is_crm_key(k: &[u8]) -> bool {
    let mut parts = k.splitn(3, |b| *b == SEP);
    parts.next();
    parts.next() == Some(b"crm".as_slice())
}

/// The row version in a Dataverse ETag (`W/"915244"`): Dataverse ETags are the row's
/// `versionnumber`, which increases with every change.
fn row_version(etag: Option<&str>) -> Option<u64> {
    etag?.strip_prefix("W/\"")?.strip_suffix('"')?.parse().ok()
}

impl Coupling {
    /// True when a version of the record on `side`, modified at `modified` with `etag`, is older
    /// than the one last synchronised. Timestamps decide; within the same timestamp (Dataverse
    /// `modifiedon` has whole seconds) numeric row versions decide, when both sides have one.
    pub fn is_older(
        &self,
        side: impl Into<Side>,
        modified: Option<DateTime<Utc>>,
        etag: Option<&str>,
    ) -> bool {
        let side = side.into();
        let (Some(seen), Some(synced)) = (modified, self.modified_on(side)) else {
            return false;
        };
        if seen != synced {
            return seen < synced;
        }
        matches!((row_version(etag), row_version(self.etag(side))), (Some(a), Some(b)) if a < b)
    }
}

#[cfg(test)]
mod staleness_tests {
    use super::*;

    #[test]
    fn same_second_versions_are_ordered_by_row_version() {
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let c = Coupling {
            mapping: "M".into(),
            crm_entity: "accounts".into(),
            crm_id: "a".into(),
            erp_entity: "customers".into(),
            erp_id: "b".into(),
            crm_modified_on: Some(t),
            erp_modified_on: None,
            crm_etag: Some("W/\"120\"".into()),
            erp_etag: None,
            hash_to_crm: None,
            hash_to_erp: None,
            coupled_at: t,
            last_sync_at: None,
            last_direction: None,
            last_result: None,
        };
        assert!(c.is_older(Side::Crm, Some(t), Some("W/\"119\"")));
        assert!(!c.is_older(Side::Crm, Some(t), Some("W/\"121\"")));
        assert!(!c.is_older(Side::Crm, Some(t), Some("opaque")));
        assert!(c.is_older(Side::Crm, Some(t - chrono::Duration::seconds(1)), None));
        assert!(!c.is_older(Side::Erp, Some(t), None));
    }
}
