//! What the console's buttons do, on the running instance's own objects: its projection, its
//! state log and its connection to the log. Each action goes the way the matching command
//! goes (`couplet errors retry`, `couple`, `uncouple`, `sync-now`), so the running stages
//! write what it asks, the audit trail and the metrics record it, and every other instance
//! follows the couplings it changes.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::capture::CaptureStatus;
use crate::event::avro::encode_change;
use crate::event::{ChangeEvent, ChangeOp, Outcome, RecordKey, Side};
use crate::mapping::TableMapping;
use crate::pipeline::EngineParts;
use crate::pipeline::manual_coupling::{Coupled, couple, uncouple};
use crate::pipeline::state::StateLog;
use crate::pipeline::sync_now::{read_change, request, wait_outcomes};
use crate::store::{AuditEntry, ErrorEntry};

use super::error::ConsoleError;

/// How long an action waits for the outcome of what it put on the log before answering
/// "re-driven; see the record's trail".
pub const OUTCOME_WAIT: Duration = Duration::from_secs(15);

/// The running engine, as the console sees it.
#[derive(Clone)]
pub struct Live {
    /// What the engine runs on.
    pub parts: EngineParts,
    /// The engine's state log (same instance id), for couplings.
    pub state: StateLog,
    /// The capture tasks.
    pub captures: Vec<CaptureStatus>,
}

/// Says what an outcome did, in one line.
pub fn describe_outcome(o: &Outcome) -> String {
    let target = o
        .target_key()
        .map(|k| k.to_string())
        .unwrap_or_else(|| format!("{}/{}", o.target_system, o.target_entity));
    format!(
        "{} -> {target}: {}{}",
        o.source,
        o.status.as_str(),
        o.reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )
}

impl Live {
    /// The mapping named `name`.
    pub fn mapping(&self, name: &str) -> Result<Arc<TableMapping>, ConsoleError> {
        self.parts
            .catalogue
            .get(name)
            .cloned()
            .ok_or_else(|| ConsoleError::UnknownMapping(name.to_string()))
    }

    /// Parses `record` as a key of mapping `m` (either side); returns it with its side.
    pub fn record_of(
        &self,
        m: &TableMapping,
        record: &str,
    ) -> Result<(RecordKey, Side), ConsoleError> {
        let bad = |reason: &str| ConsoleError::BadRecord {
            record: record.to_string(),
            mapping: m.name.clone(),
            reason: reason.to_string(),
        };
        let key: RecordKey = record.parse().map_err(|e: String| bad(&e))?;
        for side in [Side::Crm, Side::Erp] {
            if key.system == m.system(side) && key.entity == m.entity(side) {
                return Ok((key, side));
            }
        }
        Err(bad(&format!(
            "the mapping's records are {}/{}/… and {}/{}/…",
            m.system(Side::Crm),
            m.crm_entity,
            m.system(Side::Erp),
            m.erp_entity
        )))
    }

    fn listed_error(&self, mapping: &str, record: &str) -> Result<ErrorEntry, ConsoleError> {
        self.parts
            .store
            .errors()?
            .into_iter()
            .find(|e| e.mapping == mapping && e.record == record)
            .ok_or_else(|| ConsoleError::NotListed {
                record: record.to_string(),
                mapping: mapping.to_string(),
            })
    }

    /// Waits (up to [`OUTCOME_WAIT`]) for the outcome of `ev` and says what happened.
    async fn outcome_of(
        &self,
        ev: &ChangeEvent,
        since: chrono::DateTime<chrono::Utc>,
        what: &str,
    ) -> Result<(bool, String), ConsoleError> {
        let p = &self.parts;
        let ids: HashSet<uuid::Uuid> = [ev.correlation_id].into();
        let found = wait_outcomes(&p.bus, &p.topics, &ids, since, OUTCOME_WAIT).await?;
        Ok(match found.get(&ev.correlation_id) {
            Some(o) => (
                o.status != crate::event::OutcomeStatus::Failed,
                format!("{what} {}", describe_outcome(o)),
            ),
            None => (
                true,
                format!(
                    "{what} {}: no outcome within {} s yet; the record's trail shows what happens to it",
                    ev.source,
                    OUTCOME_WAIT.as_secs()
                ),
            ),
        })
    }

    /// Retry: reads the failed record again and puts it on the changes topic (as
    /// `couplet errors retry` does), clears its entry, and waits for its outcome. `(true,
    /// …)` when it was written (or is still on its way), `(false, …)` when it failed again.
    #[tracing::instrument(skip(self), fields(action = "retry"))]
    pub async fn retry(&self, mapping: &str, record: &str) -> Result<(bool, String), ConsoleError> {
        let e = self.listed_error(mapping, record)?;
        let m = self.mapping(mapping)?;
        let (key, _) = self.record_of(&m, record)?;
        let p = &self.parts;
        let mut ev = read_change(p.targets.get(key.system), mapping, &key)
            .await?
            .unwrap_or_else(|| {
                ChangeEvent::new(
                    mapping.to_string(),
                    key.clone(),
                    ChangeOp::Delete,
                    None,
                    None,
                    Default::default(),
                )
            });
        ev.redrive = e.attempts as i32;
        let since = chrono::Utc::now() - chrono::Duration::seconds(5);
        let bytes = encode_change(&ev).map_err(|e| crate::pipeline::PipelineError::Stage {
            stage: "console".into(),
            reason: e.to_string(),
        })?;
        p.bus
            .produce(
                &p.topics.changes,
                &key.to_string(),
                Some(&bytes),
                &[("couplet-retry".into(), "console".into())],
            )
            .await
            .map_err(crate::pipeline::PipelineError::from)?;
        p.store.clear_error(mapping, record)?;
        tracing::info!(%mapping, record = %key, attempts = e.attempts, "Re-driven from the console.");
        self.outcome_of(&ev, since, "Retried:").await
    }

    /// Skip: takes the record off the errors list without synchronising it, and notes that
    /// on its audit trail. The skip is this instance's own (the errors list is not on the
    /// log); the record's next change is synchronised as usual.
    #[tracing::instrument(skip(self), fields(action = "skip"))]
    pub fn skip(&self, mapping: &str, record: &str) -> Result<String, ConsoleError> {
        let e = self.listed_error(mapping, record)?;
        let store = &self.parts.store;
        store.clear_error(mapping, record)?;
        let now = chrono::Utc::now();
        store.append_audit(
            record,
            &AuditEntry {
                at: now,
                kind: "console".into(),
                topic: "console".into(),
                partition: 0,
                offset: now.timestamp_millis().max(0) as u64,
                mapping: mapping.to_string(),
                correlation_id: String::new(),
                summary: format!(
                    "skipped in the console after {} attempt(s): {}",
                    e.attempts, e.reason
                ),
            },
        )?;
        tracing::info!(%mapping, %record, "Error skipped from the console.");
        Ok(format!(
            "Skipped {record} in {mapping}: off the errors list; its next change is synchronised as usual."
        ))
    }

    /// Couple: couples two existing records (as `couplet couple --crm-id --erp-id`).
    #[tracing::instrument(skip(self), fields(action = "couple"))]
    pub async fn couple(
        &self,
        mapping: &str,
        crm_id: &str,
        erp_id: &str,
    ) -> Result<String, ConsoleError> {
        let m = self.mapping(mapping)?;
        let p = &self.parts;
        for (side, id) in [(Side::Crm, crm_id), (Side::Erp, erp_id)] {
            let key = RecordKey::new(m.system(side), m.entity(side).to_string(), id);
            if id.trim().is_empty()
                || p.targets
                    .get(m.system(side))
                    .get(m.entity(side), id)
                    .await?
                    .is_none()
            {
                return Err(ConsoleError::Missing(key.to_string()));
            }
        }
        let crm = RecordKey::new(m.system(Side::Crm), m.crm_entity.clone(), crm_id);
        let erp = RecordKey::new(m.system(Side::Erp), m.erp_entity.clone(), erp_id);
        let how = "coupled by hand (operator console)";
        Ok(
            match couple(&self.state, &p.bus, &p.topics, &m, crm_id, erp_id, how).await? {
                Coupled::New(_) => format!(
                    "Coupled {erp} <-> {crm} in {mapping}. Nothing was written; Sync Now writes one to the other."
                ),
                Coupled::Already(_) => {
                    format!("{erp} and {crm} were already coupled in {mapping}.")
                }
            },
        )
    }

    /// Uncouple: removes the coupling of `record` (both records are kept).
    #[tracing::instrument(skip(self), fields(action = "uncouple"))]
    pub async fn uncouple(&self, mapping: &str, record: &str) -> Result<String, ConsoleError> {
        let m = self.mapping(mapping)?;
        let (key, side) = self.record_of(&m, record)?;
        let p = &self.parts;
        let Some(c) = p.store.coupling(&m.name, side, &key.id)? else {
            return Err(ConsoleError::NotCoupled(key.to_string()));
        };
        uncouple(
            &self.state,
            &p.bus,
            &p.topics,
            m.pair,
            &c,
            "uncoupled by hand (operator console); both records kept",
        )
        .await?;
        Ok(format!(
            "Uncoupled {} <-> {} in {mapping}; both records are kept.",
            c.key(m.pair, Side::Erp),
            c.key(m.pair, Side::Crm)
        ))
    }

    /// Sync Now: reads `record` fresh and puts it on the changes topic as forced (as
    /// `couplet sync-now` does), so it is written to the other side whatever was synchronised
    /// before; waits for the outcome.
    #[tracing::instrument(skip(self), fields(action = "sync_now"))]
    pub async fn sync_now(
        &self,
        mapping: &str,
        record: &str,
    ) -> Result<(bool, String), ConsoleError> {
        let m = self.mapping(mapping)?;
        let (key, _) = self.record_of(&m, record)?;
        if !m.direction.allows_from(key.system) {
            return Err(ConsoleError::WrongDirection {
                mapping: m.name.clone(),
                direction: m.direction.as_str().to_string(),
                from: key.system.to_string(),
            });
        }
        let p = &self.parts;
        let Some(ev) = read_change(p.targets.get(key.system), mapping, &key).await? else {
            return Err(ConsoleError::Missing(key.to_string()));
        };
        let since = chrono::Utc::now() - chrono::Duration::seconds(5);
        request(&p.bus, &p.topics, &ev).await?;
        tracing::info!(%mapping, record = %key, "Sync Now from the console.");
        self.outcome_of(&ev, since, "Synchronised:").await
    }
}
