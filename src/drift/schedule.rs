//! Scheduled reconciliation inside `couplet run` (`[reconcile] schedule`, e.g. nightly): on
//! each due time the configured mappings are reconciled (and fixed, with `[reconcile] fix`)
//! through the running engine's stages. The next and last runs are the checkpoint
//! `reconcile/schedule`, on the log like the runs' own state, so a restart keeps the cadence
//! and an interrupted run resumes on the next start.
//!
//! Every instance whose configuration has a schedule runs it; with several instances on
//! Kafka, give the schedule to one of them (the runs are resumable and idempotent, so two would
//! do the work twice, not harm).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::ReconcileConfig;
use super::error::DriftError;
use super::run::{ReconcileOptions, reconcile_all};
use crate::mapping::Catalogue;
use crate::mapping::schedule::Schedule;
use crate::pipeline::EngineParts;
use crate::pipeline::state::StateLog;

/// The checkpoint's name.
pub const CHECKPOINT: &str = "reconcile/schedule";

/// When the scheduled reconciliation last ran and runs next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// When the last run started.
    pub last_run: Option<DateTime<Utc>>,
    /// When the next is due.
    pub next_run: Option<DateTime<Utc>>,
    /// Drift the last run found (every mapping).
    pub last_drift: u64,
    /// Why the last run stopped, if it failed.
    pub last_error: Option<String>,
}

/// Starts the scheduled reconciliation when `[reconcile] schedule` is set (`None`
/// otherwise); it stops when `shutdown` turns true. A mapping in `[reconcile] mappings` the
/// engine does not run is refused here, at start.
pub fn spawn(
    p: EngineParts,
    cfg: ReconcileConfig,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<JoinHandle<()>>, DriftError> {
    let Some(schedule) = cfg.schedule.clone() else {
        return Ok(None);
    };
    check(&p.catalogue, &cfg)?;
    tracing::info!(schedule = %schedule.describe(), "Scheduled reconciliation on.");
    Ok(Some(tokio::spawn(run(p, cfg, schedule, shutdown))))
}

/// Refuses a `[reconcile] mappings` entry `catalogue` does not hold (before an engine starts).
pub fn check(catalogue: &Catalogue, cfg: &ReconcileConfig) -> Result<(), DriftError> {
    match cfg.mappings.iter().find(|m| catalogue.get(m).is_none()) {
        Some(m) => Err(DriftError::UnknownScheduledMapping(m.clone())),
        None => Ok(()),
    }
}

async fn run(
    p: EngineParts,
    cfg: ReconcileConfig,
    schedule: Schedule,
    mut shutdown: watch::Receiver<bool>,
) {
    let log = match crate::pipeline::engine::instance_id(&p.store) {
        Ok(id) => StateLog::new(p.bus.clone(), p.topics.clone(), p.store.clone(), id),
        Err(e) => {
            tracing::error!(error = %e, "Scheduled reconciliation cannot start.");
            return;
        }
    };
    loop {
        let mut st: ScheduleState = p
            .store
            .checkpoint(CHECKPOINT)
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let now = Utc::now();
        let due = match st.next_run {
            Some(t) => t,
            None => match schedule.next_after(now) {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(error = %e, "The reconcile schedule is invalid; check [reconcile] schedule.");
                    return;
                }
            },
        };
        if st.next_run.is_none() {
            st.next_run = Some(due);
            save(&log, &st).await;
        }
        let wait = (due - now).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let started = Utc::now();
        let mut opts = ReconcileOptions::from_config(&cfg, "schedule");
        opts.stop = Some(shutdown.clone());
        match reconcile_all(&p, &cfg.mappings, &opts).await {
            Ok(reports) => {
                st.last_drift = reports.iter().map(|r| r.counts.total()).sum();
                st.last_error = None;
                tracing::info!(
                    drift = st.last_drift,
                    mappings = reports.len(),
                    "Scheduled reconciliation done."
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "Scheduled reconciliation stopped; the next run resumes it.");
                st.last_error = Some(e.to_string());
            }
        }
        st.last_run = Some(started);
        st.next_run = schedule.next_after(Utc::now().max(due)).ok();
        save(&log, &st).await;
        if *shutdown.borrow() {
            return;
        }
    }
}

async fn save(log: &StateLog, st: &ScheduleState) {
    let Ok(mut v) = serde_json::to_value(st) else {
        return;
    };
    super::state::stamp(&mut v);
    if let Err(e) = log.save_checkpoint(CHECKPOINT, &v).await {
        tracing::warn!(error = %e, "Cannot save the reconcile schedule's checkpoint.");
    }
}
