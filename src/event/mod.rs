//! The events on the log: what was captured, what to write, and what happened.

pub mod avro;
pub mod key;
pub mod record_id;
pub mod state_codec;
pub mod types;

pub use key::{BlankText, EtagRule, Fields, Pair, RecordKey, Side, System, SystemRules};
pub use record_id::{KeyError, KeyKind, KeyShape, KeyValue, PrimaryKey};
pub use types::{ChangeEvent, ChangeOp, Outcome, OutcomeStatus, WriteCommand, WriteOp};
