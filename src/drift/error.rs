//! Why a reconciliation could not run. Drift itself is not an error: it is the report.

use crate::error::{Actor, Classify, Retry};
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::systems::SystemError;

/// A reconciliation that stopped.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// The log or a stage failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The projection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A system could not be read.
    #[error(
        "reconcile {mapping}: cannot read {what}: {source}; check the connection and run `couplet reconcile` again (it resumes after the last page checked)"
    )]
    Read {
        /// The mapping.
        mapping: String,
        /// The record or the query, in words.
        what: String,
        /// The client's error (boxed: it is large, and this enum travels in `Result`s).
        source: Box<SystemError>,
    },
    /// `--mapping` names no configured mapping.
    #[error(
        "mapping '{0}' is not configured; `couplet mappings list --config FILE` lists the configured ones"
    )]
    UnknownMapping(String),
    /// `[reconcile] mappings` names a mapping the engine does not run.
    #[error(
        "[reconcile] mappings names '{0}', which this configuration does not run ([sync] mappings or the mapping file); correct or remove it"
    )]
    UnknownScheduledMapping(String),
}

impl Classify for DriftError {
    fn actor(&self) -> Actor {
        match self {
            DriftError::Pipeline(e) => e.actor(),
            DriftError::Store(e) => e.actor(),
            DriftError::Read { source, .. } => source.actor(),
            DriftError::UnknownMapping(_) | DriftError::UnknownScheduledMapping(_) => Actor::User,
        }
    }
    fn retry(&self) -> Retry {
        match self {
            DriftError::Pipeline(e) => e.retry(),
            DriftError::Store(e) => e.retry(),
            DriftError::Read { source, .. } => source.retry(),
            DriftError::UnknownMapping(_) | DriftError::UnknownScheduledMapping(_) => Retry::Never,
        }
    }
    fn class(&self) -> &'static str {
        match self {
            DriftError::Pipeline(e) => e.class(),
            DriftError::Store(e) => e.class(),
            DriftError::Read { source, .. } => source.class(),
            DriftError::UnknownMapping(_) | DriftError::UnknownScheduledMapping(_) => "mapping",
        }
    }
}
