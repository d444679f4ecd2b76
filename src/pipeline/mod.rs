//! Wiring: builds the stages and runs them as one engine.

pub mod audit;
pub mod barrier;
pub mod consume;
pub mod dlq;
pub mod engine;
pub mod error;
pub mod follow;
pub mod lease;
pub mod manual_coupling;
pub mod replay;
pub mod state;
pub mod sync_now;

pub use engine::{Engine, EngineParts};
pub use error::PipelineError;
