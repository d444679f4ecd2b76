//! Persisted full-sync state: the session, one job per mapping and direction, and the run ids
//! (correlation ids) of the change events the jobs emitted. They are kept as entries of the
//! checkpoint store, so they go through the checkpoints changelog like every other piece of
//! shared state, and a killed `couplet full-sync` resumes from them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::System;
use crate::pipeline::PipelineError;
use crate::pipeline::state::StateLog;
use crate::store::{Store, StoreError};

/// The session entry.
pub const SESSION: &str = "full-sync/session";

/// The entry of one job.
pub fn job_name(mapping: &str, direction: &str) -> String {
    format!("full-sync/job/{mapping}/{direction}")
}

/// The entry marking `run` as a full-sync run (its events may create records even when the
/// mapping synchronises only coupled records).
pub fn run_name(run: Uuid) -> String {
    format!("full-sync/run/{run}")
}

/// `to_crm` for a job reading the ERP, `to_erp` for one reading the CRM.
pub fn direction_from(source: System) -> &'static str {
    crate::transform::decision::direction_to(source.side().other())
}

/// True when `correlation` is the run id of a full-sync job.
pub fn is_full_sync_run(store: &Store, correlation: Uuid) -> Result<bool, StoreError> {
    Ok(store.checkpoint(&run_name(correlation))?.is_some())
}

/// One `couplet full-sync` over a set of mappings, until every job finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Session id.
    pub id: Uuid,
    /// The mappings it covers, in dependency order.
    pub mappings: Vec<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When every job finished.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its dependencies.
    Pending,
    /// Reading and synchronising.
    Running,
    /// Every record has an outcome.
    Finished,
    /// A dependency did not finish, so it did not start.
    Blocked,
}

impl JobStatus {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Finished => "finished",
            JobStatus::Blocked => "blocked",
        }
    }
}

/// Outcomes of a job's records (Business Central's job counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Created on the other side.
    pub inserted: u64,
    /// Updated on the other side.
    pub modified: u64,
    /// Matched by natural key and coupled without a write.
    pub coupled: u64,
    /// Nothing to write: unchanged, filtered, stale, echo, uncoupled.
    pub skipped: u64,
    /// Waiting for a dependency.
    pub parked: u64,
    /// In the errors list.
    pub failed: u64,
}

impl Counts {
    /// Records with an outcome.
    pub fn done(&self) -> u64 {
        self.inserted + self.modified + self.coupled + self.skipped + self.parked + self.failed
    }

    /// Counts one outcome.
    pub fn add(&mut self, status: crate::event::OutcomeStatus) {
        use crate::event::OutcomeStatus as S;
        match status {
            S::Created => self.inserted += 1,
            S::Updated | S::Deleted => self.modified += 1,
            S::Coupled => self.coupled += 1,
            S::Parked => self.parked += 1,
            S::Failed => self.failed += 1,
            S::Unchanged | S::Echo | S::Stale | S::Filtered | S::Uncoupled => self.skipped += 1,
        }
    }
}

/// One job: a mapping in one direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobState {
    /// The mapping.
    pub mapping: String,
    /// `to_crm` (reads the ERP) or `to_erp` (reads the CRM).
    pub direction: String,
    /// Where it is.
    pub status: JobStatus,
    /// The correlation id of its current (or last) run.
    pub run_id: Option<Uuid>,
    /// Runs started (more than one after a resume).
    pub runs: u32,
    /// Records read.
    pub total: u64,
    /// Their outcomes.
    pub counts: Counts,
    /// When the current run started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobState {
    /// A pending job.
    pub fn pending(mapping: &str, direction: &str) -> Self {
        JobState {
            mapping: mapping.to_string(),
            direction: direction.to_string(),
            status: JobStatus::Pending,
            run_id: None,
            runs: 0,
            total: 0,
            counts: Counts::default(),
            started_at: None,
            finished_at: None,
        }
    }
}

fn encode<T: Serialize>(v: &T) -> Result<serde_json::Value, PipelineError> {
    serde_json::to_value(v).map_err(|e| PipelineError::Stage {
        stage: "full-sync".into(),
        reason: format!("cannot encode the full-sync state: {e}"),
    })
}

/// Reads a session or job entry; an entry that does not decode counts as absent (and is
/// replaced), with a warning.
pub fn load<T: for<'de> Deserialize<'de>>(
    store: &Store,
    name: &str,
) -> Result<Option<T>, StoreError> {
    let Some(v) = store.checkpoint(name)? else {
        return Ok(None);
    };
    match serde_json::from_value(v) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            tracing::warn!(entry = name, error = %e, "Unreadable full-sync state; starting that entry afresh.");
            Ok(None)
        }
    }
}

/// Saves a session or job entry through the checkpoints changelog.
pub async fn save<T: Serialize>(state: &StateLog, name: &str, v: &T) -> Result<(), PipelineError> {
    state.save_checkpoint(name, &encode(v)?).await
}

/// Marks `run` as a full-sync run.
pub async fn register_run(state: &StateLog, run: Uuid) -> Result<(), PipelineError> {
    state
        .save_checkpoint(
            &run_name(run),
            &serde_json::json!({ "at": Utc::now().to_rfc3339() }),
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::OutcomeStatus;

    #[test]
    fn counts_follow_business_centrals_counters() {
        let mut c = Counts::default();
        for s in [
            OutcomeStatus::Created,
            OutcomeStatus::Updated,
            OutcomeStatus::Coupled,
            OutcomeStatus::Unchanged,
            OutcomeStatus::Filtered,
            OutcomeStatus::Parked,
            OutcomeStatus::Failed,
        ] {
            c.add(s);
        }
        assert_eq!(
            (
                c.inserted, c.modified, c.coupled, c.skipped, c.parked, c.failed
            ),
            (1, 1, 1, 2, 1, 1)
        );
        assert_eq!(c.done(), 7);
        assert_eq!(direction_from(crate::systems::BC), "to_crm");
    }

    #[test]
    fn runs_are_registered_in_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let run = Uuid::new_v4();
        assert!(!is_full_sync_run(&store, run).unwrap());
        store
            .save_checkpoint(&run_name(run), &serde_json::json!({}))
            .unwrap();
        assert!(is_full_sync_run(&store, run).unwrap());
    }
}
