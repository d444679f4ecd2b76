//! Synchronise-now: a change event marked as forced goes onto the changes topic like any
//! captured change, so the transform and apply stages write it (skipping the echo, stale and
//! unchanged checks), the audit trail and the metrics record it, and a running instance
//! handles it as well as the command line does. Without a running instance, the command runs
//! the transform, apply and audit stages itself until the forced change's outcome is out
//! ([`LocalStages`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::captures::plan_captures;
use super::error::PipelineError;
use super::parts::{EngineParts, instance_id};
use super::stages::{self, StageSetup};
use super::state::StateLog;
use crate::bus::{Bus, StartFrom, Topics};
use crate::event::avro::{decode_outcome, encode_change};
use crate::event::{ChangeEvent, Outcome, RecordKey};
use crate::systems::{SystemError, Target};

pub use super::force::{FORCE_HEADER, force_headers, is_forced};

/// Reads `key` fresh from its system (`source`, the target of that system) and makes a change
/// event of it for `mapping` (`None` when the record is gone).
pub async fn read_change(
    source: &Target,
    mapping: &str,
    key: &RecordKey,
) -> Result<Option<ChangeEvent>, SystemError> {
    Ok(source
        .get(&key.entity, &key.id)
        .await?
        .map(|f| crate::capture::emit::upsert_event(mapping, key.clone(), f)))
}

/// Appends `ev` to the changes topic, marked as forced.
pub async fn request(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    ev: &ChangeEvent,
) -> Result<(), PipelineError> {
    request_as(bus, topics, ev, "sync-now").await
}

/// [`request`], marked as forced by `origin` (`reconcile`, say), which the audit trail shows.
pub async fn request_as(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    ev: &ChangeEvent,
    origin: &str,
) -> Result<(), PipelineError> {
    let bytes = encode_change(ev).map_err(|e| PipelineError::Stage {
        stage: origin.to_string(),
        reason: e.to_string(),
    })?;
    bus.produce(
        &topics.changes,
        &ev.source.to_string(),
        Some(&bytes),
        &super::force::force_headers_for(origin),
    )
    .await?;
    crate::metrics::metrics()
        .produced
        .with_label_values(&[topics.changes.as_str()])
        .inc();
    Ok(())
}

/// Reads the outcomes topic from `since` until an outcome of every id in `correlation_ids`
/// arrived, or `timeout` passed; returns the first outcome of each id that arrived.
pub async fn wait_outcomes(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    correlation_ids: &HashSet<uuid::Uuid>,
    since: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
) -> Result<HashMap<uuid::Uuid, Outcome>, PipelineError> {
    wait_outcomes_with(bus, topics, correlation_ids, since, timeout, &mut |_| {}).await
}

/// [`wait_outcomes`], calling `progress` with the number of outcomes found so far.
pub async fn wait_outcomes_with(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    correlation_ids: &HashSet<uuid::Uuid>,
    since: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<HashMap<uuid::Uuid, Outcome>, PipelineError> {
    let group = topics.group(&format!("sync-now-{}", uuid::Uuid::new_v4()));
    let mut consumer = bus
        .subscribe(
            &group,
            std::slice::from_ref(&topics.outcomes),
            StartFrom::Timestamp(since),
        )
        .await?;
    let deadline = Instant::now() + timeout;
    let mut found = HashMap::new();
    while Instant::now() < deadline && found.len() < correlation_ids.len() {
        for m in consumer.poll(256, Duration::from_millis(250)).await? {
            if let Ok(o) = decode_outcome(m.bytes())
                && correlation_ids.contains(&o.correlation_id)
            {
                found.entry(o.correlation_id).or_insert(o);
                progress(found.len());
            }
        }
    }
    Ok(found)
}

/// True when `group` has consumed everything appended to `topics`.
async fn drained(
    bus: &Arc<dyn Bus>,
    group: &str,
    topics: &[&String],
) -> Result<bool, PipelineError> {
    for t in topics {
        let ends = bus.end_offsets(t).await?;
        let done = bus.committed(group, t).await?;
        for (i, end) in ends.iter().enumerate() {
            if *end > done.get(i).copied().flatten().unwrap_or(0) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// The transform, apply and audit stages of one instance, run by a command while no
/// `couplet run` is (they consume as the engine's groups, so the next run carries on after
/// what they processed).
pub struct LocalStages {
    parts: EngineParts,
    audit_group: String,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<Result<(), PipelineError>>>,
}

impl LocalStages {
    /// Creates the topics, loads the currencies and starts the stages.
    pub async fn start(p: &EngineParts) -> Result<LocalStages, PipelineError> {
        p.bus
            .ensure_topics(&p.topics.specs(p.partitions, plan_captures(p).lease_count()))
            .await?;
        let instance = instance_id(&p.store)?;
        let state = StateLog::new(
            p.bus.clone(),
            p.topics.clone(),
            p.store.clone(),
            instance.clone(),
        );
        let currencies = stages::load_currencies(p).await?;
        let (tx, rx) = watch::channel(false);
        let tasks = stages::spawn(
            StageSetup {
                parts: p,
                instance: &instance,
                state,
                currencies,
                barrier: None,
            },
            &rx,
        )
        .into_iter()
        .map(|(_, h)| h)
        .collect();
        Ok(LocalStages {
            parts: p.clone(),
            audit_group: stages::audit_group(p, &instance),
            shutdown: tx,
            tasks,
        })
    }

    /// Waits (up to `timeout`) until the audit trail has indexed everything appended, then
    /// stops the stages and flushes the projection.
    pub async fn stop(self, timeout: Duration) -> Result<(), PipelineError> {
        let p = &self.parts;
        let deadline = Instant::now() + timeout;
        let topics = [&p.topics.changes, &p.topics.commands, &p.topics.outcomes];
        while Instant::now() < deadline && !drained(&p.bus, &self.audit_group, &topics).await? {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = self.shutdown.send(true);
        let mut first = None;
        for h in self.tasks {
            match h.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first.get_or_insert(e);
                }
                Err(e) => {
                    first.get_or_insert(PipelineError::Stage {
                        stage: "sync-now".into(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        p.store.flush()?;
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
