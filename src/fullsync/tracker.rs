//! Following the outcomes topic: which of a job's records have an outcome yet, and which.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::Mutex;
use uuid::Uuid;

use super::state::Counts;
use crate::event::Outcome;

#[derive(Debug, Default)]
struct Run {
    pending: HashSet<String>,
    counts: Counts,
    created: Vec<String>,
}

/// The records each full-sync run waits for, and the outcomes seen so far.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    runs: Arc<Mutex<HashMap<Uuid, Run>>>,
}

impl Tracker {
    /// Starts waiting for an outcome of each of `keys` (record keys) under `run`. Register
    /// before emitting, so no outcome can arrive first.
    pub fn register(&self, run: Uuid, keys: impl IntoIterator<Item = String>) {
        let mut runs = self.runs.lock();
        let r = runs.entry(run).or_default();
        r.pending.extend(keys);
    }

    /// Counts `o` if it is the first outcome of a record a run waits for. Later outcomes of
    /// the same record (a parked record re-driven) are not counted again.
    pub fn observe(&self, o: &Outcome) {
        let mut runs = self.runs.lock();
        if let Some(r) = runs.get_mut(&o.correlation_id)
            && r.pending.remove(&o.source.to_string())
        {
            r.counts.add(o.status);
            if o.status == crate::event::OutcomeStatus::Created
                && let Some(id) = &o.target_id
            {
                r.created.push(id.clone());
            }
        }
    }

    /// Records still without an outcome, and the counts so far.
    pub fn progress(&self, run: Uuid) -> (usize, Counts) {
        let runs = self.runs.lock();
        runs.get(&run)
            .map(|r| (r.pending.len(), r.counts))
            .unwrap_or_default()
    }

    /// The ids of the records `run` created on the target.
    pub fn created(&self, run: Uuid) -> Vec<String> {
        let runs = self.runs.lock();
        runs.get(&run)
            .map(|r| r.created.clone())
            .unwrap_or_default()
    }

    /// Stops following `run`.
    pub fn forget(&self, run: Uuid) {
        self.runs.lock().remove(&run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ChangeEvent, ChangeOp, OutcomeStatus, RecordKey};

    #[test]
    fn counts_the_first_outcome_of_each_registered_record() {
        let t = Tracker::default();
        let run = Uuid::new_v4();
        let key = RecordKey::new(crate::systems::BC, "customers", "c1");
        let mut ev = ChangeEvent::new(
            "CUSTOMER",
            key.clone(),
            ChangeOp::Upsert,
            None,
            None,
            Default::default(),
        );
        ev.correlation_id = run;
        t.register(run, [key.to_string()]);
        assert_eq!(t.progress(run).0, 1);
        let parked = Outcome::for_event(
            &ev,
            crate::systems::DATAVERSE,
            "accounts",
            None,
            OutcomeStatus::Parked,
            None,
        );
        t.observe(&parked);
        let created = Outcome::for_event(
            &ev,
            crate::systems::DATAVERSE,
            "accounts",
            None,
            OutcomeStatus::Created,
            None,
        );
        t.observe(&created);
        let (pending, counts) = t.progress(run);
        assert_eq!((pending, counts.parked, counts.inserted), (0, 1, 0));
        // Outcomes of other runs are ignored.
        ev.correlation_id = Uuid::new_v4();
        t.observe(&Outcome::for_event(
            &ev,
            crate::systems::DATAVERSE,
            "accounts",
            None,
            OutcomeStatus::Failed,
            None,
        ));
        assert_eq!(t.progress(run).1.failed, 0);
    }
}
