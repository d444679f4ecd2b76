//! `couplet mappings dry-run`: replays the captured changes of the log through a changed
//! mapping file, without writing anything, and reports what the new mappings would have
//! written differently from what the log shows was written: per mapping, the changes decided
//! the same or otherwise (fields changed, records filtered in or out, would park, would fail);
//! per record, the field diff.
//!
//! The decisions are the transform's own ([`crate::transform::Transformer`]); the "was" side
//! is the log's commands and outcomes ([`logged`]); the comparison is [`compare`].

pub mod compare;
pub mod error;
pub mod logged;
pub mod model;
pub mod render;
pub mod run;

pub use error::DryRunError;
pub use model::{Report, Verdict};
pub use run::{NewMappings, Window, dry_run};
