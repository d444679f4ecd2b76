//! Errors that stop a stage.

use crate::bus::BusError;
use crate::error::{Actor, Classify, Retry};
use crate::store::StoreError;

/// A fault that stops the engine (the log or the projection is broken, or a setting is wrong).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The log failed.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The projection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A connection or setting is unusable.
    #[error("{0}")]
    Setup(String),
    /// A write's target does not answer (a time-out, a refused connection, a 5xx, a 429 past
    /// the client's retries): the message waits and is tried again, never listed as an error.
    #[error("{record} waits for {system}: {reason}")]
    TargetUnavailable {
        /// The system.
        system: String,
        /// The record whose write waits.
        record: String,
        /// The fault.
        reason: String,
    },
    /// A stage task ended abnormally.
    #[error("stage {stage} stopped: {reason}")]
    Stage {
        /// The stage.
        stage: String,
        /// Why.
        reason: String,
    },
}

impl PipelineError {
    /// True for faults that pass by themselves (the broker is unreachable for a while):
    /// stages wait and retry instead of stopping.
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Bus(e) => e.retry() != Retry::Never,
            PipelineError::TargetUnavailable { .. } => true,
            _ => false,
        }
    }
}

impl Classify for PipelineError {
    fn actor(&self) -> Actor {
        match self {
            PipelineError::Bus(e) => e.actor(),
            PipelineError::Store(e) => e.actor(),
            PipelineError::Setup(_) => Actor::User,
            PipelineError::TargetUnavailable { .. } => Actor::External,
            PipelineError::Stage { .. } => Actor::Internal,
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            PipelineError::Bus(e) => e.class(),
            PipelineError::Store(e) => e.class(),
            PipelineError::Setup(_) => "setup",
            PipelineError::TargetUnavailable { .. } => "target_unavailable",
            PipelineError::Stage { .. } => "stage",
        }
    }
}
