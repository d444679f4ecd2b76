//! The id of a record a target returns, and the targets of both sides.

pub use crate::systems::Targets;

use crate::event::{Fields, System};

/// The id of a record returned by `system` for `entity` (its record rules' id column).
pub fn record_id(system: System, entity: &str, rec: &Fields) -> Option<String> {
    system.record_id(entity, rec)
}
