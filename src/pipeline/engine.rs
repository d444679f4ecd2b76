//! The engine: capture tasks, the transform, apply and audit stages, the re-driver and the
//! gauges, running together until shut down.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::audit::{index_message, index_natural_keys};
use super::barrier::Barrier;
use super::consume::consume;
use super::error::PipelineError;
use super::follow::apply_state_message;
use super::lease::{LEASE_GROUP, LeaseKeeper};
use super::state::{StateLog, is_own};
use crate::apply::intent::Intents;
use crate::apply::{ApplyStage, Targets, Writer};
use crate::bus::{Bus, StartFrom, Topics};
use crate::capture::{BcCapture, CaptureStatus, DataverseCapture};
use crate::mapping::Catalogue;
use crate::metrics::metrics;
use crate::store::Store;
use crate::systems::{BcClient, DataverseClient, Target};
use crate::transform::stage::{CurrencySource, TransformStage};
use crate::transform::{CurrencyTable, Transformer, redrive};

/// Consumer group names.
pub const TRANSFORM_GROUP: &str = "transform";
/// See [`TRANSFORM_GROUP`].
pub const APPLY_GROUP: &str = "apply";
/// Prefix of the per-instance audit group (every instance indexes the whole trail).
pub const AUDIT_GROUP_PREFIX: &str = "audit-";
/// Prefix of the per-instance state follower group.
pub const STATE_GROUP_PREFIX: &str = "state-";
/// A state barrier not read back within this is retried as an unavailable log.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(30);
/// On the first start, the item ledger read goes back this far (stock moved while the first
/// read of the items was under way).
const AVAILABILITY_FIRST_LOOKBACK: Duration = Duration::from_secs(600);

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
    /// Dataverse.
    pub dataverse: DataverseClient,
    /// Business Central.
    pub bc: BcClient,
    /// Pause between capture passes.
    pub poll_interval: Duration,
    /// Business Central polling overlap.
    pub bc_overlap: Duration,
    /// Writes in flight.
    pub apply_concurrency: usize,
    /// ERP local currency ISO code.
    pub lcy: String,
    /// `[orders]`.
    pub orders: crate::orders::OrdersConfig,
}

/// The Dataverse currencies, as the transform's currency source.
pub(crate) struct DvCurrencies(pub(crate) DataverseClient);

#[async_trait]
impl CurrencySource for DvCurrencies {
    async fn load(&self) -> Result<Vec<(String, String)>, String> {
        let rows = self
            .0
            .query(
                "transactioncurrencies",
                "",
                &["isocurrencycode", "transactioncurrencyid"],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let iso = r.get("isocurrencycode")?.as_str()?.to_string();
                let id = r.get("transactioncurrencyid")?.as_str()?.to_string();
                Some((iso, id))
            })
            .collect())
    }
}

/// A running engine.
pub struct Engine {
    parts: EngineParts,
    instance: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<(String, JoinHandle<Result<(), PipelineError>>)>,
    captures: Vec<CaptureStatus>,
}

impl Engine {
    /// Creates the topics, loads the currencies and starts every task.
    pub async fn start(parts: EngineParts) -> Result<Engine, PipelineError> {
        Self::start_with(parts, true).await
    }

    /// As [`Engine::start`], without the capture tasks: only what is appended to the changes
    /// topic by someone else (`couplet full-sync`, a replay) is synchronised.
    pub async fn start_without_capture(parts: EngineParts) -> Result<Engine, PipelineError> {
        Self::start_with(parts, false).await
    }

    async fn start_with(parts: EngineParts, capture: bool) -> Result<Engine, PipelineError> {
        let p = parts.clone();
        // Two captures per mapping, and the item ledger read for a mapping that keeps item
        // inventory current.
        let availability = p
            .catalogue
            .ordered()
            .iter()
            .find(|m| m.schedule.is_none() && crate::capture::availability::tracks_inventory(m))
            .cloned();
        let capture_count =
            (p.catalogue.ordered().len() * 2 + usize::from(availability.is_some())) as u32;
        p.bus
            .ensure_topics(&p.topics.specs(p.partitions, capture_count))
            .await?;
        let instance = instance_id(&p.store)?;
        let state = StateLog::new(
            p.bus.clone(),
            p.topics.clone(),
            p.store.clone(),
            instance.clone(),
        );
        let currencies = CurrencyTable::new(&p.lcy);
        let source: Arc<dyn CurrencySource> = Arc::new(DvCurrencies(p.dataverse.clone()));
        let rows = source.load().await.map_err(|e| {
            PipelineError::Setup(format!(
                "cannot read the Dataverse currencies (the connection test failed): {e}"
            ))
        })?;
        currencies.set(rows);
        let (tx, rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut captures = Vec::new();

        // Other instances' couplings, checkpoints, parked changes and create intents, and this
        // instance's barrier markers read back.
        let barrier = Barrier::new(p.bus.clone(), &p.topics, &instance, BARRIER_TIMEOUT);
        let fbarrier = barrier.clone();
        let (fstore, ftopics, finst) = (p.store.clone(), p.topics.clone(), instance.clone());
        tasks.push((
            "state-follower".into(),
            tokio::spawn(consume(
                p.bus.clone(),
                p.topics.group(&format!("{STATE_GROUP_PREFIX}{instance}")),
                vec![
                    p.topics.couplings.clone(),
                    p.topics.checkpoints.clone(),
                    p.topics.parked.clone(),
                    p.topics.intents.clone(),
                ],
                StartFrom::Committed,
                4,
                rx.clone(),
                move |msg| {
                    let (store, topics, me) = (fstore.clone(), ftopics.clone(), finst.clone());
                    let barrier = fbarrier.clone();
                    async move {
                        if barrier.observe(&msg) || is_own(&msg, &me) {
                            return Ok(());
                        }
                        apply_state_message(&store, &topics, &msg)
                    }
                },
            )),
        ));
        let keeper = LeaseKeeper::new();
        let mut lease_index = 0u32;

        for m in p.catalogue.ordered().iter().filter(|_| capture) {
            if let Some(schedule) = &m.schedule {
                // Read on its schedule instead of captured continuously.
                let read = crate::capture::scheduled::ScheduledRead {
                    mapping: m.clone(),
                    schedule: schedule.clone(),
                    dataverse: p.dataverse.clone(),
                    bc: p.bc.clone(),
                    bus: p.bus.clone(),
                    topics: p.topics.clone(),
                    state: state.clone(),
                    lease: keeper.lease(lease_index, capture_count),
                };
                lease_index += 2;
                tasks.push((
                    format!("{}/schedule", m.name),
                    tokio::spawn(read.run(rx.clone())),
                ));
                continue;
            }
            let dv_status = CaptureStatus::new(&format!("{}/dataverse/{}", m.name, m.crm_entity));
            let dv = DataverseCapture {
                mapping: m.clone(),
                client: p.dataverse.clone(),
                store: p.store.clone(),
                bus: p.bus.clone(),
                topics: p.topics.clone(),
                poll_interval: p.poll_interval,
                status: dv_status.clone(),
                state: state.clone(),
                lease: keeper.lease(lease_index, capture_count),
            };
            lease_index += 1;
            tasks.push((dv_status.name(), tokio::spawn(dv.run(rx.clone()))));
            captures.push(dv_status);
            let bc_status = CaptureStatus::new(&format!("{}/bc/{}", m.name, m.erp_entity));
            let bc = BcCapture {
                mapping: m.clone(),
                client: p.bc.clone(),
                store: p.store.clone(),
                bus: p.bus.clone(),
                topics: p.topics.clone(),
                poll_interval: p.poll_interval,
                overlap: p.bc_overlap,
                status: bc_status.clone(),
                state: state.clone(),
                lease: keeper.lease(lease_index, capture_count),
            };
            lease_index += 1;
            tasks.push((bc_status.name(), tokio::spawn(bc.run(rx.clone()))));
            captures.push(bc_status);
            if crate::orders::is_order_mapping(m) {
                // Posted invoices of orders (an order is deleted once completely posted).
                let posted = crate::orders::back::capture::PostedCapture {
                    mapping: m.clone(),
                    client: p.bc.clone(),
                    store: p.store.clone(),
                    bus: p.bus.clone(),
                    topics: p.topics.clone(),
                    poll_interval: p.poll_interval,
                    overlap: p.bc_overlap,
                    status: CaptureStatus::new(&format!(
                        "{}/bc/{}",
                        m.name,
                        crate::orders::back::capture::POSTED_SET
                    )),
                    state: state.clone(),
                    lease: keeper.lease(lease_index - 1, capture_count),
                };
                captures.push(posted.status.clone());
                tasks.push((posted.status.name(), tokio::spawn(posted.run(rx.clone()))));
            }
        }
        if let Some(m) = availability.filter(|_| capture) {
            let status = CaptureStatus::new(&format!(
                "{}/bc/{}",
                m.name,
                crate::capture::availability::LEDGER
            ));
            let read = crate::capture::availability::AvailabilityCapture {
                mapping: m,
                client: p.bc.clone(),
                store: p.store.clone(),
                bus: p.bus.clone(),
                topics: p.topics.clone(),
                poll_interval: p.poll_interval,
                first_lookback: AVAILABILITY_FIRST_LOOKBACK,
                status: status.clone(),
                state: state.clone(),
                lease: keeper.lease(lease_index, capture_count),
            };
            tasks.push((status.name(), tokio::spawn(read.run(rx.clone()))));
            captures.push(status);
        }

        let targets = Targets {
            crm: Target::Dataverse(p.dataverse.clone()),
            erp: Target::Bc(p.bc.clone()),
        };
        let transform = TransformStage {
            transformer: Transformer::new(p.catalogue.clone(), p.store.clone(), currencies.clone())
                .with_orders(p.orders.clone()),
            survivors: targets.clone(),
            bus: p.bus.clone(),
            topics: p.topics.clone(),
            store: p.store.clone(),
            currencies: currencies.clone(),
            currency_source: source,
            state: state.clone(),
        };
        tasks.push((
            "transform".into(),
            tokio::spawn(after_catch_up(
                barrier.clone(),
                rx.clone(),
                consume(
                    p.bus.clone(),
                    p.topics.group(TRANSFORM_GROUP),
                    vec![p.topics.changes.clone()],
                    StartFrom::Committed,
                    p.partitions as usize,
                    rx.clone(),
                    move |msg| {
                        let t = transform.clone();
                        async move { t.handle(msg).await }
                    },
                ),
            )),
        ));

        let apply = ApplyStage {
            writer: Writer::new(targets, p.store.clone(), p.catalogue.clone())
                .with_currencies(currencies)
                .with_intents(Intents::new(state.clone(), barrier.clone())),
            bus: p.bus.clone(),
            topics: p.topics.clone(),
            store: p.store.clone(),
            state: state.clone(),
        };
        tasks.push((
            "apply".into(),
            tokio::spawn(after_catch_up(
                barrier.clone(),
                rx.clone(),
                consume(
                    p.bus.clone(),
                    p.topics.group(APPLY_GROUP),
                    vec![p.topics.commands.clone()],
                    StartFrom::Committed,
                    p.apply_concurrency,
                    rx.clone(),
                    move |msg| {
                        let a = apply.clone();
                        async move { a.handle(msg).await }
                    },
                ),
            )),
        ));

        let (store, topics, acat) = (p.store.clone(), p.topics.clone(), p.catalogue.clone());
        tasks.push((
            "audit".into(),
            tokio::spawn(consume(
                p.bus.clone(),
                p.topics.group(&format!("{AUDIT_GROUP_PREFIX}{instance}")),
                vec![
                    p.topics.changes.clone(),
                    p.topics.commands.clone(),
                    p.topics.outcomes.clone(),
                ],
                StartFrom::Committed,
                4,
                rx.clone(),
                move |msg| {
                    let (store, topics, cat) = (store.clone(), topics.clone(), acat.clone());
                    async move {
                        index_message(&store, &topics, &msg)?;
                        index_natural_keys(&store, &cat, &topics, &msg)?;
                        Ok(())
                    }
                },
            )),
        ));

        let (cat, bus, topics, rstate, srx) = (
            p.catalogue.clone(),
            p.bus.clone(),
            p.topics.clone(),
            state.clone(),
            rx.clone(),
        );
        tasks.push((
            "leases".into(),
            tokio::spawn(keeper.run(
                p.bus.clone(),
                p.topics.group(LEASE_GROUP),
                p.topics.leases.clone(),
                rx.clone(),
            )),
        ));
        tasks.push((
            "redrive".into(),
            tokio::spawn(async move {
                redrive::run(cat, bus, topics, rstate, Duration::from_secs(2), srx)
                    .await
                    .map_err(|e| PipelineError::Stage {
                        stage: "redrive".into(),
                        reason: e.to_string(),
                    })
            }),
        ));

        let gauges = p.clone();
        let mut grx = rx.clone();
        tasks.push((
            "gauges".into(),
            tokio::spawn(async move {
                loop {
                    update_gauges(&gauges).await;
                    tokio::select! {
                        _ = grx.changed() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    }
                }
            }),
        ));
        Ok(Engine {
            parts,
            instance,
            shutdown: tx,
            tasks,
            captures,
        })
    }

    /// Progress of every capture task.
    pub fn captures(&self) -> &[CaptureStatus] {
        &self.captures
    }

    /// The parts the engine runs on.
    pub fn parts(&self) -> &EngineParts {
        &self.parts
    }

    /// The first task that stopped with an error, if any (tasks only stop early on faults).
    pub fn failed_task(&mut self) -> Option<PipelineError> {
        let i = self.tasks.iter().position(|(_, h)| h.is_finished())?;
        let (name, h) = self.tasks.remove(i);
        use futures::FutureExt;
        Some(match h.now_or_never() {
            Some(Ok(Err(e))) => e,
            Some(Err(e)) => PipelineError::Stage {
                stage: name,
                reason: e.to_string(),
            },
            _ => PipelineError::Stage {
                stage: name,
                reason: "stopped unexpectedly".into(),
            },
        })
    }

    /// True when every consumer group has consumed everything appended so far.
    pub async fn drained(&self) -> Result<bool, PipelineError> {
        let p = &self.parts;
        let audit = p
            .topics
            .group(&format!("{AUDIT_GROUP_PREFIX}{}", self.instance));
        let state = p
            .topics
            .group(&format!("{STATE_GROUP_PREFIX}{}", self.instance));
        let (transform, apply) = (p.topics.group(TRANSFORM_GROUP), p.topics.group(APPLY_GROUP));
        for (group, topics) in [
            (transform.as_str(), vec![&p.topics.changes]),
            (apply.as_str(), vec![&p.topics.commands]),
            (
                audit.as_str(),
                vec![&p.topics.changes, &p.topics.commands, &p.topics.outcomes],
            ),
            (
                state.as_str(),
                vec![
                    &p.topics.couplings,
                    &p.topics.checkpoints,
                    &p.topics.parked,
                    &p.topics.intents,
                ],
            ),
        ] {
            for t in topics {
                let ends = p.bus.end_offsets(t).await?;
                let done = p.bus.committed(group, t).await?;
                for (i, end) in ends.iter().enumerate() {
                    if *end > done.get(i).copied().flatten().unwrap_or(0) {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    async fn ends(&self) -> Result<Vec<u64>, PipelineError> {
        let p = &self.parts;
        let mut all = Vec::new();
        for t in [&p.topics.changes, &p.topics.commands, &p.topics.outcomes] {
            all.extend(p.bus.end_offsets(t).await?);
        }
        Ok(all)
    }

    /// Waits until the engine is idle: everything appended is processed, and every capture
    /// has made two complete passes since without appending anything (so the echoes of the
    /// engine's own writes have been seen and suppressed). Returns false on timeout.
    pub async fn wait_idle(&mut self, timeout: Duration) -> Result<bool, PipelineError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.failed_task() {
                return Err(e);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            if !self.drained().await? {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            let ends = self.ends().await?;
            let cycles: Vec<u64> = self.captures.iter().map(|c| c.cycles()).collect();
            while self
                .captures
                .iter()
                .zip(&cycles)
                .any(|(c, c0)| c.cycles() < c0 + 2)
            {
                if Instant::now() > deadline {
                    return Ok(false);
                }
                if let Some(e) = self.failed_task() {
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if self.drained().await? && self.ends().await? == ends {
                return Ok(true);
            }
        }
    }

    /// Stops every task and waits for them.
    pub async fn shutdown(self) -> Result<(), PipelineError> {
        let _ = self.shutdown.send(true);
        let mut first = None;
        for (name, h) in self.tasks {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first.get_or_insert(e);
                }
                Err(e) => {
                    first.get_or_insert(PipelineError::Stage {
                        stage: name,
                        reason: e.to_string(),
                    });
                }
            }
        }
        self.parts.store.flush()?;
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Runs `stage` once the state follower has caught up with the changelogs (couplings and
/// intents other instances appended while this one was down are in the store before it
/// decides anything).
async fn after_catch_up(
    barrier: Barrier,
    mut shutdown: watch::Receiver<bool>,
    stage: impl std::future::Future<Output = Result<(), PipelineError>>,
) -> Result<(), PipelineError> {
    loop {
        match barrier.sync().await {
            Ok(()) => break,
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, "The state changelogs are not read back yet; waiting before starting the stage.");
                if super::consume::pause(&mut shutdown, Duration::from_secs(1)).await {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
    stage.await
}

async fn update_gauges(p: &EngineParts) {
    let m = metrics();
    for map in p.catalogue.ordered() {
        if let Ok(n) = p.store.coupling_count(&map.name) {
            m.couplings.with_label_values(&[&map.name]).set(n as i64);
        }
    }
    if let Ok(parked) = p.store.parked() {
        for map in p.catalogue.ordered() {
            let n = parked.iter().filter(|e| e.mapping == map.name).count();
            m.parked.with_label_values(&[&map.name]).set(n as i64);
        }
    }
    for (group, topic) in [
        (p.topics.group(TRANSFORM_GROUP), &p.topics.changes),
        (p.topics.group(APPLY_GROUP), &p.topics.commands),
    ] {
        if let (Ok(ends), Ok(done)) = (
            p.bus.end_offsets(topic).await,
            p.bus.committed(&group, topic).await,
        ) {
            for (i, end) in ends.iter().enumerate() {
                let lag = end.saturating_sub(done.get(i).copied().flatten().unwrap_or(0));
                m.consumer_lag
                    .with_label_values(&[group.as_str(), topic.as_str(), &i.to_string()])
                    .set(lag as i64);
            }
        }
    }
    if let Ok(cks) = p.store.checkpoints() {
        for (name, v) in cks {
            // name = capture/<mapping>/<system>/<entity>
            let parts: Vec<&str> = name.splitn(4, '/').collect();
            if let ([_, mapping, system, entity], Some(at)) = (
                parts.as_slice(),
                crate::capture::dataverse::parse_time(v.get("at")),
            ) {
                let age = (chrono::Utc::now() - at).num_milliseconds() as f64 / 1000.0;
                m.checkpoint_age
                    .with_label_values(&[system, entity, mapping])
                    .set(age.max(0.0));
            }
        }
    }
}
