//! The events on the log: what was captured, what to write, and what happened.

pub mod avro;
pub mod fingerprint;
pub mod key;
pub mod types;

pub use key::{Fields, RecordKey, System};
pub use types::{ChangeEvent, ChangeOp, Outcome, OutcomeStatus, WriteCommand, WriteOp};
