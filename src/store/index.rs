//! The natural-key index: business numbers and ids of captured records, both ways
//! (e.g. BC customer number `C00010` ↔ its id), for lookups that go through numbers.

use super::codec::{decode, decode_tx, encode, key};
use super::db::{Store, StoreError};
use crate::event::System;

impl Store {
    /// Records that `system`'s `entity` record `id` has `field` = `value` (replacing an older
    /// value of that field for that id).
    pub fn index_put(
        &self,
        system: System,
        entity: &str,
        field: &str,
        value: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let by_value = index_key(system, entity, field, BY_VALUE, value);
        let by_id = index_key(system, entity, field, BY_ID, id);
        let id_json = encode(TREE, &by_value, &id)?;
        let value_json = encode(TREE, &by_id, &value)?;
        self.inner
            .index
            .transaction(|t| {
                if let Some(old) = t.get(&by_id)? {
                    let old: String = decode_tx(TREE, &by_id, &old)?;
                    if old != value {
                        let stale = index_key(system, entity, field, BY_VALUE, &old);
                        // Only if that value still points at this id.
                        if let Some(owner) = t.get(&stale)? {
                            let owner: String = decode_tx(TREE, &stale, &owner)?;
                            if owner == id {
                                t.remove(stale)?;
                            }
                        }
                    }
                }
                // The value moves from another record: that record no longer has it.
                if let Some(prev) = t.get(&by_value)? {
                    let prev: String = decode_tx(TREE, &by_value, &prev)?;
                    if prev != id {
                        t.remove(index_key(system, entity, field, BY_ID, &prev))?;
                    }
                }
                t.insert(by_value.as_slice(), id_json.as_slice())?;
                t.insert(by_id.as_slice(), value_json.as_slice())?;
                Ok(())
            })
            .map_err(|e| self.tx_err(e))
    }

    /// The id of the record whose `field` is `value`.
    pub fn index_id(
        &self,
        system: System,
        entity: &str,
        field: &str,
        value: &str,
    ) -> Result<Option<String>, StoreError> {
        self.index_get(index_key(system, entity, field, BY_VALUE, value))
    }

    /// The `field` value of record `id`.
    pub fn index_value(
        &self,
        system: System,
        entity: &str,
        field: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.index_get(index_key(system, entity, field, BY_ID, id))
    }

    fn index_get(&self, k: Vec<u8>) -> Result<Option<String>, StoreError> {
        match self.inner.index.get(&k).map_err(|e| self.io(e))? {
            Some(v) => Ok(Some(decode(TREE, &k, &v)?)),
            None => Ok(None),
        }
    }
}

/// The tree name, for errors.
const TREE: &str = "index";
/// Direction tag: value → id.
const BY_VALUE: &str = "v";
/// Direction tag: id → value.
const BY_ID: &str = "i";

/// `<system>\0<entity>\0<field>\0<v|i>\0<value-or-id>`.
fn index_key(system: System, entity: &str, field: &str, dir: &str, last: &str) -> Vec<u8> {
    key(&[system.as_str(), entity, field, dir, last])
}
