//! The couplings search (by either side's id or natural key) and a record's page: its
//! coupling, its audit trail (every change, command and outcome, each with its field diff)
//! and the Couple, Uncouple and Sync Now buttons.

use std::collections::HashMap;

use maud::{Markup, html};

use crate::event::avro::{decode_change, decode_command};
use crate::event::{Fields, RecordKey, Side};
use crate::mapping::TableMapping;
use crate::store::{AuditEntry, Coupling, StoreError};

use super::actions::Live;
use super::layout::{action_form, diff_table, record_link, when};
use super::log_reader::{Position, diff, read_at};
use super::pages::error_buttons;

/// The most trail entries a record page reads back from the log (the newest).
const TRAIL_SHOWN: usize = 100;

/// A record the search found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Its mapping.
    pub mapping: String,
    /// The record.
    pub key: RecordKey,
    /// Its side in the mapping.
    pub side: Side,
    /// `id` or `natural key`.
    pub by: &'static str,
    /// Its coupling, if coupled.
    pub coupling: Option<Coupling>,
}

/// The natural key of `id` on `side`, when Couplet has seen it.
fn natural_key(live: &Live, m: &TableMapping, side: Side, id: &str) -> Option<String> {
    let field = m.key(side)?;
    live.parts
        .store
        .index_value(m.system(side), m.entity(side), field, id)
        .ok()
        .flatten()
}

/// Finds the records of every mapping (or of `only`) whose id or natural key is `q` (a bare
/// id, a `<system>/<entity>/<id>` key, or a natural key such as a customer number), coupled
/// or not; a record counts when it is coupled or Couplet has seen it (it has a trail).
pub fn search(live: &Live, q: &str, only: Option<&str>) -> Result<Vec<Found>, StoreError> {
    let q = q.trim();
    let store = &live.parts.store;
    let mut out: Vec<Found> = Vec::new();
    if q.is_empty() {
        return Ok(out);
    }
    let as_key: Option<RecordKey> = q.parse().ok().filter(|_| q.contains('/'));
    for m in live.parts.catalogue.ordered() {
        if only.is_some_and(|o| o != m.name) {
            continue;
        }
        for side in [Side::Crm, Side::Erp] {
            let (system, entity) = (m.system(side), m.entity(side));
            let mut ids: Vec<(String, &'static str)> = Vec::new();
            match &as_key {
                Some(k) if k.system == system && k.entity == entity => {
                    ids.push((k.id.clone(), "id"))
                }
                Some(_) => {}
                None => {
                    ids.push((q.to_string(), "id"));
                    if let Some(field) = m.key(side) {
                        let v = if m.key_case_insensitive {
                            q.to_lowercase()
                        } else {
                            q.to_string()
                        };
                        if let Some(id) = store.index_id(system, entity, field, &v)? {
                            ids.push((id, "natural key"));
                        }
                    }
                }
            }
            for (id, by) in ids {
                let key = RecordKey::new(system, entity.to_string(), id.clone());
                if out.iter().any(|f| f.mapping == m.name && f.key == key) {
                    continue;
                }
                let coupling = store.coupling(&m.name, side, &id)?;
                if coupling.is_none() && store.audit(&key.to_string())?.is_empty() {
                    continue;
                }
                out.push(Found {
                    mapping: m.name.clone(),
                    key,
                    side,
                    by,
                    coupling,
                });
            }
        }
    }
    Ok(out)
}

/// The form coupling `key` (on `side`) with a record of the other side, by its id.
fn couple_form(m: &TableMapping, key: &RecordKey, side: Side, csrf: &str) -> Markup {
    let other = side.other();
    let hidden = [
        ("mapping", m.name.as_str()),
        ("record", &key.to_string()),
        ("back", "record"),
    ];
    let label = format!("{} {} id", m.system(other), m.entity(other));
    html! {
        (action_form("/console/couple", csrf, &hidden, None, html! {
            input type="text" name="other" class="wide" placeholder=(label) aria-label=(label) required;
            " "
            button.primary type="submit" name="do" value="couple" { "Couple" }
        }))
    }
}

/// The search page.
pub fn search_page(live: &Live, q: &str, only: Option<&str>, csrf: &str) -> Markup {
    let found = search(live, q, only);
    html! {
        form #search method="get" action="/console/couplings" {
            input type="text" name="q" class="wide" value=(q) placeholder="an id or a natural key (e.g. a customer number), either side" autofocus;
            " "
            select name="mapping" aria-label="mapping" {
                option value="" { "every mapping" }
                @for m in live.parts.catalogue.ordered() {
                    option value=(m.name) selected[only == Some(m.name.as_str())] { (m.name) }
                }
            }
            " "
            button type="submit" { "Search" }
        }
        @match found {
            Err(e) => p.flash.fail { "The projection could not be searched: " (e) }
            Ok(list) if list.is_empty() && !q.trim().is_empty() => {
                p #no-results { "No record of any mapping has that id or natural key in Couplet's state." }
            }
            Ok(list) if !list.is_empty() => {
                table #results {
                    tr { th { "mapping" } th { "record" } th { "found by" } th { "coupled to" } th { "last sync" } th { "" } }
                    @for f in &list {
                        @let m = live.parts.catalogue.get(&f.mapping);
                        tr data-record=(f.key.to_string()) {
                            td { (f.mapping) }
                            td { (record_link(&f.mapping, &f.key.to_string())) }
                            td { (f.by) }
                            @match (&f.coupling, m) {
                                (Some(c), Some(m)) => {
                                    @let other = f.side.other();
                                    @let okey = RecordKey::new(m.system(other), m.entity(other).to_string(), c.id_on(other));
                                    td { (record_link(&f.mapping, &okey.to_string())) }
                                    td { (when(c.last_sync_at)) " " span.muted { (c.last_result.as_deref().unwrap_or("")) } }
                                    td {}
                                }
                                (_, Some(m)) => {
                                    td.muted { "not coupled" }
                                    td { "—" }
                                    td { (couple_form(m, &f.key, f.side, csrf)) }
                                }
                                _ => { td {} td {} td {} }
                            }
                        }
                    }
                }
            }
            Ok(_) => {}
        }
    }
}

/// Reads the trail's changes and commands back from the log and works out each one's diff:
/// a change against the record's previous change, a command against the previous command
/// to the same target.
async fn trail_diffs(live: &Live, trail: &[AuditEntry]) -> HashMap<usize, Markup> {
    let wanted: Vec<Position> = trail
        .iter()
        .filter(|a| a.kind == "change" || a.kind == "command")
        .map(|a| Position {
            topic: a.topic.clone(),
            partition: a.partition,
            offset: a.offset,
        })
        .collect();
    let read = read_at(&live.parts.bus, &live.parts.topics, &wanted).await;
    let mut last: HashMap<String, Fields> = HashMap::new();
    let mut out = HashMap::new();
    for (i, a) in trail.iter().enumerate() {
        let pos = Position {
            topic: a.topic.clone(),
            partition: a.partition,
            offset: a.offset,
        };
        let Some(msg) = read.get(&pos) else {
            continue;
        };
        let (slot, fields) = if a.kind == "change" {
            match decode_change(msg.bytes()) {
                Ok(c) => (format!("change {}", c.source), c.fields),
                Err(_) => continue,
            }
        } else {
            match decode_command(msg.bytes()) {
                Ok(c) => {
                    let target = c
                        .target_key()
                        .map(|k| k.to_string())
                        .unwrap_or_else(|| format!("{}/{}", c.target_system, c.target_entity));
                    (format!("write {target}"), c.fields)
                }
                Err(_) => continue,
            }
        };
        out.insert(i, diff_table(&diff(last.get(&slot), &fields), None));
        last.insert(slot, fields);
    }
    out
}

/// A record's page.
pub async fn record_page(live: &Live, mapping: &str, record: &str, csrf: &str) -> Markup {
    let (m, key, side) = match live
        .mapping(mapping)
        .and_then(|m| live.record_of(&m, record).map(|(k, s)| (m, k, s)))
    {
        Ok(x) => x,
        Err(e) => return html! { p.flash.fail { (e) } },
    };
    let store = &live.parts.store;
    let coupling = store.coupling(&m.name, side, &key.id).ok().flatten();
    let other = side.other();
    let trail = store.audit(&key.to_string()).unwrap_or_default();
    let skip = trail.len().saturating_sub(TRAIL_SHOWN);
    let trail: Vec<AuditEntry> = trail.into_iter().skip(skip).collect();
    let diffs = trail_diffs(live, &trail).await;
    let errors: Vec<_> = store
        .errors()
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.mapping == m.name && e.record == key.to_string())
        .collect();
    let parked: Vec<_> = store
        .parked()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.record == key.to_string())
        .collect();
    let k = key.to_string();
    let hidden = [
        ("mapping", m.name.as_str()),
        ("record", k.as_str()),
        ("back", "record"),
    ];
    html! {
        table #record {
            tr { th { "record" } td { code { (k) } } }
            tr { th { "mapping" } td { (m.name) " (" (m.direction.as_str()) ")" } }
            tr { th { "natural key" } td { (natural_key(live, &m, side, &key.id).unwrap_or_else(|| "—".into())) } }
            @match &coupling {
                Some(c) => {
                    @let okey = RecordKey::new(m.system(other), m.entity(other).to_string(), c.id_on(other));
                    tr { th { "coupled to" } td #coupled-to { (record_link(&m.name, &okey.to_string())) } }
                    tr { th { "coupled" } td { (when(Some(c.coupled_at))) } }
                    tr { th { "last sync" } td { (when(c.last_sync_at)) " " (c.last_direction.as_deref().unwrap_or("")) " " (c.last_result.as_deref().unwrap_or("")) } }
                }
                None => { tr { th { "coupled to" } td #coupled-to { "not coupled" } } }
            }
        }
        p {
            @if m.direction.allows_from(key.system) {
                (action_form("/console/sync-now", csrf, &hidden, None, html! {
                    button.primary type="submit" name="do" value="sync-now" { "Sync Now to " (m.system(other)) }
                }))
                " "
            }
            @if coupling.is_some() {
                (action_form("/console/uncouple", csrf, &hidden,
                    Some("Remove this coupling? Both records are kept."), html! {
                    button.danger type="submit" name="do" value="uncouple" { "Uncouple" }
                }))
            } @else {
                "Couple with: " (couple_form(&m, &key, side, csrf))
            }
        }
        @for e in &errors {
            h2 { "Error" }
            p.flash.fail { @if let Some(f) = &e.field { "Field " code { (f) } ": " } (e.reason) }
            p { (error_buttons(e, csrf, "record")) }
        }
        @for p in &parked {
            h2 { "Parked" }
            p { "Waits for " code { (p.waiting_for) } ": " (p.reason) }
        }
        h2 { "Audit trail" }
        @if trail.is_empty() {
            p.muted { "No event about this record on the log (or it is older than the audit index keeps)." }
        } @else {
            @if skip > 0 { p.muted { "The newest " (trail.len()) " of " (trail.len() + skip) " entries." } }
            table #trail {
                tr { th { "when" } th { "what" } th { "summary" } th { "field diff" } }
                @for (i, a) in trail.iter().enumerate() {
                    tr class=(format!("trail-{}", a.kind)) {
                        td { (when(Some(a.at))) }
                        td { (a.kind) br; span.muted { (a.topic) "@" (a.partition) ":" (a.offset) } }
                        td { (a.summary) }
                        td { @if let Some(d) = diffs.get(&i) { (d) } }
                    }
                }
            }
        }
    }
}
