//! A projection that is missing, emptied or set aside while the embedded log beside it holds
//! Couplet's state (the data directory's `projection/` deleted, a truncated sled file, which
//! sled opens as empty, a damaged one moved aside) is rebuilt from the log before anything runs
//! on it, and the log says so. On Kafka an empty projection is as often a new instance joining
//! a deployment: its own consumer groups fill it from the topics, and the stages wait for the
//! state follower to catch up before they decide anything.

use std::sync::Arc;

use super::error::PipelineError;
use super::replay::{RebuildReport, rebuild};
use crate::bus::{Bus, BusError, Topics};
use crate::mapping::Catalogue;
use crate::store::Store;

/// Rebuilds the projection from the log when it holds nothing while the log's state changelogs
/// do; marks it as built either way. Returns the rebuild's report when one ran.
pub async fn projection(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    store: &Store,
    catalogue: &Catalogue,
) -> Result<Option<RebuildReport>, PipelineError> {
    if store.is_built()? {
        return Ok(None);
    }
    // A projection written before the marker existed has its instance id.
    let lost = store.checkpoint("_instance")?.is_none() && log_holds_state(bus, topics).await?;
    if !lost {
        store.mark_built(false)?;
        return Ok(None);
    }
    if bus.backend() != "embedded" {
        // On Kafka an empty projection is also every new instance joining a deployment, and a
        // rebuild reads every topic before the instance may start (tens of seconds on a
        // busy broker). A new instance id's own groups read from the start anyway: the state
        // follower the changelogs (the stages wait until it has caught up), the audit stage
        // the events (audit and natural-key indexes). Only the errors list is not rebuilt.
        tracing::info!(
            projection = %store.path().display(),
            "The projection is empty while the topics hold state (a new instance, or a lost projection): the state follower and the audit stage fill it from the topics before the stages start; `couplet replay --rebuild` also restores the errors list."
        );
        store.mark_built(false)?;
        return Ok(None);
    }
    tracing::warn!(
        projection = %store.path().display(),
        "The projection is missing or empty while the log holds couplings and other state (deleted, truncated, set aside as damaged, or a new data directory): rebuilding it from the log before starting."
    );
    // The rebuild marks the projection built.
    let r = rebuild(bus, topics, store, catalogue).await?;
    tracing::warn!(
        projection = %store.path().display(),
        couplings = r.couplings,
        checkpoints = r.checkpoints,
        parked = r.parked,
        errors = r.errors,
        state_messages = r.state_messages,
        event_messages = r.event_messages,
        "The projection was rebuilt from the log."
    );
    Ok(Some(r))
}

/// True when any state changelog has a message.
async fn log_holds_state(bus: &Arc<dyn Bus>, topics: &Topics) -> Result<bool, PipelineError> {
    for t in [
        &topics.couplings,
        &topics.checkpoints,
        &topics.parked,
        &topics.intents,
    ] {
        match bus.end_offsets(t).await {
            Ok(ends) if ends.iter().any(|e| *e > 0) => return Ok(true),
            Ok(_) => {}
            // Not created yet: nothing was ever appended.
            Err(BusError::Topic { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}
