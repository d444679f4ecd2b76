//! Wiring: builds the stages and runs them as one engine.

pub mod audit;
pub mod consume;
pub mod dlq;
pub mod engine;
pub mod error;
pub mod follow;
pub mod lease;
pub mod replay;
pub mod state;

pub use engine::{Engine, EngineParts};
pub use error::PipelineError;
