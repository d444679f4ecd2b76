//! Comparing the new mappings' decision on a change with what the log shows it led to.
//!
//! - a write either way: the fields of the logged command against the new command's;
//! - a change the log shows as unchanged (the mapped values equalled the last ones written):
//!   the new command's fields against the record's last logged write, so only what the new
//!   mappings map differently shows;
//! - an echo (Couplet's own write coming back) or a stale change (older than the version
//!   synchronised): decided on the ETag and the modified-on, which no mapping changes, so the
//!   same unless the new mappings would filter, park or fail the record;
//! - otherwise the two decisions: filtered in or out, would park, would fail, no longer fails
//!   or parks, or another decision.

use crate::event::{Fields, OutcomeStatus, WriteCommand};
use crate::transform::Decision;

use super::logged::Logged;
use super::model::{FieldChange, FieldDiff, Verdict};

/// How a change compares, with what the new mappings decide and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    /// The verdict.
    pub verdict: Verdict,
    /// The new decision, e.g. `update`, `filtered`.
    pub would: String,
    /// Why (the new decision's reason, or why not compared).
    pub reason: Option<String>,
    /// The field diff.
    pub fields: Vec<FieldDiff>,
}

/// The fields of `was` and `would` that differ, by field name.
pub fn diff_fields(was: &Fields, would: &Fields) -> Vec<FieldDiff> {
    let mut names: Vec<&String> = was.keys().chain(would.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|f| {
            let (a, b) = (was.get(f), would.get(f));
            let change = match (a, b) {
                (None, Some(_)) => FieldChange::Added,
                (Some(_), None) => FieldChange::Removed,
                (Some(a), Some(b)) if a != b => FieldChange::Changed,
                _ => return None,
            };
            Some(FieldDiff {
                field: f.clone(),
                change,
                was: a.cloned(),
                would_be: b.cloned(),
            })
        })
        .collect()
}

/// The new decision's name and reason.
fn describe(new: &Decision) -> (String, Option<String>) {
    match new {
        Decision::Write(c) => (super::logged::op_name(c.op).to_string(), None),
        Decision::Skip(o) | Decision::Fail(o) | Decision::Park(o, _) | Decision::Restore(o, _) => {
            (o.status.as_str().to_string(), o.reason.clone())
        }
        Decision::RefreshCurrencies => ("currency refresh".into(), None),
    }
}

/// What `status` says of a change the transform decided without a write: filtered (by the
/// table filter, the direction, or `sync_only_coupled`).
fn is_filtered(status: OutcomeStatus) -> bool {
    status == OutcomeStatus::Filtered
}

/// Compares the new decision `new` on a change with `logged`; `baseline` is the record's last
/// logged write before the change (for a change logged as unchanged).
pub fn compare(logged: &Logged, new: &Decision, baseline: Option<&WriteCommand>) -> Compared {
    let (would, reason) = describe(new);
    let verdict = |verdict, fields| Compared {
        verdict,
        would: would.clone(),
        reason: reason.clone(),
        fields,
    };
    let new_status = match new {
        Decision::Skip(o) | Decision::Restore(o, _) => Some(o.status),
        _ => None,
    };
    match (logged, new) {
        (Logged::Pending, _) => Compared {
            verdict: Verdict::NotCompared,
            would,
            reason: Some(
                "the log shows no command or outcome for this change yet (not transformed yet, or past the log's retention)".into(),
            ),
            fields: Vec::new(),
        },
        (_, Decision::Park(..)) if !matches!(logged, Logged::Decided(o) if o.status == OutcomeStatus::Parked) => {
            verdict(Verdict::WouldPark, Vec::new())
        }
        (_, Decision::Fail(_)) if !matches!(logged, Logged::Decided(o) if o.status == OutcomeStatus::Failed) => {
            verdict(Verdict::WouldFail, Vec::new())
        }
        (Logged::Wrote { command, .. }, Decision::Write(c)) => {
            let fields = diff_fields(&command.fields, &c.fields);
            let v = if fields.is_empty() { Verdict::Same } else { Verdict::Changed };
            verdict(v, fields)
        }
        (Logged::Wrote { .. }, _) if new_status.is_some_and(is_filtered) => {
            verdict(Verdict::FilteredOut, Vec::new())
        }
        (Logged::Wrote { .. }, _) => verdict(Verdict::OtherDecision, Vec::new()),
        (Logged::Decided(o), _) => compare_decided(o.status, new, baseline, verdict),
    }
}

/// [`compare`] for a change the transform decided without a write (`was`).
fn compare_decided(
    was: OutcomeStatus,
    new: &Decision,
    baseline: Option<&WriteCommand>,
    verdict: impl Fn(Verdict, Vec<FieldDiff>) -> Compared,
) -> Compared {
    let same_status = match new {
        Decision::Skip(o) | Decision::Restore(o, _) | Decision::Fail(o) | Decision::Park(o, _) => {
            o.status == was
        }
        _ => false,
    };
    if same_status {
        return verdict(Verdict::Same, Vec::new());
    }
    let Decision::Write(c) = new else {
        return match was {
            OutcomeStatus::Failed => verdict(Verdict::NoLongerFails, Vec::new()),
            OutcomeStatus::Parked => verdict(Verdict::NoLongerParks, Vec::new()),
            // Nothing written before, nothing now.
            OutcomeStatus::Unchanged | OutcomeStatus::Echo | OutcomeStatus::Stale => {
                verdict(Verdict::Same, Vec::new())
            }
            _ => verdict(Verdict::OtherDecision, Vec::new()),
        };
    };
    match was {
        OutcomeStatus::Filtered => verdict(Verdict::FilteredIn, diff_fields(&Fields::new(), &c.fields)),
        OutcomeStatus::Failed => verdict(Verdict::NoLongerFails, Vec::new()),
        OutcomeStatus::Parked => verdict(Verdict::NoLongerParks, Vec::new()),
        OutcomeStatus::Echo | OutcomeStatus::Stale => verdict(Verdict::Same, Vec::new()),
        OutcomeStatus::Unchanged => match baseline {
            Some(b) => {
                let fields = diff_fields(&b.fields, &c.fields);
                let v = if fields.is_empty() { Verdict::Same } else { Verdict::Changed };
                verdict(v, fields)
            }
            None => Compared {
                reason: Some(
                    "the log shows it unchanged, and the record's last write is past the log's retention: nothing to compare the new values with".into(),
                ),
                ..verdict(Verdict::NotCompared, Vec::new())
            },
        },
        _ => verdict(Verdict::OtherDecision, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::{ChangeEvent, ChangeOp, Outcome, RecordKey, WriteOp};
    use crate::mapping::Catalogue;
    use crate::store::ParkedEntry;
    use crate::systems::{BC, DATAVERSE};
    use crate::transform::decision::write_command;

    fn fields(pairs: &[(&str, serde_json::Value)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    fn change() -> ChangeEvent {
        ChangeEvent::new(
            "CUSTOMER",
            RecordKey::new(DATAVERSE, "accounts", "a1"),
            ChangeOp::Upsert,
            None,
            None,
            Fields::new(),
        )
    }

    fn command(ev: &ChangeEvent, f: Fields) -> WriteCommand {
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        write_command(
            ev,
            m,
            BC,
            Some("c1".into()),
            WriteOp::Update,
            f,
            String::new(),
        )
    }

    fn outcome(ev: &ChangeEvent, status: OutcomeStatus, reason: &str) -> Outcome {
        Outcome::for_event(ev, BC, "customers", None, status, Some(reason.into()))
    }

    #[test]
    fn field_diffs_name_added_removed_and_changed_fields() {
        let d = diff_fields(
            &fields(&[("a", json!(1)), ("b", json!("x")), ("c", json!(true))]),
            &fields(&[("a", json!(1)), ("b", json!("y")), ("d", json!(null))]),
        );
        let named: Vec<(&str, &FieldChange)> =
            d.iter().map(|f| (f.field.as_str(), &f.change)).collect();
        assert_eq!(
            named,
            [
                ("b", &FieldChange::Changed),
                ("c", &FieldChange::Removed),
                ("d", &FieldChange::Added)
            ]
        );
        assert_eq!(d[0].was, Some(json!("x")));
        assert_eq!(d[0].would_be, Some(json!("y")));
        assert_eq!(d[1].would_be, None);
        assert_eq!(d[2].was, None);
    }

    #[test]
    fn a_write_either_way_compares_the_fields() {
        let ev = change();
        let old = command(&ev, fields(&[("displayName", json!("Contoso"))]));
        let logged = Logged::Wrote {
            command: old.clone(),
            applied: None,
        };
        let same = compare(&logged, &Decision::Write(old.clone()), None);
        assert_eq!(same.verdict, Verdict::Same);
        let new = command(&ev, fields(&[("displayName", json!("CONTOSO"))]));
        let c = compare(&logged, &Decision::Write(new), None);
        assert_eq!(c.verdict, Verdict::Changed);
        assert_eq!(c.would, "update");
        assert_eq!(c.fields.len(), 1);
        assert_eq!(c.fields[0].field, "displayName");
    }

    #[test]
    fn filters_parks_and_failures_are_named() {
        let ev = change();
        let wrote = Logged::Wrote {
            command: command(&ev, Fields::new()),
            applied: None,
        };
        let filtered = Decision::Skip(outcome(&ev, OutcomeStatus::Filtered, "outside"));
        assert_eq!(
            compare(&wrote, &filtered, None).verdict,
            Verdict::FilteredOut
        );
        let was_filtered = Logged::Decided(outcome(&ev, OutcomeStatus::Filtered, "outside"));
        let write = Decision::Write(command(&ev, fields(&[("city", json!("Oslo"))])));
        let c = compare(&was_filtered, &write, None);
        assert_eq!(c.verdict, Verdict::FilteredIn);
        assert_eq!(c.fields[0].change, FieldChange::Added);
        assert_eq!(
            compare(&was_filtered, &filtered, None).verdict,
            Verdict::Same
        );
        let park = Decision::Park(
            outcome(&ev, OutcomeStatus::Parked, "waits for X"),
            ParkedEntry {
                waiting_for: "X".into(),
                record: ev.source.to_string(),
                mapping: "CUSTOMER".into(),
                reason: "waits for X".into(),
                parked_at: ev.captured_at,
                event: ev.clone(),
            },
        );
        let c = compare(&wrote, &park, None);
        assert_eq!(c.verdict, Verdict::WouldPark);
        assert_eq!(c.reason.as_deref(), Some("waits for X"));
        let fail = Decision::Fail(outcome(&ev, OutcomeStatus::Failed, "bad value"));
        assert_eq!(compare(&wrote, &fail, None).verdict, Verdict::WouldFail);
        let was_failed = Logged::Decided(outcome(&ev, OutcomeStatus::Failed, "bad value"));
        assert_eq!(compare(&was_failed, &fail, None).verdict, Verdict::Same);
        assert_eq!(
            compare(&was_failed, &write, None).verdict,
            Verdict::NoLongerFails
        );
        let was_parked = Logged::Decided(outcome(&ev, OutcomeStatus::Parked, "waits"));
        assert_eq!(
            compare(&was_parked, &write, None).verdict,
            Verdict::NoLongerParks
        );
        assert_eq!(
            compare(&Logged::Pending, &write, None).verdict,
            Verdict::NotCompared
        );
    }

    #[test]
    fn an_unchanged_change_compares_with_the_last_write_and_an_echo_is_the_same() {
        let ev = change();
        let last = command(&ev, fields(&[("displayName", json!("Contoso"))]));
        let unchanged = Logged::Decided(outcome(&ev, OutcomeStatus::Unchanged, "equal"));
        let same = Decision::Write(command(&ev, fields(&[("displayName", json!("Contoso"))])));
        assert_eq!(
            compare(&unchanged, &same, Some(&last)).verdict,
            Verdict::Same
        );
        let more = Decision::Write(command(
            &ev,
            fields(&[("displayName", json!("Contoso")), ("fax", json!("1"))]),
        ));
        let c = compare(&unchanged, &more, Some(&last));
        assert_eq!(c.verdict, Verdict::Changed);
        assert_eq!(c.fields[0].field, "fax");
        assert_eq!(
            compare(&unchanged, &more, None).verdict,
            Verdict::NotCompared
        );
        let echo = Logged::Decided(outcome(&ev, OutcomeStatus::Echo, "own write"));
        assert_eq!(compare(&echo, &more, None).verdict, Verdict::Same);
    }
}
