//! The transform stage: `changes` → `commands` (or an outcome saying why not).

use std::sync::Arc;

use tracing::Instrument;

pub use super::currency::CurrencySource;
use super::currency::CurrencyTable;
use super::decide::Transformer;
use super::decision::Decision;
use super::flow::{Aggregate, FlowTargets};
use super::redrive;
use crate::bus::{Bus, Message, Topics};
use crate::event::avro::{decode_change, encode_command, encode_outcome};
use crate::event::{ChangeEvent, Outcome};
use crate::metrics::metrics;
use crate::pipeline::PipelineError;
use crate::pipeline::dlq::undecodable;
use crate::pipeline::state::StateLog;
use crate::store::Store;

/// The transform stage.
#[derive(Clone)]
pub struct TransformStage {
    /// The decision logic.
    pub transformer: Transformer,
    /// Both systems, to read the surviving record of a pair whose other record was deleted
    /// (deletion policy `restore`).
    pub survivors: crate::apply::Targets,
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// Topic names.
    pub topics: Topics,
    /// The projection.
    pub store: Store,
    /// The currency table the transformer reads.
    pub currencies: CurrencyTable,
    /// Where to refresh it from.
    pub currency_source: Arc<dyn CurrencySource>,
    /// Shared state, through its changelogs.
    pub state: StateLog,
}

impl TransformStage {
    /// Refreshes the currency table.
    pub async fn refresh_currencies(&self) {
        match self.currency_source.load().await {
            Ok(rows) => self.currencies.set(rows),
            Err(e) => {
                tracing::warn!(error = %e, "Could not refresh the Dataverse currencies; lookups use the previous table.")
            }
        }
    }

    /// Handles one message of the changes topic.
    pub async fn handle(&self, msg: Message) -> Result<(), PipelineError> {
        let ev = match decode_change(msg.bytes()) {
            Ok(ev) => ev,
            Err(e) => {
                return undecodable(
                    &self.bus,
                    &self.topics.dlq,
                    &self.store,
                    "transform",
                    &msg,
                    &e,
                )
                .await;
            }
        };
        let force = crate::pipeline::force::is_forced(&msg);
        let span = tracing::info_span!("transform", record = %ev.source, mapping = %ev.mapping, correlation_id = %ev.correlation_id, force);
        self.decide_and_emit(&ev, force).instrument(span).await
    }

    /// Decides what to do with one change (its document read whole first), shows it to the
    /// configured flows, and acts on the decision.
    async fn decide_and_emit(&self, ev: &ChangeEvent, force: bool) -> Result<(), PipelineError> {
        let completed;
        let ev = match self.complete_aggregate(ev).await? {
            Aggregate::AsIs => ev,
            Aggregate::Completed(full) => {
                completed = full;
                &completed
            }
            Aggregate::Unreadable(o) => return self.emit(&o, Some(ev)).await,
        };
        let d = self.decide(ev, force).await?;
        self.run_flow_triggers(ev).await;
        self.act(ev, d, force).await
    }

    /// The change with its document read whole by its mapping's flow (a document read
    /// without its lines: a retry, a full synchronisation), or as it came.
    async fn complete_aggregate(&self, ev: &ChangeEvent) -> Result<Aggregate, PipelineError> {
        let Some(m) = self.transformer.catalogue().get(&ev.mapping) else {
            return Ok(Aggregate::AsIs);
        };
        match crate::flows::of_mapping(m) {
            Some(flow) => flow.complete(&self.flow_targets(), m, ev).await,
            None => Ok(Aggregate::AsIs),
        }
    }

    /// What the document flows read and refresh with.
    fn flow_targets(&self) -> FlowTargets<'_> {
        FlowTargets {
            targets: &self.survivors,
            store: &self.store,
            catalogue: self.transformer.catalogue(),
            currencies: &self.currencies,
        }
    }

    /// The decision on `ev`; when the currency table lacks a value, it is refreshed and the
    /// change decided again.
    async fn decide(&self, ev: &ChangeEvent, force: bool) -> Result<Decision, PipelineError> {
        let mut d = self
            .transformer
            .decide_with(ev, false, force)
            .map_err(|e| PipelineError::Stage {
                stage: "transform".into(),
                reason: e.to_string(),
            })?;
        if matches!(d, Decision::RefreshCurrencies) {
            self.refresh_currencies().await;
            d = self.transformer.decide_with(ev, true, force).map_err(|e| {
                PipelineError::Stage {
                    stage: "transform".into(),
                    reason: e.to_string(),
                }
            })?;
        }
        Ok(d)
    }

    /// Shows the change to every configured document flow (the invoice flow refreshes the
    /// account statistics a customer's or an order's change may move).
    async fn run_flow_triggers(&self, ev: &ChangeEvent) {
        let cx = self.flow_targets();
        for flow in crate::flows::configured(self.transformer.catalogue()) {
            flow.after_change(&cx, ev).await;
        }
    }

    /// Acts on decision `d`: a write command to the commands topic, an outcome, a park (and a
    /// redrive when its dependency is coupled meanwhile), or a restore.
    async fn act(&self, ev: &ChangeEvent, d: Decision, force: bool) -> Result<(), PipelineError> {
        let key = ev.source.to_string();
        let m = metrics();
        match d {
            Decision::Write(cmd) => {
                let bytes = encode_command(&cmd).map_err(|e| PipelineError::Stage {
                    stage: "transform".into(),
                    reason: e.to_string(),
                })?;
                let headers = if force {
                    crate::pipeline::force::force_headers()
                } else {
                    Vec::new()
                };
                self.bus
                    .produce(&self.topics.commands, &key, Some(&bytes), &headers)
                    .await?;
                m.produced
                    .with_label_values(&[self.topics.commands.as_str()])
                    .inc();
                m.records
                    .with_label_values(&[&ev.mapping, "transform", "command"])
                    .inc();
                tracing::debug!(op = ?cmd.op, target = %cmd.target_entity, "Write command issued.");
            }
            Decision::Skip(o) => self.emit(&o, Some(ev)).await?,
            Decision::Fail(o) => {
                tracing::warn!(
                    reason = o.reason.as_deref().unwrap_or(""),
                    "Change failed in transform."
                );
                self.emit(&o, Some(ev)).await?;
            }
            Decision::Park(o, p) => {
                self.state.park(&p).await?;
                self.emit(&o, Some(ev)).await?;
                // The coupling may have appeared between the decision and the park.
                if redrive::resolvable(self.transformer.catalogue(), &self.store, &p.waiting_for)? {
                    redrive::redrive_keys(
                        &self.bus,
                        &self.topics,
                        &self.state,
                        std::slice::from_ref(&p.waiting_for),
                    )
                    .await
                    .map_err(|e| PipelineError::Stage {
                        stage: "redrive".into(),
                        reason: e.to_string(),
                    })?;
                }
            }
            Decision::Restore(o, survivor) => {
                self.emit(&o, Some(ev)).await?;
                self.restore(ev, &survivor).await?;
            }
            Decision::RefreshCurrencies => {}
        }
        Ok(())
    }

    /// Reads `survivor` and puts it on the changes topic (same correlation id): uncoupled now,
    /// it is created again on the side where its pair was deleted, and coupled.
    async fn restore(
        &self,
        ev: &ChangeEvent,
        survivor: &crate::event::RecordKey,
    ) -> Result<(), PipelineError> {
        let target = self.survivors.get(survivor.system);
        let fields = match target.get(&survivor.entity, &survivor.id).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                tracing::info!(survivor = %survivor, "Both records of the pair are deleted; nothing to restore.");
                return Ok(());
            }
            Err(e) => {
                let mut o = Outcome::for_event(
                    ev,
                    survivor.system,
                    &survivor.entity,
                    Some(survivor.id.clone()),
                    crate::event::OutcomeStatus::Failed,
                    Some(format!(
                        "mapping {}: {} was deleted and is to be restored from {survivor}, which cannot be read: {e}; `couplet errors retry` tries again",
                        ev.mapping, ev.source
                    )),
                );
                o.error = Some(crate::event::types::OutcomeError {
                    class: crate::error::Classify::class(&e).to_string(),
                    actor: crate::error::Classify::actor(&e).as_str().to_string(),
                    field: None,
                });
                return self.emit(&o, Some(ev)).await;
            }
        };
        let mut again = crate::capture::emit::upsert_event(&ev.mapping, survivor.clone(), fields);
        again.correlation_id = ev.correlation_id;
        let bytes =
            crate::event::avro::encode_change(&again).map_err(|e| PipelineError::Stage {
                stage: "transform".into(),
                reason: e.to_string(),
            })?;
        self.bus
            .produce(
                &self.topics.changes,
                &survivor.to_string(),
                Some(&bytes),
                &[("couplet-restore".into(), ev.source.to_string())],
            )
            .await?;
        tracing::info!(survivor = %survivor, "Restoring a deleted record from its surviving pair.");
        Ok(())
    }

    /// Projects and appends an outcome (failures also to the dead-letter topic).
    async fn emit(&self, o: &Outcome, ev: Option<&ChangeEvent>) -> Result<(), PipelineError> {
        self.state.apply_outcome(o, ev).await?;
        metrics()
            .records
            .with_label_values(&[&o.mapping, "transform", o.status.as_str()])
            .inc();
        let bytes = encode_outcome(o).map_err(|e| PipelineError::Stage {
            stage: "transform".into(),
            reason: e.to_string(),
        })?;
        self.bus
            .produce(
                &self.topics.outcomes,
                &o.source.to_string(),
                Some(&bytes),
                &[],
            )
            .await?;
        if o.status == crate::event::OutcomeStatus::Failed {
            let class = o
                .error
                .as_ref()
                .map(|e| e.class.as_str())
                .unwrap_or("unknown");
            metrics()
                .failures
                .with_label_values(&[&o.mapping, "transform", class])
                .inc();
            if let Some(ev) = ev {
                let bytes = crate::event::avro::encode_change(ev).unwrap_or_default();
                let headers = vec![
                    ("couplet-error-class".to_string(), class.to_string()),
                    (
                        "couplet-error-reason".to_string(),
                        o.reason.clone().unwrap_or_default(),
                    ),
                    (
                        "couplet-source-topic".to_string(),
                        self.topics.changes.clone(),
                    ),
                    ("couplet-attempts".to_string(), o.attempts.to_string()),
                ];
                self.bus
                    .produce(
                        &self.topics.dlq,
                        &o.source.to_string(),
                        Some(&bytes),
                        &headers,
                    )
                    .await?;
                metrics()
                    .dead_lettered
                    .with_label_values(&[&o.mapping, "transform", class])
                    .inc();
            }
        }
        Ok(())
    }
}
