//! What can go wrong in the console, classified by who must act. Every message names the
//! record or setting and what to do; the pages show it to the operator as it is.

use crate::error::{Actor, Classify, Retry};
use crate::pipeline::PipelineError;
use crate::pipeline::manual_coupling::CouplingError;
use crate::store::StoreError;
use crate::systems::SystemError;

/// A console action or page that could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// The engine has not started yet (the listener starts first).
    #[error("the engine is still starting; try again in a few seconds")]
    Starting,
    /// A form named a mapping this instance does not run.
    #[error("no mapping named {0} in this configuration")]
    UnknownMapping(String),
    /// A form named a record that is not a `<system>/<entity>/<id>` key of the mapping.
    #[error("{record} is not a record of mapping {mapping}: {reason}")]
    BadRecord {
        /// What the form sent.
        record: String,
        /// The mapping.
        mapping: String,
        /// What is wrong.
        reason: String,
    },
    /// A record does not exist in its system.
    #[error("{0} does not exist; check the id (or the natural key) and try again")]
    Missing(String),
    /// The record is not in the errors list (retried or skipped meanwhile).
    #[error("{record} in mapping {mapping} is not in the errors list any more")]
    NotListed {
        /// The record.
        record: String,
        /// The mapping.
        mapping: String,
    },
    /// The record is not coupled.
    #[error("{0} is not coupled; nothing to uncouple")]
    NotCoupled(String),
    /// The mapping never writes in the asked direction.
    #[error("mapping {mapping} runs {direction}: it never writes from {from}")]
    WrongDirection {
        /// The mapping.
        mapping: String,
        /// Its direction.
        direction: String,
        /// The system asked to write from.
        from: String,
    },
    /// Coupling was refused (already coupled) or failed.
    #[error(transparent)]
    Coupling(#[from] CouplingError),
    /// The log or the projection failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The projection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A system could not be read.
    #[error(transparent)]
    System(#[from] SystemError),
}

impl Classify for ConsoleError {
    fn actor(&self) -> Actor {
        match self {
            ConsoleError::Starting | ConsoleError::Store(_) => Actor::Internal,
            ConsoleError::Coupling(e) => e.actor(),
            ConsoleError::Pipeline(e) => e.actor(),
            ConsoleError::System(e) => e.actor(),
            _ => Actor::User,
        }
    }
    fn retry(&self) -> Retry {
        match self {
            ConsoleError::Starting => Retry::Backoff,
            ConsoleError::System(e) => e.retry(),
            _ => Retry::Never,
        }
    }
    fn class(&self) -> &'static str {
        match self {
            ConsoleError::Starting => "starting",
            ConsoleError::UnknownMapping(_) => "unknown_mapping",
            ConsoleError::BadRecord { .. } => "bad_record",
            ConsoleError::Missing(_) => "missing",
            ConsoleError::NotListed { .. } => "not_listed",
            ConsoleError::NotCoupled(_) => "not_coupled",
            ConsoleError::WrongDirection { .. } => "wrong_direction",
            ConsoleError::Coupling(e) => e.class(),
            ConsoleError::Pipeline(e) => e.class(),
            ConsoleError::Store(_) => "store",
            ConsoleError::System(e) => e.class(),
        }
    }
}
