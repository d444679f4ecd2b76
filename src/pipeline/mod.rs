//! Wiring: builds the stages and runs them as one engine.

pub mod audit;
pub mod audit_retention;
pub mod barrier;
pub mod captures;
pub mod consume;
pub mod dlq;
pub mod engine;
pub mod error;
pub mod follow;
pub mod force;
pub mod gauges;
pub mod lease;
pub mod manual_coupling;
pub mod parts;
pub mod reconcile;
pub mod recover;
pub mod replay;
pub mod stages;
pub mod state;
pub mod sync_now;

pub use engine::Engine;
pub use error::PipelineError;
pub use parts::EngineParts;
