//! A generic versioned row store: live rows plus tombstones, stamped from one version counter
//! per system, which is what change tracking and ETags are built on.

use std::collections::HashMap;

use crate::event::Fields;

/// One live row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub fields: Fields,
    pub version: u64,
}

/// One entity set's rows.
#[derive(Debug, Default, Clone)]
pub(crate) struct Table {
    rows: HashMap<String, Row>,
    tombstones: HashMap<String, u64>,
}

/// Changes in a version range, in server order: upserts by version, then deletes by version.
#[derive(Debug)]
pub(crate) struct Changes<'a> {
    pub upserts: Vec<(&'a str, &'a Row)>,
    pub deletes: Vec<(&'a str, u64)>,
}

impl Table {
    pub fn get(&self, id: &str) -> Option<&Row> {
        self.rows.get(id)
    }

    /// Live rows in id order.
    pub fn live(&self) -> Vec<(&str, &Row)> {
        let mut v: Vec<_> = self.rows.iter().map(|(k, r)| (k.as_str(), r)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Stores a row (create or replace) at `version`; a tombstone for the id is dropped.
    pub fn put(&mut self, id: &str, fields: Fields, version: u64) {
        self.tombstones.remove(id);
        self.rows.insert(id.to_string(), Row { fields, version });
    }

    /// Sets one field of a live row without a new version: a value computed from other rows
    /// (a Business Central FlowField) changes without the row's ETag or modified-on moving.
    /// Returns false when the row does not exist.
    pub fn set_in_place(&mut self, id: &str, field: &str, value: serde_json::Value) -> bool {
        match self.rows.get_mut(id) {
            Some(r) => {
                r.fields.insert(field.to_string(), value);
                true
            }
            None => false,
        }
    }

    /// Deletes a row at `version`, leaving a tombstone. Returns the removed row.
    pub fn remove(&mut self, id: &str, version: u64) -> Option<Row> {
        let row = self.rows.remove(id)?;
        self.tombstones.insert(id.to_string(), version);
        Some(row)
    }

    /// Rows changed and ids deleted with `after < version <= upto`.
    pub fn changes(&self, after: u64, upto: u64) -> Changes<'_> {
        let mut upserts: Vec<_> = self
            .rows
            .iter()
            .filter(|(_, r)| r.version > after && r.version <= upto)
            .map(|(k, r)| (k.as_str(), r))
            .collect();
        upserts.sort_by(|a, b| (a.1.version, a.0).cmp(&(b.1.version, b.0)));
        let mut deletes: Vec<_> = self
            .tombstones
            .iter()
            .filter(|(_, v)| **v > after && **v <= upto)
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        deletes.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
        Changes { upserts, deletes }
    }
}

/// All tables of one system plus its version counter (cloned to roll back a transaction).
#[derive(Debug, Default, Clone)]
pub(crate) struct Store {
    pub version: u64,
    /// Bumped by `expire_change_tracking`: tokens from an older epoch are expired.
    pub epoch: u64,
    pub tables: HashMap<String, Table>,
}

impl Store {
    pub fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    pub fn table(&self, set: &str) -> Option<&Table> {
        self.tables.get(set)
    }

    pub fn table_mut(&mut self, set: &str) -> &mut Table {
        self.tables.entry(set.to_string()).or_default()
    }

    /// SHA-256 (hex) of the contents: the version counter, then every table by name with
    /// its live rows by id, each with its version and fields (keys sorted), and its
    /// tombstones by id.
    #[cfg(test)]
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.version.to_le_bytes());
        let mut sets: Vec<&String> = self.tables.keys().collect();
        sets.sort();
        for set in sets {
            let Some(t) = self.table(set) else {
                continue;
            };
            h.update(set.as_bytes());
            for (id, row) in t.live() {
                h.update(id.as_bytes());
                h.update(row.version.to_le_bytes());
                h.update(serde_json::to_string(&row.fields).unwrap_or_default());
            }
            let mut dead: Vec<_> = t.tombstones.iter().collect();
            dead.sort();
            for (id, v) in dead {
                h.update(id.as_bytes());
                h.update(v.to_le_bytes());
            }
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(n: i64) -> Fields {
        json!({ "n": n }).as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn versions_changes_and_tombstones() {
        let mut s = Store::default();
        for id in ["a", "b", "c"] {
            let v = s.next_version();
            s.table_mut("t").put(id, f(0), v);
        }
        let mark = s.version;
        let v = s.next_version();
        s.table_mut("t").put("a", f(1), v);
        let v = s.next_version();
        s.table_mut("t").put("a", f(2), v);
        let v = s.next_version();
        s.table_mut("t").remove("b", v);
        let v = s.next_version();
        s.table_mut("t").put("d", f(0), v);
        let v = s.next_version();
        s.table_mut("t").remove("d", v);
        let t = s.table("t").unwrap();
        let ch = t.changes(mark, s.version);
        let ups: Vec<_> = ch
            .upserts
            .iter()
            .map(|(id, r)| (*id, r.fields["n"].clone()))
            .collect();
        assert_eq!(ups, vec![("a", json!(2))]);
        let dels: Vec<_> = ch.deletes.iter().map(|(id, _)| *id).collect();
        assert_eq!(dels, vec!["b", "d"]);
        assert_eq!(t.len(), 2);
        // re-creating a deleted id makes it an upsert, not a delete
        let v = s.next_version();
        s.table_mut("t").put("b", f(9), v);
        let ch = s.table("t").unwrap().changes(mark, s.version);
        assert_eq!(ch.deletes.len(), 1);
        assert_eq!(ch.upserts.len(), 2);
        // the range is bounded above
        let ch = s.table("t").unwrap().changes(mark, mark + 1);
        assert_eq!(ch.upserts.len(), 0);
    }
}
