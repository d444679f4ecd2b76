//! The apply stage: `commands` → target writes → `outcomes` (failures also to `dlq`).

use std::sync::Arc;

use tracing::Instrument;

use super::writer::Writer;
use crate::bus::{Bus, Message, Topics};
use crate::event::avro::{decode_command, encode_outcome};
use crate::event::{OutcomeStatus, RecordKey};
use crate::metrics::metrics;
use crate::pipeline::PipelineError;
use crate::pipeline::dlq::{dead_letter, undecodable};
use crate::pipeline::state::StateLog;
use crate::store::Store;

/// The apply stage.
#[derive(Clone)]
pub struct ApplyStage {
    /// Executes commands.
    pub writer: Writer,
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// Topic names.
    pub topics: Topics,
    /// The projection.
    pub store: Store,
    /// Shared state, through its changelogs.
    pub state: StateLog,
}

impl ApplyStage {
    /// Handles one message of the commands topic.
    pub async fn handle(&self, msg: Message) -> Result<(), PipelineError> {
        let cmd = match decode_command(msg.bytes()) {
            Ok(c) => c,
            Err(e) => {
                return undecodable(&self.bus, &self.topics.dlq, &self.store, "apply", &msg, &e)
                    .await;
            }
        };
        let force = crate::pipeline::sync_now::is_forced(&msg);
        let span = tracing::info_span!("apply", record = %cmd.source, mapping = %cmd.mapping, correlation_id = %cmd.correlation_id, target = %cmd.target_system, force);
        async {
            if let Some(intents) = self.writer.intents()
                && cmd.issued_at < intents.started()
            {
                // Issued before this instance started: re-delivered after its restart. Other
                // instances may have written the pair since, and this instance's state
                // follower may still be catching up with them: their couplings must be in
                // the store before the staleness checks read it, or an old command would
                // overwrite a newer write.
                intents.barrier().sync().await?;
            }
            let _serialised = self.writer.lock(&cmd).await;
            let o = self.writer.execute_with(&cmd, force).await?;
            let target = cmd.target_system.as_str();
            let record = cmd.source.to_string();
            if o.status == OutcomeStatus::Failed
                && o.error
                    .as_ref()
                    .is_some_and(|e| crate::systems::error::is_transient_class(&e.class))
            {
                // A fault of the target (throttled, unavailable, or an answer cut off or not
                // JSON, as a proxy or an overloaded service gives): back-pressure, not a
                // failure: nothing is recorded or committed; the consumer
                // loop waits (backing off, this partition paused) and tries it again. Its create
                // intent stays open, so the next try first looks for what this one may have made.
                let reason = o.reason.clone().unwrap_or_default();
                let class = o.error.as_ref().map(|e| e.class.as_str()).unwrap_or("");
                let since = crate::waits::wait(target, &record, class, &reason);
                tracing::warn!(%since, reason = %reason, "The target does not answer; the record waits and is tried again.");
                return Err(PipelineError::TargetUnavailable {
                    system: target.to_string(),
                    record,
                    reason,
                });
            }
            crate::waits::done(target, &record);
            self.state.apply_outcome(&o, None).await?;
            // A create that failed on a fault of the target (a time-out, a 5xx, an unreadable
            // answer) may have happened all the same: its intent stays open, so the retry
            // looks for the record first.
            let unsettled = o.status == OutcomeStatus::Failed
                && o.error
                    .as_ref()
                    .is_some_and(|e| crate::systems::error::is_transient_class(&e.class));
            if let Some(intents) = self.writer.intents().filter(|_| !unsettled) {
                // After the coupling: an instance that sees the intent closed sees the
                // coupling too (the barrier reads both changelogs).
                let target = o.target_id.as_ref().map(|id| {
                    RecordKey::new(cmd.target_system, cmd.target_entity.clone(), id.clone())
                });
                intents
                    .close(&cmd.mapping, &cmd.source, target.as_ref())
                    .await?;
            }
            let m = metrics();
            m.records
                .with_label_values(&[&o.mapping, "apply", o.status.as_str()])
                .inc();
            if o.status.wrote() {
                if let Some(ms) = o.latency_ms {
                    let dir = crate::transform::decision::direction_to(o.target_system);
                    m.e2e_seconds
                        .with_label_values(&[&o.mapping, dir])
                        .observe(ms as f64 / 1000.0);
                }
                tracing::debug!(
                    status = o.status.as_str(),
                    target_id = o.target_id.as_deref().unwrap_or(""),
                    "Written."
                );
            }
            let bytes = encode_outcome(&o).map_err(|e| PipelineError::Stage {
                stage: "apply".into(),
                reason: e.to_string(),
            })?;
            self.bus
                .produce(&self.topics.outcomes, &msg.key, Some(&bytes), &[])
                .await?;
            if o.status == OutcomeStatus::Failed {
                let class = o
                    .error
                    .as_ref()
                    .map(|e| e.class.clone())
                    .unwrap_or_default();
                let reason = o.reason.clone().unwrap_or_default();
                tracing::warn!(class = %class, reason = %reason, "Write failed.");
                m.failures
                    .with_label_values(&[&o.mapping, "apply", &class])
                    .inc();
                m.dead_lettered
                    .with_label_values(&[&o.mapping, "apply", &class])
                    .inc();
                dead_letter(
                    &self.bus,
                    &self.topics.dlq,
                    &msg,
                    &class,
                    &reason,
                    o.attempts.max(1) as u32,
                )
                .await?;
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}
