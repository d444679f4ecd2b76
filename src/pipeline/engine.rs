//! The engine: capture tasks, the transform, apply and audit stages, the re-driver and the
//! gauges, running together until shut down.

use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::barrier::Barrier;
use super::captures::plan_captures;
use super::consume::{Subscription, consume};
use super::error::PipelineError;
use super::follow::apply_if_newer;
use super::gauges::update_gauges;
use super::lease::{LEASE_GROUP, LeaseKeeper};
use super::stages::{self, StageSetup};
use super::state::{StateLog, is_own};
use crate::bus::StartFrom;
use crate::capture::CaptureStatus;
use crate::transform::redrive;

pub use super::parts::{EngineParts, instance_id};
pub use super::stages::{APPLY_GROUP, AUDIT_GROUP_PREFIX, TRANSFORM_GROUP};

/// Prefix of the per-instance state follower group.
pub const STATE_GROUP_PREFIX: &str = "state-";
/// A state barrier not read back within this is retried as an unavailable log.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(30);

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
        let pair = p.targets.pair();
        for system in [pair.crm, pair.erp] {
            crate::waits::watch(system.as_str());
        }
        // The connectors' capture tasks (planned even when not run: their count sizes the
        // leases topic, which every instance must agree on).
        let plans = plan_captures(&p);
        p.bus
            .ensure_topics(&p.topics.specs(p.partitions, plans.lease_count()))
            .await?;
        super::recover::projection(&p.bus, &p.topics, &p.store, &p.catalogue).await?;
        let instance = instance_id(&p.store)?;
        let state = StateLog::new(
            p.bus.clone(),
            p.topics.clone(),
            p.store.clone(),
            instance.clone(),
        );
        let currencies = stages::load_currencies(&p).await?;
        crate::drift::metrics::prime(&p.catalogue);
        let (tx, rx) = watch::channel(false);
        let barrier = Barrier::new(p.bus.clone(), &p.topics, &instance, BARRIER_TIMEOUT);
        let mut tasks = vec![spawn_state_follower(&p, &instance, &barrier, &rx)];
        let keeper = LeaseKeeper::new();
        let mut captures = Vec::new();
        if capture {
            let (t, c) = plans.spawn(&p, &state, &keeper, &rx);
            tasks.extend(t);
            captures = c;
        }
        tasks.extend(stages::spawn(
            StageSetup {
                parts: &p,
                instance: &instance,
                state: state.clone(),
                currencies,
                barrier: Some(barrier),
            },
            &rx,
        ));
        tasks.push((
            "leases".into(),
            tokio::spawn(keeper.run(
                p.bus.clone(),
                p.topics.group(LEASE_GROUP),
                p.topics.leases.clone(),
                rx.clone(),
            )),
        ));
        super::reconcile::spawn(p.bus.clone(), p.topics.clone(), p.store.clone(), rx.clone());
        tasks.push(spawn_redrive(&p, &state, &rx));
        tasks.push(spawn_gauges(&p, &rx));
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

    /// Stops every task: waits for them within `[sync] shutdown_grace_secs`, then stops those
    /// still busy where they are. The projection is flushed either way.
    pub async fn shutdown(self) -> Result<(), PipelineError> {
        let _ = self.shutdown.send(true);
        // Bounded: a stage still busy at the deadline (a write to a system that does not
        // answer) is stopped where it is; its message is not committed, so the next start
        // reads it again, and the writes are idempotent.
        let deadline = tokio::time::Instant::now() + self.parts.shutdown_grace;
        let mut first = None;
        for (name, mut h) in self.tasks {
            let done = match tokio::time::timeout_at(deadline, &mut h).await {
                Ok(done) => done,
                Err(_) => {
                    tracing::warn!(task = %name, grace = ?self.parts.shutdown_grace, "Still busy at the end of the shutdown grace; stopped where it is (uncommitted work is read again on the next start).");
                    h.abort();
                    continue;
                }
            };
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first.get_or_insert(e);
                }
                Err(e) if e.is_cancelled() => {}
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

/// Follows the state changelogs: other instances' couplings, checkpoints, parked changes and
/// create intents; this instance's own messages whose projection write did not survive a crash
/// (each message is applied only when newer than what the projection holds for its key); and
/// this instance's barrier markers read back. Its position is committed only once the
/// projection is flushed, so after a SIGKILL it resumes before anything not on disk.
fn spawn_state_follower(
    p: &EngineParts,
    instance: &str,
    barrier: &Barrier,
    shutdown: &watch::Receiver<bool>,
) -> (String, JoinHandle<Result<(), PipelineError>>) {
    let (store, topics, me) = (p.store.clone(), p.topics.clone(), instance.to_string());
    let barrier = barrier.clone();
    (
        "state-follower".into(),
        tokio::spawn(consume(
            p.bus.clone(),
            Subscription::new(
                p.topics.group(&format!("{STATE_GROUP_PREFIX}{instance}")),
                vec![
                    p.topics.couplings.clone(),
                    p.topics.checkpoints.clone(),
                    p.topics.parked.clone(),
                    p.topics.intents.clone(),
                ],
                StartFrom::Committed,
                4,
            )
            .durable(&p.store),
            shutdown.clone(),
            move |msg| {
                let (store, topics, me) = (store.clone(), topics.clone(), me.clone());
                let barrier = barrier.clone();
                async move {
                    if barrier.observe(&msg) {
                        return Ok(());
                    }
                    if apply_if_newer(&store, &topics, &msg)? {
                        let origin = if is_own(&msg, &me) { "own" } else { "other" };
                        if origin == "own" {
                            tracing::debug!(changelog = %msg.topic, key = %msg.key, offset = msg.offset, "A state change of this instance not (yet) in the projection was applied from its changelog.");
                        }
                        crate::metrics::metrics()
                            .state_followed
                            .with_label_values(&[origin])
                            .inc();
                    }
                    Ok(())
                }
            },
        )),
    )
}

/// Re-drives parked changes whose dependency got coupled.
fn spawn_redrive(
    p: &EngineParts,
    state: &StateLog,
    shutdown: &watch::Receiver<bool>,
) -> (String, JoinHandle<Result<(), PipelineError>>) {
    let (cat, bus, topics, state, rx) = (
        p.catalogue.clone(),
        p.bus.clone(),
        p.topics.clone(),
        state.clone(),
        shutdown.clone(),
    );
    (
        "redrive".into(),
        tokio::spawn(async move {
            redrive::run(cat, bus, topics, state, Duration::from_secs(2), rx)
                .await
                .map_err(|e| PipelineError::Stage {
                    stage: "redrive".into(),
                    reason: e.to_string(),
                })
        }),
    )
}

/// Refreshes the gauges every 2 s.
fn spawn_gauges(
    p: &EngineParts,
    shutdown: &watch::Receiver<bool>,
) -> (String, JoinHandle<Result<(), PipelineError>>) {
    let gauges = p.clone();
    let mut rx = shutdown.clone();
    (
        "gauges".into(),
        tokio::spawn(async move {
            loop {
                update_gauges(&gauges).await;
                tokio::select! {
                    _ = rx.changed() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                }
            }
        }),
    )
}
