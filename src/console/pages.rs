//! The overview (each mapping's state, throughput and last run), the errors list (with the
//! record, the field, the message and the diff, and Retry / Skip) and the parked records.

use std::collections::HashMap;

use maud::{Markup, html};

use crate::event::avro::decode_change;
use crate::store::{AuditEntry, ErrorEntry};

use super::actions::Live;
use super::activity::Activity;
use super::layout::{action_form, diff_table, record_link, when};
use super::log_reader::{Position, diff, read_at};

/// The most errors one page lists.
const ERRORS_SHOWN: usize = 200;

/// A mapping's state from its capture tasks: `ok`, `failing` (with the reason), `starting`,
/// or `no capture` (a mapping only the schedule or other records drive).
fn mapping_state(live: &Live, mapping: &str) -> (&'static str, Option<String>) {
    let mine: Vec<_> = live
        .captures
        .iter()
        .filter(|c| c.name().split('/').next() == Some(mapping))
        .collect();
    if mine.is_empty() {
        return ("no capture", None);
    }
    let failing: Vec<String> = mine
        .iter()
        .filter_map(|c| c.last_error().map(|e| format!("{}: {e}", c.name())))
        .collect();
    if !failing.is_empty() {
        return ("failing", Some(failing.join("; ")));
    }
    if mine.iter().all(|c| c.cycles() > 0) {
        ("ok", None)
    } else {
        ("starting", None)
    }
}

/// When each mapping's captures last completed a pass (the newest checkpoint), by mapping.
fn last_passes(live: &Live) -> HashMap<String, chrono::DateTime<chrono::Utc>> {
    let mut out: HashMap<String, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for (name, v) in live.parts.store.checkpoints().unwrap_or_default() {
        let mut parts = name.splitn(3, '/');
        let (Some(kind), Some(mapping)) = (parts.next(), parts.next()) else {
            continue;
        };
        let at = match kind {
            "capture" => crate::capture::emit::parse_time(v.get("at")),
            "schedule" => v
                .get("last_run")
                .and_then(|t| t.as_str())
                .and_then(|t| t.parse().ok()),
            _ => None,
        };
        if let Some(at) = at {
            let e = out.entry(mapping.to_string()).or_insert(at);
            *e = (*e).max(at);
        }
    }
    out
}

/// The overview.
pub fn overview(live: &Live, activity: &Activity, csrf: &str) -> Markup {
    let errors = live.parts.store.errors().unwrap_or_default();
    let parked = live.parts.store.parked().unwrap_or_default();
    let passes = last_passes(live);
    let _ = csrf;
    let totals = super::activity::current_totals();
    html! {
        table #mappings {
            tr {
                th { "mapping" } th { "records" } th { "direction" } th { "state" }
                th.num { "couplings" } th.num { "written" } th.num { "writes/min" }
                th.num { "failed" } th.num { "errors" } th.num { "parked" }
                th { "last capture pass" } th { "last activity" }
            }
            @for map in live.parts.catalogue.ordered() {
                @let (state, why) = mapping_state(live, &map.name);
                @let a = activity.of(&map.name, &totals);
                tr data-mapping=(map.name) {
                    td { strong { (map.name) } }
                    td { code { (map.crm_entity) } " ↔ " code { (map.erp_entity) } }
                    td { (map.direction.as_str()) }
                    td {
                        span class=(format!("state-{}", state.replace(' ', "-"))) { (state) }
                        @if let Some(w) = why { br; span.muted { (w) } }
                    }
                    td.num { (live.parts.store.coupling_count(&map.name).unwrap_or_default()) }
                    td.num { (a.totals.written) }
                    td.num { (format!("{:.1}", a.writes_per_min)) }
                    td.num { (a.totals.failed) }
                    td.num { (errors.iter().filter(|e| e.mapping == map.name).count()) }
                    td.num { (parked.iter().filter(|p| p.mapping == map.name).count()) }
                    td { (when(passes.get(&map.name).copied())) }
                    td { (when(a.last_activity)) }
                }
            }
        }
        p.muted {
            "Written, failed and writes/min count since this process started; the couplings, errors and parked records are the projection's."
        }
        h2 { "Capture tasks" }
        table #captures {
            tr { th { "task" } th.num { "passes" } th.num { "events" } th.num { "full reads" } th { "last error" } }
            @for c in &live.captures {
                tr {
                    td { code { (c.name()) } }
                    td.num { (c.cycles()) }
                    td.num { (c.events()) }
                    td.num { (c.full_reads()) }
                    td { (c.last_error().unwrap_or_default()) }
                }
            }
        }
    }
}

/// The change before the failing one on `trail`, if any.
fn previous_change<'a>(trail: &'a [AuditEntry], e: &ErrorEntry) -> Option<&'a AuditEntry> {
    let ev = e.event.as_ref()?;
    let changes: Vec<&AuditEntry> = trail.iter().filter(|a| a.kind == "change").collect();
    let cid = ev.correlation_id.to_string();
    let at = changes.iter().rposition(|a| a.correlation_id == cid)?;
    at.checked_sub(1).map(|i| changes[i])
}

/// Each error's field diff: the failing change's fields against the record's previous change
/// on the log (everything is new when there is none).
async fn error_diffs(live: &Live, errors: &[ErrorEntry]) -> Vec<Option<Markup>> {
    let store = &live.parts.store;
    let prev: Vec<Option<Position>> = errors
        .iter()
        .map(|e| {
            let trail = store.audit(&e.record).unwrap_or_default();
            previous_change(&trail, e).map(|a| Position {
                topic: a.topic.clone(),
                partition: a.partition,
                offset: a.offset,
            })
        })
        .collect();
    let wanted: Vec<Position> = prev.iter().flatten().cloned().collect();
    let read = read_at(&live.parts.bus, &live.parts.topics, &wanted).await;
    errors
        .iter()
        .zip(prev)
        .map(|(e, p)| {
            let ev = e.event.as_ref()?;
            let before = p
                .and_then(|p| read.get(&p))
                .and_then(|m| decode_change(m.bytes()).ok())
                .map(|c| c.fields);
            Some(diff_table(
                &diff(before.as_ref(), &ev.fields),
                e.field.as_deref(),
            ))
        })
        .collect()
}

/// The Retry and Skip buttons of one error; `back` is the page to return to.
pub fn error_buttons(e: &ErrorEntry, csrf: &str, back: &str) -> Markup {
    let hidden = [
        ("mapping", e.mapping.as_str()),
        ("record", e.record.as_str()),
        ("back", back),
    ];
    html! {
        (action_form("/console/errors/retry", csrf, &hidden, None, html! {
            button.primary type="submit" name="do" value="retry" { "Retry" }
        }))
        " "
        (action_form("/console/errors/skip", csrf, &hidden,
            Some("Take this record off the errors list without synchronising it?"), html! {
            button.danger type="submit" name="do" value="skip" { "Skip" }
        }))
    }
}

/// The errors list.
pub async fn errors(live: &Live, csrf: &str) -> Markup {
    let all = live.parts.store.errors().unwrap_or_default();
    let shown: Vec<ErrorEntry> = all.iter().take(ERRORS_SHOWN).cloned().collect();
    let diffs = error_diffs(live, &shown).await;
    html! {
        @if all.is_empty() {
            p #no-errors { "No errors: every change was written, parked with a reason, or left out by a filter." }
        } @else {
            p.muted {
                "Each failed record with its mapping, the field at fault, the message, and what its failing change changed since the previous one. "
                "Retry reads the record again and synchronises it; Skip takes it off the list."
                @if all.len() > shown.len() { " Showing the oldest " (shown.len()) " of " (all.len()) "." }
            }
            table #errors {
                tr { th { "record" } th { "field" } th { "message" } th { "diff" } th { "" } }
                @for (e, d) in shown.iter().zip(diffs) {
                    tr data-record=(e.record) {
                        td {
                            (record_link(&e.mapping, &e.record)) br;
                            span.muted { (e.mapping) " · " (e.class) " · " (e.actor) " must act" } br;
                            span.muted { (e.attempts) " attempt(s), last " (when(Some(e.last_at))) }
                        }
                        td { @if let Some(f) = &e.field { code { (f) } } @else { span.muted { "—" } } }
                        td.message { (e.reason) }
                        td { @if let Some(d) = d { (d) } @else { span.muted { "no change to re-drive" } } }
                        td { (error_buttons(e, csrf, "/console/errors")) }
                    }
                }
            }
        }
    }
}

/// The parked records.
pub fn parked(live: &Live) -> Markup {
    let parked = live.parts.store.parked().unwrap_or_default();
    html! {
        @if parked.is_empty() {
            p { "Nothing is parked." }
        } @else {
            p.muted { "Changes whose dependency is not coupled yet; each is re-driven when the coupling it waits for appears." }
            table #parked {
                tr { th { "record" } th { "waits for" } th { "why" } th { "parked" } }
                @for p in &parked {
                    tr {
                        td { (record_link(&p.mapping, &p.record)) br; span.muted { (p.mapping) } }
                        td { code { (p.waiting_for) } }
                        td { (p.reason) }
                        td { (when(Some(p.parked_at))) }
                    }
                }
            }
        }
    }
}
