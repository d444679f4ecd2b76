//! Scheduled reads: a mapping with a `schedule` is not captured continuously; on its schedule
//! both tables are read in full and a change event is appended for every record modified since
//! the previous run (all records on the first run). The checkpoint `schedule/<mapping>` holds
//! the watermarks and the next run, which `couplet status` shows.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::emit::{emit_all, upsert_event};
use crate::bus::{Bus, Topics};
use crate::event::{RecordKey, Side};
use crate::mapping::model::TableMapping;
use crate::mapping::schedule::Schedule;
use crate::pipeline::PipelineError;
use crate::pipeline::lease::Lease;
use crate::pipeline::state::StateLog;
use crate::systems::{SystemError, Targets};

/// The checkpoint of a scheduled mapping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleCheckpoint {
    /// When the last run started.
    pub last_run: Option<DateTime<Utc>>,
    /// When the next run is due.
    pub next_run: Option<DateTime<Utc>>,
    /// Newest CRM modified-on seen.
    pub crm_watermark: Option<DateTime<Utc>>,
    /// Newest ERP modified-on seen.
    pub erp_watermark: Option<DateTime<Utc>>,
    /// Records appended by the last run.
    pub last_count: u64,
    /// When this checkpoint was saved (RFC 3339), as every checkpoint has.
    pub at: String,
}

/// The checkpoint's name.
pub fn checkpoint_name(mapping: &str) -> String {
    format!("schedule/{mapping}")
}

/// Reads one mapping on its schedule.
pub struct ScheduledRead {
    /// The mapping.
    pub mapping: Arc<TableMapping>,
    /// Its schedule.
    pub schedule: Schedule,
    /// The CRM and the ERP.
    pub targets: Targets,
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// Topic names.
    pub topics: Topics,
    /// Shared state (the checkpoint goes through its changelog).
    pub state: StateLog,
    /// The lease this task needs (one instance runs it).
    pub lease: Lease,
}

impl ScheduledRead {
    fn load(&self) -> Result<ScheduleCheckpoint, PipelineError> {
        Ok(self
            .state
            .store()
            .checkpoint(&checkpoint_name(&self.mapping.name))?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default())
    }

    async fn save(&self, ck: &mut ScheduleCheckpoint) -> Result<(), PipelineError> {
        ck.at = Utc::now().to_rfc3339();
        let v = serde_json::to_value(&*ck).map_err(|e| PipelineError::Stage {
            stage: "schedule".into(),
            reason: e.to_string(),
        })?;
        self.state
            .save_checkpoint(&checkpoint_name(&self.mapping.name), &v)
            .await
    }

    fn next(&self, after: DateTime<Utc>) -> Result<DateTime<Utc>, PipelineError> {
        self.schedule.next_after(after).map_err(|e| {
            PipelineError::Setup(format!("mapping {}: schedule: {e}", self.mapping.name))
        })
    }

    /// Runs until `shutdown`: the first run at once when the mapping was never read, then on
    /// the schedule.
    pub async fn run(
        self,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        loop {
            let mut ck = self.load()?;
            let due = match (ck.next_run, ck.last_run) {
                (Some(n), _) => n,
                (None, Some(l)) => self.next(l)?,
                (None, None) => Utc::now(),
            };
            if ck.next_run != Some(due) {
                ck.next_run = Some(due);
                self.save(&mut ck).await?;
            }
            let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                _ = tokio::time::sleep(wait.min(Duration::from_secs(1))) => {}
            }
            if Utc::now() < due || !self.lease.held() {
                continue;
            }
            let started = Utc::now();
            match self.pass(&mut ck).await? {
                Ok(n) => {
                    ck.last_count = n;
                    tracing::info!(mapping = %self.mapping.name, records = n, "Scheduled read done.");
                }
                Err(e) => {
                    tracing::warn!(mapping = %self.mapping.name, error = %e, "Scheduled read failed; it runs again at the next scheduled time.");
                }
            }
            ck.last_run = Some(started);
            ck.next_run = Some(self.next(started)?);
            self.save(&mut ck).await?;
        }
    }

    async fn pass(
        &self,
        ck: &mut ScheduleCheckpoint,
    ) -> Result<Result<u64, SystemError>, PipelineError> {
        let m = &self.mapping;
        let mut n = 0;
        for system in [m.system(Side::Erp), m.system(Side::Crm)] {
            let entity = m.entity(system).to_string();
            let rows = match self.targets.get(system).connector().read_all(&entity).await {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            let mark = if system.is_crm() {
                &mut ck.crm_watermark
            } else {
                &mut ck.erp_watermark
            };
            let since = *mark;
            let mut events = Vec::new();
            for row in rows {
                let Some(id) = system.record_id(&entity, &row) else {
                    continue;
                };
                let ev = upsert_event(&m.name, RecordKey::new(system, entity.clone(), id), row);
                // At the watermark itself too: a change in the same second is not missed (a
                // version appended twice is skipped as unchanged).
                if let (Some(s), Some(t)) = (since, ev.modified_on)
                    && t < s
                {
                    continue;
                }
                if let Some(t) = ev.modified_on {
                    *mark = Some(mark.map_or(t, |w| w.max(t)));
                }
                events.push(ev);
            }
            n += events.len() as u64;
            emit_all(&self.bus, &self.topics, events).await?;
        }
        Ok(Ok(n))
    }
}
