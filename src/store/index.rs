//! The natural-key index: business numbers and ids of captured records, both ways
//! (e.g. BC customer number `C00010` ↔ its id), for lookups that go through numbers.

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
        let _ = (system, entity, field, value, id);
        todo!("store helper")
    }

    /// The id of the record whose `field` is `value`.
    pub fn index_id(
        &self,
        system: System,
        entity: &str,
        field: &str,
        value: &str,
    ) -> Result<Option<String>, StoreError> {
        let _ = (system, entity, field, value);
        todo!("store helper")
    }

    /// The `field` value of record `id`.
    pub fn index_value(
        &self,
        system: System,
        entity: &str,
        field: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let _ = (system, entity, field, id);
        todo!("store helper")
    }
}
