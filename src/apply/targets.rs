//! The two sides an apply writes to: their clients, and the id of a record one of them returns.

use crate::event::{Fields, System};
use crate::systems::Target;

/// The clients of both sides.
#[derive(Clone)]
pub struct Targets {
    /// Dataverse.
    pub crm: Target,
    /// Business Central.
    pub erp: Target,
}

impl Targets {
    /// The client for `system`.
    pub fn get(&self, system: System) -> &Target {
        if system.is_crm() {
            &self.crm
        } else {
            &self.erp
        }
    }
}

/// The id column of a record returned by `system` for `entity`.
pub fn record_id(system: System, entity: &str, rec: &Fields) -> Option<String> {
    let col = if system.is_crm() {
        format!("{}id", crate::transform::fields::singular(entity))
    } else {
        "id".to_string()
    };
    rec.get(&col).and_then(|v| v.as_str()).map(str::to_string)
}
