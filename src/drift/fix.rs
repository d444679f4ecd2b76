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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Catalogue;
    use crate::store::Coupling;
    use serde_json::json;

    fn pair(mapping: &str, crm_modified: &str, erp_modified: &str) -> PairRead {
        let obj = |v: serde_json::Value| v.as_object().cloned().unwrap();
        PairRead {
            coupling: Coupling {
                mapping: mapping.into(),
                crm_entity: "accounts".into(),
                crm_id: "c1".into(),
                erp_entity: "customers".into(),
                erp_id: "e1".into(),
                crm_modified_on: None,
                erp_modified_on: None,
                crm_etag: None,
                erp_etag: None,
                hash_to_crm: None,
                hash_to_erp: None,
                coupled_at: chrono::Utc::now(),
                last_sync_at: None,
                last_direction: None,
                last_result: None,
            },
            crm: Some(obj(json!({"accountid": "c1", "modifiedon": crm_modified}))),
            erp: Some(obj(
                json!({"id": "e1", "lastModifiedDateTime": erp_modified}),
            )),
        }
    }

    fn differs(fields: &[(&str, Side)]) -> Vec<Drift> {
        vec![Drift::Differs {
            crm_id: "c1".into(),
            erp_id: "e1".into(),
            fields: fields
                .iter()
                .map(|(f, side)| FieldDrift {
                    field: f.to_string(),
                    side: *side,
                    crm: json!(1),
                    erp: json!(2),
                })
                .collect(),
        }]
    }

    #[test]
    fn the_winner_is_the_chosen_side_or_the_newer_record() {
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        let p = [pair(
            "CUSTOMER",
            "2026-01-02T00:00:00Z",
            "2026-01-01T00:00:00Z",
        )];
        let d = differs(&[("phoneNumber", Side::Erp)]);
        let plan = plan(m, FixSide::Crm, &p, &d);
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(
            plan.changes[0].0.source.to_string(),
            "dataverse/accounts/c1"
        );
        assert_eq!(plan.changes[0].3, Side::Crm);
        let plan = super::plan(m, FixSide::Erp, &p, &d);
        assert_eq!(plan.changes[0].0.source.to_string(), "bc/customers/e1");
        // Newer: the CRM record was modified last.
        let plan = super::plan(m, FixSide::Newer, &p, &d);
        assert_eq!(plan.changes[0].3, Side::Crm);
        // Equal modified-on: left, with the reason.
        let same = [pair(
            "CUSTOMER",
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00Z",
        )];
        let plan = super::plan(m, FixSide::Newer, &same, &d);
        assert!(plan.changes.is_empty());
        assert!(
            plan.skipped[0].result.contains("equal or unknown"),
            "{:?}",
            plan.skipped
        );
    }

    #[test]
    fn a_side_the_mapping_does_not_write_from_is_not_forced() {
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        let p = [pair(
            "CUSTOMER",
            "2026-01-02T00:00:00Z",
            "2026-01-01T00:00:00Z",
        )];
        // creditlimit flows from the ERP only.
        let d = differs(&[("creditlimit", Side::Crm)]);
        let plan = plan(m, FixSide::Crm, &p, &d);
        assert!(plan.changes.is_empty());
        assert!(
            plan.skipped[0]
                .result
                .contains("does not carry creditlimit from the crm"),
            "{:?}",
            plan.skipped
        );
        assert_eq!(super::plan(m, FixSide::Erp, &p, &d).changes.len(), 1);
        // A one-way mapping never writes from its target side.
        let currency = cat.get("CURRENCY").unwrap();
        let plan = super::plan(currency, FixSide::Crm, &p, &d);
        assert!(
            plan.skipped[0].result.contains("never writes from the crm"),
            "{:?}",
            plan.skipped
        );
    }
}
