//! The pair an engine runs when the configuration names no ERP (`[erp] system` defaults to
//! Business Central): what a mapping joins until its catalogue is made for the engine's pair.

use crate::event::Pair;

/// Dataverse ↔ Business Central.
pub fn default_pair() -> Pair {
    Pair {
        crm: super::dataverse::system::SYSTEM,
        erp: super::bc::system::SYSTEM,
    }
}

/// The default pair's default mappings.
pub const DEFAULT_MAPPINGS: &str = super::bc::system::MAPPINGS;
