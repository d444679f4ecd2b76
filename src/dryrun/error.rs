//! Errors of a mapping dry-run.

use crate::bus::BusError;
use crate::error::{Actor, Classify, Retry};
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::transform::TransformError;

/// Why a dry-run could not be completed (a record whose new decision fails is not an error
/// of the dry-run: it is reported as "would fail").
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    /// The log could not be read.
    #[error("reading the log: {0}")]
    Log(#[from] BusError),
    /// The scratch projection (a temporary copy of the couplings) failed.
    #[error("the dry-run's scratch projection: {0}")]
    Scratch(#[from] StoreError),
    /// Reading a topic or the changelogs failed.
    #[error("reading the log: {0}")]
    Read(#[from] PipelineError),
    /// The transform could not decide a change for a reason that is not the record's (the
    /// projection failed).
    #[error("deciding {record} with the new mappings: {source}")]
    Decide {
        /// The record.
        record: String,
        /// The failure.
        source: TransformError,
    },
    /// The window asked for is not usable.
    #[error("{0}")]
    Window(String),
}

impl Classify for DryRunError {
    fn actor(&self) -> Actor {
        match self {
            DryRunError::Log(e) => e.actor(),
            DryRunError::Scratch(e) => e.actor(),
            DryRunError::Read(e) => e.actor(),
            DryRunError::Decide { source, .. } => source.actor(),
            DryRunError::Window(_) => Actor::User,
        }
    }
    fn retry(&self) -> Retry {
        match self {
            DryRunError::Log(e) => e.retry(),
            DryRunError::Read(e) => e.retry(),
            _ => Retry::Never,
        }
    }
    fn class(&self) -> &'static str {
        match self {
            DryRunError::Log(e) => e.class(),
            DryRunError::Scratch(e) => e.class(),
            DryRunError::Read(e) => e.class(),
            DryRunError::Decide { source, .. } => source.class(),
            DryRunError::Window(_) => "dry_run_window",
        }
    }
}
