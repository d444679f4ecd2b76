//! `couplet full-sync`: every record of every mapping, in dependency order, through the normal
//! pipeline, with persisted job state (a killed run resumes) and a review table at the end.

pub mod error;
pub mod review;
pub mod run;
pub mod state;
pub mod tracker;

pub use error::FullSyncError;
pub use review::render_review;
pub use run::{FullSyncOptions, full_sync};
pub use state::{JobState, JobStatus};
