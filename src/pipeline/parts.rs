//! What an engine (and a command's own stages) runs on: the mappings, the projection, the log
//! and the two systems; and this instance's id.

use std::sync::Arc;
use std::time::Duration;

use super::error::PipelineError;
use crate::bus::{Bus, Topics};
use crate::mapping::Catalogue;
use crate::store::Store;
use crate::systems::Targets;

/// This instance's id, kept in its data directory.
pub fn instance_id(store: &Store) -> Result<String, PipelineError> {
    if let Some(id) = store
        .checkpoint("_instance")?
        .and_then(|v| v.as_str().map(str::to_string))
    {
        return Ok(id);
    }
    let id = uuid::Uuid::new_v4().to_string();
    store.save_checkpoint("_instance", &serde_json::Value::String(id.clone()))?;
    Ok(id)
}

/// Everything the engine runs on.
#[derive(Clone)]
pub struct EngineParts {
    /// The mappings to run.
    pub catalogue: Arc<Catalogue>,
    /// The projection.
    pub store: Store,
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// Topic names.
    pub topics: Topics,
    /// Partitions per topic (when creating them).
    pub partitions: u32,
    /// The CRM and the ERP, through their connectors.
    pub targets: Targets,
    /// Pause between capture passes.
    pub poll_interval: Duration,
    /// Re-read window before a polled source's watermark (`[capture] bc_overlap_ms`).
    pub overlap: Duration,
    /// Writes in flight.
    pub apply_concurrency: usize,
    /// ERP local currency ISO code.
    pub lcy: String,
    /// `[orders]`.
    pub orders: crate::orders::OrdersConfig,
    /// How long a shutdown waits for the stages to finish what they are doing before it stops
    /// them where they are (`[sync] shutdown_grace_secs`).
    pub shutdown_grace: Duration,
}
