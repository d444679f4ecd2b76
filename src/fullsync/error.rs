//! Why a full synchronisation could not run.

use crate::error::{Actor, Classify, Retry};
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::systems::SystemError;

/// A full synchronisation that stopped. Record-level failures are not errors: they are counted
/// in the review and listed in the errors list.
#[derive(Debug, thiserror::Error)]
pub enum FullSyncError {
    /// The engine (log, projection, a stage) failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The projection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A job could not read its source table.
    #[error(
        "full-sync job {mapping} {direction}: cannot read {system}/{entity}: {source}; check the connection and run `couplet full-sync` again (finished jobs are not redone)"
    )]
    Read {
        /// The mapping.
        mapping: String,
        /// `to_crm` or `to_erp`.
        direction: String,
        /// The source system.
        system: crate::event::System,
        /// The entity set.
        entity: String,
        /// The client's error.
        source: SystemError,
    },
    /// `--mapping` names no configured mapping.
    #[error("mapping '{0}' is not configured; `[sync] mappings` lists the configured ones")]
    UnknownMapping(String),
    /// Records did not all reach an outcome in time.
    #[error(
        "full-sync job {mapping} {direction}: {pending} record(s) still without an outcome after {secs} s; run `couplet full-sync` again to resume"
    )]
    Timeout {
        /// The mapping.
        mapping: String,
        /// `to_crm` or `to_erp`.
        direction: String,
        /// Records still pending.
        pending: usize,
        /// The wait.
        secs: u64,
    },
}

impl Classify for FullSyncError {
    fn actor(&self) -> Actor {
        match self {
            FullSyncError::Pipeline(e) => e.actor(),
            FullSyncError::Store(e) => e.actor(),
            FullSyncError::Read { source, .. } => source.actor(),
            FullSyncError::UnknownMapping(_) => Actor::User,
            FullSyncError::Timeout { .. } => Actor::External,
        }
    }
    fn retry(&self) -> Retry {
        match self {
            FullSyncError::Pipeline(e) => e.retry(),
            FullSyncError::Store(e) => e.retry(),
            FullSyncError::Read { source, .. } => source.retry(),
            FullSyncError::UnknownMapping(_) => Retry::Never,
            FullSyncError::Timeout { .. } => Retry::Backoff,
        }
    }
    fn class(&self) -> &'static str {
        match self {
            FullSyncError::Pipeline(e) => e.class(),
            FullSyncError::Store(e) => e.class(),
            FullSyncError::Read { source, .. } => source.class(),
            FullSyncError::UnknownMapping(_) => "mapping",
            FullSyncError::Timeout { .. } => "timeout",
        }
    }
}
