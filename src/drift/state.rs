//! The state of a mapping's reconciliation run, saved after every page as the checkpoint
//! `reconcile/<mapping>`. Checkpoints go through the checkpoints changelog on the log (as
//! full-sync jobs and schedule watermarks do), not only into the projection: the run is
//! shared state, so another instance on Kafka can resume a scheduled run an instance that
//! died started, and a projection rebuilt from the log (`couplet replay --rebuild`) still
//! knows where the run was.
//!
//! Resuming walks the couplings in a stable order (by CRM id; for a sample, by a hash of the
//! run's seed and the CRM id, so the sample is the same random one after the interruption)
//! and skips those at or before the cursor.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::report::{Drift, DriftCounts, FixResult, MAX_LISTED};
use crate::pipeline::PipelineError;
use crate::pipeline::state::StateLog;
use crate::store::{Coupling, Store, StoreError};

/// The checkpoint's name.
pub fn checkpoint_name(mapping: &str) -> String {
    format!("reconcile/{mapping}")
}

/// One mapping's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Run id.
    pub id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it checked its last coupling (`None`: not finished; the next run resumes it).
    pub finished_at: Option<DateTime<Utc>>,
    /// The sample size (`None`: every coupling).
    pub sample: Option<usize>,
    /// The seed ordering a sample.
    pub seed: u64,
    /// The order key of the last coupling checked.
    pub cursor: Option<String>,
    /// Couplings checked.
    pub checked: u64,
    /// Pages read.
    pub pages: u64,
    /// Pairs outside the table filter.
    pub out_of_filter: u64,
    /// Drift by kind.
    pub counts: DriftCounts,
    /// Drift found (up to [`MAX_LISTED`]).
    pub drift: Vec<Drift>,
    /// What fixes did (up to [`MAX_LISTED`]).
    pub fixes: Vec<FixResult>,
    /// How many times it was started (more than one after a resume).
    pub runs: u32,
}

impl RunState {
    /// A new run.
    pub fn new(sample: Option<usize>) -> RunState {
        RunState {
            id: Uuid::new_v4(),
            started_at: Utc::now(),
            finished_at: None,
            sample,
            seed: rand::random(),
            cursor: None,
            checked: 0,
            pages: 0,
            out_of_filter: 0,
            counts: DriftCounts::default(),
            drift: Vec::new(),
            fixes: Vec::new(),
            runs: 0,
        }
    }

    /// Where `c` stands in this run's order.
    pub fn order_key(&self, c: &Coupling) -> String {
        let id = c.crm_id.to_ascii_lowercase();
        match self.sample {
            None => id,
            Some(_) => {
                let mut h = Sha256::new();
                h.update(self.seed.to_be_bytes());
                h.update(id.as_bytes());
                let digest = h.finalize();
                let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("{hex}/{id}")
            }
        }
    }

    /// The couplings still to check, in order (a sample: the rest of it).
    pub fn remaining(&self, mut all: Vec<Coupling>) -> Vec<Coupling> {
        let mut keyed: Vec<(String, Coupling)> =
            all.drain(..).map(|c| (self.order_key(&c), c)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(n) = self.sample {
            keyed.truncate(n);
        }
        keyed
            .into_iter()
            .filter(|(k, _)| self.cursor.as_ref().is_none_or(|c| k > c))
            .map(|(_, c)| c)
            .collect()
    }

    /// Records drift found, keeping the list bounded.
    pub fn note(&mut self, drift: Vec<Drift>) {
        for d in drift {
            self.counts.add(&d);
            if self.drift.len() < MAX_LISTED {
                self.drift.push(d);
            }
        }
    }

    /// Records fixes, keeping the list bounded.
    pub fn note_fixes(&mut self, fixes: Vec<FixResult>) {
        let room = MAX_LISTED.saturating_sub(self.fixes.len());
        self.fixes.extend(fixes.into_iter().take(room));
    }
}

/// The run of `mapping` in the projection; an entry that does not decode counts as absent.
pub fn load(store: &Store, mapping: &str) -> Result<Option<RunState>, StoreError> {
    let name = checkpoint_name(mapping);
    let Some(v) = store.checkpoint(&name)? else {
        return Ok(None);
    };
    match serde_json::from_value(v) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            tracing::warn!(entry = %name, error = %e, "Unreadable reconcile state; starting afresh.");
            Ok(None)
        }
    }
}

/// Saves the run through the checkpoints changelog.
pub async fn save(state: &StateLog, mapping: &str, run: &RunState) -> Result<(), PipelineError> {
    let mut v = serde_json::to_value(run).map_err(|e| PipelineError::Stage {
        stage: "reconcile".into(),
        reason: format!("cannot encode the reconcile state: {e}"),
    })?;
    stamp(&mut v);
    state.save_checkpoint(&checkpoint_name(mapping), &v).await
}

/// Adds `at` (when it was saved, RFC 3339), as every checkpoint has (`couplet status` shows it).
pub fn stamp(v: &mut serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "at".into(),
            serde_json::Value::String(Utc::now().to_rfc3339()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coupling(crm: &str) -> Coupling {
        Coupling {
            mapping: "CUSTOMER".into(),
            crm_entity: "accounts".into(),
            crm_id: crm.into(),
            erp_entity: "customers".into(),
            erp_id: format!("e-{crm}"),
            crm_modified_on: None,
            erp_modified_on: None,
            crm_etag: None,
            erp_etag: None,
            hash_to_crm: None,
            hash_to_erp: None,
            coupled_at: Utc::now(),
            last_sync_at: None,
            last_direction: None,
            last_result: None,
        }
    }

    #[test]
    fn a_resumed_run_continues_after_its_cursor_and_keeps_its_sample() {
        let all: Vec<Coupling> = (0..20).map(|i| coupling(&format!("c{i:02}"))).collect();
        let mut full = RunState::new(None);
        let order: Vec<String> = full
            .remaining(all.clone())
            .iter()
            .map(|c| c.crm_id.clone())
            .collect();
        assert_eq!(order.first().map(String::as_str), Some("c00"));
        full.cursor = Some(full.order_key(&all[4]));
        let rest = full.remaining(all.clone());
        assert_eq!(rest.len(), 15);
        assert_eq!(rest[0].crm_id, "c05");

        let mut sample = RunState::new(Some(6));
        let first = sample.remaining(all.clone());
        assert_eq!(first.len(), 6);
        sample.cursor = Some(sample.order_key(&first[2]));
        let rest: Vec<String> = sample
            .remaining(all.clone())
            .iter()
            .map(|c| c.crm_id.clone())
            .collect();
        let expected: Vec<String> = first[3..].iter().map(|c| c.crm_id.clone()).collect();
        assert_eq!(rest, expected, "the same sample after the interruption");
        // Another seed samples differently.
        let mut a = RunState::new(Some(6));
        a.seed = 1;
        let mut b = RunState::new(Some(6));
        b.seed = 2;
        let ids = |v: Vec<Coupling>| v.into_iter().map(|c| c.crm_id).collect::<Vec<_>>();
        assert_ne!(ids(a.remaining(all.clone())), ids(b.remaining(all)));
    }
}
