//! The transform, apply and audit stages, wired in this one place for every command that runs
//! them: `couplet run` (the engine), and `sync-now`, `orders` and `full-sync` when no engine
//! is running ([`super::sync_now::LocalStages`]).

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::audit::{index_message, index_natural_keys};
use super::barrier::Barrier;
use super::consume::{Subscription, consume};
use super::error::PipelineError;
use super::parts::EngineParts;
use super::state::StateLog;
use crate::apply::intent::Intents;
use crate::apply::{ApplyStage, Writer};
use crate::bus::StartFrom;
use crate::systems::Target;
use crate::transform::Transformer;
use crate::transform::currency::{CurrencySource, CurrencyTable};
use crate::transform::stage::TransformStage;

/// Consumer group names.
pub const TRANSFORM_GROUP: &str = "transform";
/// See [`TRANSFORM_GROUP`].
pub const APPLY_GROUP: &str = "apply";
/// Prefix of the per-instance audit group (every instance indexes the whole trail).
pub const AUDIT_GROUP_PREFIX: &str = "audit-";

/// A spawned stage and its name.
pub type Task = (String, JoinHandle<Result<(), PipelineError>>);

/// The CRM connector's currencies, as the transform's currency source.
pub struct CrmCurrencies(pub Target);

#[async_trait]
impl CurrencySource for CrmCurrencies {
    async fn load(&self) -> Result<Vec<(String, String)>, String> {
        self.0
            .connector()
            .currencies()
            .await
            .map_err(|e| e.to_string())
    }
}

/// How long the start-up read of the CRM's currencies waits out a system that does not answer
/// (time-outs, 5xx, throttling, unreadable answers) before the start fails.
const CURRENCIES_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

/// The currency table, loaded from the CRM, and where to refresh it from. A fault of the CRM
/// is waited out (backing off, up to [`CURRENCIES_PATIENCE`]): a start that meets a 5xx burst
/// or an unreadable answer is not a failed start. What a person must fix (credentials, a wrong
/// URL, a refusal) fails at once.
pub async fn load_currencies(
    p: &EngineParts,
) -> Result<(CurrencyTable, Arc<dyn CurrencySource>), PipelineError> {
    let currencies = CurrencyTable::new(&p.lcy);
    let source: Arc<dyn CurrencySource> = Arc::new(CrmCurrencies(p.targets.crm.clone()));
    let crm = p.targets.crm.system();
    let began = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(500);
    let rows = loop {
        match p.targets.crm.connector().currencies().await {
            Ok(rows) => break rows,
            Err(e)
                if crate::systems::error::is_transient_class(crate::error::Classify::class(&e))
                    && began.elapsed() < CURRENCIES_PATIENCE =>
            {
                tracing::warn!(system = %crm, error = %e, wait_ms = wait.as_millis() as u64, "Reading the currencies at start-up: the system does not answer yet; waiting.");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(15));
            }
            Err(e) => {
                return Err(PipelineError::Setup(format!(
                    "cannot read the currencies of {crm} (the connection test failed): {e}"
                )));
            }
        }
    };
    currencies.set(rows);
    Ok((currencies, source))
}

/// What the stages run with.
pub struct StageSetup<'a> {
    /// The engine's parts.
    pub parts: &'a EngineParts,
    /// This instance's id (its audit group).
    pub instance: &'a str,
    /// Shared state, through its changelogs.
    pub state: StateLog,
    /// The currency table and its source.
    pub currencies: (CurrencyTable, Arc<dyn CurrencySource>),
    /// A running engine's state barrier: with it, creates log intents first and the transform
    /// and apply stages start once the state changelogs are read back (other instances'
    /// couplings and intents known). Without it (a command's own stages), neither.
    pub barrier: Option<Barrier>,
}

/// Starts the transform, apply and audit stages until `shutdown`.
pub fn spawn(setup: StageSetup<'_>, shutdown: &watch::Receiver<bool>) -> Vec<Task> {
    let p = setup.parts;
    let (currencies, source) = setup.currencies;
    let transform = TransformStage {
        transformer: Transformer::new(p.catalogue.clone(), p.store.clone(), currencies.clone())
            .with_orders(p.orders.clone())
            .with_erp(p.targets.erp.clone()),
        survivors: p.targets.clone(),
        bus: p.bus.clone(),
        topics: p.topics.clone(),
        store: p.store.clone(),
        currencies: currencies.clone(),
        currency_source: source,
        state: setup.state.clone(),
    };
    let mut writer = Writer::new(p.targets.clone(), p.store.clone(), p.catalogue.clone());
    if let Some(barrier) = &setup.barrier {
        writer = writer
            .with_currencies(currencies)
            .with_intents(Intents::new(setup.state.clone(), barrier.clone()));
    }
    let apply = ApplyStage {
        writer,
        bus: p.bus.clone(),
        topics: p.topics.clone(),
        store: p.store.clone(),
        state: setup.state,
    };
    let transform = consume(
        p.bus.clone(),
        Subscription::new(
            p.topics.group(TRANSFORM_GROUP),
            vec![p.topics.changes.clone()],
            StartFrom::Committed,
            p.partitions as usize,
        )
        .durable(&p.store),
        shutdown.clone(),
        move |msg| {
            let t = transform.clone();
            async move { t.handle(msg).await }
        },
    );
    let apply = consume(
        p.bus.clone(),
        Subscription::new(
            p.topics.group(APPLY_GROUP),
            vec![p.topics.commands.clone()],
            StartFrom::Committed,
            p.apply_concurrency,
        )
        .durable(&p.store),
        shutdown.clone(),
        move |msg| {
            let a = apply.clone();
            async move { a.handle(msg).await }
        },
    );
    let (transform, apply) = match setup.barrier {
        Some(b) => (
            tokio::spawn(after_catch_up(b.clone(), shutdown.clone(), transform)),
            tokio::spawn(after_catch_up(b, shutdown.clone(), apply)),
        ),
        None => (tokio::spawn(transform), tokio::spawn(apply)),
    };
    vec![
        ("transform".into(), transform),
        ("apply".into(), apply),
        ("audit".into(), spawn_audit(p, setup.instance, shutdown)),
        (
            "audit-retention".into(),
            tokio::spawn(super::audit_retention::prune_audit(
                p.store.clone(),
                p.topics.retention.audit_max_age(),
                p.topics.retention.check_interval(),
                shutdown.clone(),
            )),
        ),
    ]
}

/// The audit group of `instance`.
pub fn audit_group(p: &EngineParts, instance: &str) -> String {
    p.topics.group(&format!("{AUDIT_GROUP_PREFIX}{instance}"))
}

fn spawn_audit(
    p: &EngineParts,
    instance: &str,
    shutdown: &watch::Receiver<bool>,
) -> JoinHandle<Result<(), PipelineError>> {
    let (store, topics, cat) = (p.store.clone(), p.topics.clone(), p.catalogue.clone());
    tokio::spawn(consume(
        p.bus.clone(),
        Subscription::new(
            audit_group(p, instance),
            vec![
                p.topics.changes.clone(),
                p.topics.commands.clone(),
                p.topics.outcomes.clone(),
            ],
            StartFrom::Committed,
            4,
        )
        .durable(&p.store),
        shutdown.clone(),
        move |msg| {
            let (store, topics, cat) = (store.clone(), topics.clone(), cat.clone());
            async move {
                index_message(&store, &topics, &msg)?;
                index_natural_keys(&store, &cat, &topics, &msg)?;
                Ok(())
            }
        },
    ))
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
                if super::consume::pause(&mut shutdown, std::time::Duration::from_secs(1)).await {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
    stage.await
}
