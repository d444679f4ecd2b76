//! `--fix crm|erp|newer`: each pair whose mapped values differ goes onto the changes topic as
//! a forced change of the winning side's record (marked `couplet-force: reconcile`), so the
//! transform and apply stages write it as they write `couplet sync-now`'s: counted in the
//! stage metrics, in the audit trail, idempotent. Missing records and uncoupled twins are
//! reported, not fixed: which record is right is a person's decision (`couplet uncouple`,
//! `couplet couple`, a deletion).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::config::FixSide;
use super::metrics::drift_metrics;
use super::read::PairRead;
use super::report::{Drift, FieldDrift, FixResult};
use crate::bus::{Bus, Topics};
use crate::capture::emit::upsert_event;
use crate::event::{ChangeEvent, RecordKey, Side};
use crate::mapping::TableMapping;
use crate::pipeline::PipelineError;
use crate::pipeline::sync_now::{request_as, wait_outcomes};

/// The force header's value on reconciliation fixes.
pub const ORIGIN: &str = "reconcile";

/// The forced changes a fix puts on the log, and the pairs it leaves (with why).
#[derive(Debug, Default)]
pub struct FixPlan {
    /// `(event, crm id, erp id, winning side)`.
    pub changes: Vec<(ChangeEvent, String, String, Side)>,
    /// Pairs not fixed.
    pub skipped: Vec<FixResult>,
}

fn event(m: &TableMapping, side: Side, p: &PairRead) -> Option<ChangeEvent> {
    let rec = p.record(side)?.clone();
    let key = RecordKey::new(
        m.system(side),
        m.entity(side).to_string(),
        p.coupling.id_on(side).to_string(),
    );
    Some(upsert_event(&m.name, key, rec))
}

/// True when the mapping carries field `f` from `winner`'s side to the other.
fn carried(m: &TableMapping, f: &FieldDrift, winner: Side) -> bool {
    if f.field == "(mapping)" {
        return true;
    }
    m.fields.iter().any(|fm| {
        fm.enabled
            && fm.direction.allows_from(winner)
            && match f.side {
                Side::Erp => fm.erp == f.field,
                Side::Crm => fm.crm.columns().contains(&f.field.as_str()),
            }
    })
}

/// Plans the fix of the differing pairs among `drift`, `side` winning.
pub fn plan(m: &TableMapping, side: FixSide, pairs: &[PairRead], drift: &[Drift]) -> FixPlan {
    let mut out = FixPlan::default();
    let by_ids: HashMap<(&str, &str), &PairRead> = pairs
        .iter()
        .map(|p| ((p.coupling.crm_id.as_str(), p.coupling.erp_id.as_str()), p))
        .collect();
    for d in drift {
        let Drift::Differs {
            crm_id,
            erp_id,
            fields,
        } = d
        else {
            continue;
        };
        let skip = |why: String| FixResult {
            crm_id: crm_id.clone(),
            erp_id: erp_id.clone(),
            from: None,
            result: format!("not fixed: {why}"),
            settled: false,
        };
        let Some(p) = by_ids.get(&(crm_id.as_str(), erp_id.as_str())) else {
            continue;
        };
        let (Some(crm), Some(erp)) = (event(m, Side::Crm, p), event(m, Side::Erp, p)) else {
            continue;
        };
        let winner = match side {
            FixSide::Crm => Side::Crm,
            FixSide::Erp => Side::Erp,
            FixSide::Newer => match (crm.modified_on, erp.modified_on) {
                (Some(c), Some(e)) if c > e => Side::Crm,
                (Some(c), Some(e)) if e > c => Side::Erp,
                _ => {
                    out.skipped.push(skip(
                        "the two records' modified-on are equal or unknown; fix it with --fix crm or --fix erp".into(),
                    ));
                    continue;
                }
            },
        };
        if !m.direction.allows_from(winner) {
            out.skipped.push(skip(format!(
                "mapping {} runs {}: it never writes from the {winner}",
                m.name,
                m.direction.as_str()
            )));
            continue;
        }
        let left: Vec<&str> = fields
            .iter()
            .filter(|f| !carried(m, f, winner))
            .map(|f| f.field.as_str())
            .collect();
        if left.len() == fields.len() {
            out.skipped.push(skip(format!(
                "the mapping does not carry {} from the {winner}; fix it from the {}",
                left.join(", "),
                winner.other()
            )));
            continue;
        }
        let ev = if winner == Side::Crm { crm } else { erp };
        out.changes
            .push((ev, crm_id.clone(), erp_id.clone(), winner));
    }
    out
}

/// Puts the plan's changes on the changes topic as forced changes and waits (up to
/// `timeout`) for their outcomes; a running engine or the command's own stages write them.
pub async fn apply(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    mapping: &str,
    plan: FixPlan,
    timeout: Duration,
) -> Result<Vec<FixResult>, PipelineError> {
    let metrics = drift_metrics();
    metrics
        .fixes
        .with_label_values(&[mapping, "skipped"])
        .inc_by(plan.skipped.len() as u64);
    let mut results = plan.skipped;
    if plan.changes.is_empty() {
        return Ok(results);
    }
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let ids: HashSet<uuid::Uuid> = plan.changes.iter().map(|c| c.0.correlation_id).collect();
    for (ev, ..) in &plan.changes {
        request_as(bus, topics, ev, ORIGIN).await?;
        tracing::info!(record = %ev.source, mapping, "Drifted pair put on the changes topic as a forced change.");
    }
    metrics
        .fixes
        .with_label_values(&[mapping, "forced"])
        .inc_by(plan.changes.len() as u64);
    let outcomes = wait_outcomes(bus, topics, &ids, since, timeout).await?;
    for (ev, crm_id, erp_id, side) in plan.changes {
        let o = outcomes.get(&ev.correlation_id);
        let settled = o.is_some_and(|o| {
            o.status.wrote() || o.status == crate::event::OutcomeStatus::Unchanged
        });
        let result = match o {
            Some(o) => format!(
                "{}{}",
                o.status.as_str(),
                o.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            None => format!(
                "on {} as a forced change; no outcome within {} s (`couplet audit {}` shows what happens to it)",
                topics.changes,
                timeout.as_secs(),
                ev.source
            ),
        };
        results.push(FixResult {
            crm_id,
            erp_id,
            from: Some(side),
            result,
            settled,
        });
    }
    Ok(results)
}
