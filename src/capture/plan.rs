//! What a connector's change sources look like to the engine: capture tasks it plans for a
//! mapping (or for the whole catalogue), each run with the context the engine owns (the log,
//! the projection, the shared state and the task's lease).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use super::status::CaptureStatus;
use crate::bus::{Bus, Topics};
use crate::pipeline::PipelineError;
use crate::pipeline::lease::Lease;
use crate::pipeline::state::StateLog;
use crate::store::Store;

/// Everything a capture task runs with, handed to it by the engine.
#[derive(Clone)]
pub struct CaptureContext {
    /// The projection (checkpoints).
    pub store: Store,
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// Topic names.
    pub topics: Topics,
    /// Shared state (checkpoints go through their changelog).
    pub state: StateLog,
    /// Pause between passes once caught up.
    pub poll_interval: Duration,
    /// Re-read window before a watermark (polled sources).
    pub overlap: Duration,
    /// The task's progress, named after the plan.
    pub status: CaptureStatus,
    /// The lease the task needs to run (several instances share the captures).
    pub lease: Lease,
}

/// One capture task, started by the engine.
#[async_trait]
pub trait CaptureTask: Send {
    /// Runs passes until `shutdown`.
    async fn run(
        self: Box<Self>,
        cx: CaptureContext,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PipelineError>;
}

/// A capture task a connector asks the engine to run.
pub struct CapturePlan {
    /// Its name, `<mapping>/<system>/<entity set>` (status, logs).
    pub name: String,
    /// Plans with the same lease key share one lease (a capture and the captures that
    /// complete it run on the same instance).
    pub lease_key: String,
    /// The task.
    pub task: Box<dyn CaptureTask>,
}
