//! The sled projection: couplings, checkpoints, parked records, the errors list, the audit
//! index and the natural-key index. Everything here can be rebuilt from the log.

pub mod audit;
pub mod checkpoints;
mod codec;
pub mod coupling;
pub mod couplings;
pub mod db;
pub mod errors_list;
pub mod index;
pub mod intents;
pub mod parked;
pub mod project;
pub mod state_offsets;
#[cfg(test)]
mod tests;

pub use audit::AuditEntry;
pub use coupling::Coupling;
pub use couplings::CoupleResult;
pub use db::{Store, StoreError};
pub use errors_list::ErrorEntry;
pub use intents::CreateIntent;
pub use parked::ParkedEntry;
