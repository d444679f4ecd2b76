//! Projecting outcomes into the store. Live stages and `replay --rebuild` both go through
//! [`apply_outcome`], so the projection is always what the log implies.

use chrono::{DateTime, Utc};

use super::coupling::Coupling;
use super::db::{Store, StoreError};
use super::errors_list::ErrorEntry;
use crate::event::{ChangeEvent, Fields, Outcome, OutcomeStatus, System};
use crate::mapping::Catalogue;
use crate::mapping::model::{Lookup, TableMapping};

/// Records the natural keys of a record seen on `system` (its mapping's key field, and every
/// field other mappings' lookups resolve it by), so lookups by number work.
pub fn index_record(
    store: &Store,
    catalogue: &Catalogue,
    m: &TableMapping,
    system: System,
    id: &str,
    fields: &Fields,
) -> Result<(), StoreError> {
    let entity = m.entity(system);
    let mut keys: Vec<&str> = m.key(system).into_iter().collect();
    if !system.is_crm() {
        for other in catalogue.ordered() {
            for f in &other.fields {
                if let Some(Lookup::Coupling {
                    mapping, erp_field, ..
                }) = &f.lookup
                    && *mapping == m.name
                    && !keys.contains(&erp_field.as_str())
                {
                    keys.push(erp_field.as_str());
                }
            }
        }
    }
    // A scoped natural key (per legal entity) is indexed apart from the plain key, which the
    // lookups of other mappings resolve by.
    if let (Some(name), Some(v)) = (m.scoped_key_name(system), m.natural_key_of(system, fields)) {
        store.index_put(system, entity, &name, &v, id)?;
    }
    for k in keys {
        if let Some(v) = fields.get(k).and_then(|v| v.as_str()).map(str::trim)
            && !v.is_empty()
        {
            // Only the natural key is case-insensitive; fields other mappings' lookups
            // resolve by (a salesperson code) are indexed as they are.
            let v = if m.key_case_insensitive && m.key(system) == Some(k) {
                v.to_lowercase()
            } else {
                v.to_string()
            };
            store.index_put(system, entity, k, &v, id)?;
        }
    }
    Ok(())
}

fn later(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn set_side(
    c: &mut Coupling,
    system: System,
    modified: Option<DateTime<Utc>>,
    etag: Option<String>,
) {
    if system.is_crm() {
        c.crm_modified_on = later(c.crm_modified_on, modified);
        if etag.is_some() {
            c.crm_etag = etag;
        }
    } else {
        c.erp_modified_on = later(c.erp_modified_on, modified);
        if etag.is_some() {
            c.erp_etag = etag;
        }
    }
}

/// What an outcome changes in the projection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// A coupling to insert or replace.
    pub put: Option<Coupling>,
    /// A coupling to remove.
    pub remove: Option<Coupling>,
    /// A failure to list.
    pub error: Option<ErrorEntry>,
    /// A (mapping, record) whose listed error is cleared.
    pub clear_error: Option<(String, String)>,
}

/// What a written or coupled outcome tells the coupling about the target side and the hashes.
fn set_hashes(c: &mut Coupling, o: &Outcome) {
    let t = o.target_system;
    if o.status != OutcomeStatus::Coupled {
        set_side(c, t, o.target_modified_on, o.target_etag.clone());
        if t.is_crm() {
            c.hash_to_crm = o.content_hash.clone();
            c.hash_to_erp = o.reverse_hash.clone();
        } else {
            c.hash_to_erp = o.content_hash.clone();
            c.hash_to_crm = o.reverse_hash.clone();
        }
        c.last_direction = Some(crate::transform::decision::direction_to(t).to_string());
    } else if let Some(h) = &o.content_hash {
        // Coupled on a match, the target's values winning: nothing was written, but the
        // source's values as they were (as mapped towards the target) are the baseline a later
        // write to the source is judged against. Without it, the target's own update of the
        // source (its values win) found "changed since the last synchronisation" whenever the
        // source's ETag had moved, and failed as an update conflict (seen in the chaos run on
        // Kafka).
        if t.is_crm() {
            c.hash_to_crm = Some(h.clone());
        } else {
            c.hash_to_erp = Some(h.clone());
        }
    }
}

/// Works out what an outcome changes. `event` is the change to re-drive when the outcome is a
/// failure (kept in the errors list for `couplet errors retry`).
pub fn plan_outcome(
    store: &Store,
    o: &Outcome,
    event: Option<&ChangeEvent>,
) -> Result<Plan, StoreError> {
    let s = o.source.system;
    let t = o.target_system;
    let record = o.source.to_string();
    let mut plan = Plan::default();
    match o.status {
        OutcomeStatus::Created | OutcomeStatus::Updated | OutcomeStatus::Coupled => {
            let Some(target_id) = o.target_id.clone() else {
                return Ok(plan);
            };
            let existing = match store.coupling(&o.mapping, s, &o.source.id)? {
                Some(c) => Some(c),
                None => store.coupling(&o.mapping, t, &target_id)?,
            };
            let (crm_id, erp_id, crm_entity, erp_entity) = if s.is_crm() {
                (
                    o.source.id.clone(),
                    target_id.clone(),
                    o.source.entity.clone(),
                    o.target_entity.clone(),
                )
            } else {
                (
                    target_id.clone(),
                    o.source.id.clone(),
                    o.target_entity.clone(),
                    o.source.entity.clone(),
                )
            };
            if let Some(old) = &existing
                && old.crm_id != crm_id
            {
                plan.remove = Some(old.clone());
            }
            let mut c = existing.unwrap_or_else(|| Coupling {
                mapping: o.mapping.clone(),
                crm_entity: crm_entity.clone(),
                crm_id: crm_id.clone(),
                erp_entity: erp_entity.clone(),
                erp_id: erp_id.clone(),
                crm_modified_on: None,
                erp_modified_on: None,
                crm_etag: None,
                erp_etag: None,
                hash_to_crm: None,
                hash_to_erp: None,
                coupled_at: o.at,
                last_sync_at: None,
                last_direction: None,
                last_result: None,
            });
            c.crm_id = crm_id;
            c.erp_id = erp_id;
            set_side(&mut c, s, o.source_modified_on, o.source_etag.clone());
            set_hashes(&mut c, o);
            c.last_sync_at = Some(o.at);
            c.last_result = Some(o.status.as_str().to_string());
            plan.put = Some(c);
            plan.clear_error = Some((o.mapping.clone(), record));
        }
        OutcomeStatus::Unchanged | OutcomeStatus::Echo => {
            if let Some(mut c) = store.coupling(&o.mapping, s, &o.source.id)? {
                let before = c.clone();
                set_side(&mut c, s, o.source_modified_on, o.source_etag.clone());
                if c != before {
                    plan.put = Some(c);
                }
            }
            plan.clear_error = Some((o.mapping.clone(), record));
        }
        OutcomeStatus::Uncoupled | OutcomeStatus::Deleted => {
            plan.remove = store.coupling(&o.mapping, s, &o.source.id)?;
            plan.clear_error = Some((o.mapping.clone(), record));
        }
        OutcomeStatus::Failed => {
            let e = o.error.clone();
            plan.error = Some(ErrorEntry {
                record,
                mapping: o.mapping.clone(),
                class: e
                    .as_ref()
                    .map(|e| e.class.clone())
                    .unwrap_or_else(|| "unknown".into()),
                actor: e
                    .as_ref()
                    .map(|e| e.actor.clone())
                    .unwrap_or_else(|| "internal".into()),
                field: e.and_then(|e| e.field),
                reason: o.reason.clone().unwrap_or_default(),
                first_at: o.at,
                last_at: o.at,
                attempts: 1,
                event: event.cloned(),
            });
        }
        OutcomeStatus::Stale | OutcomeStatus::Filtered | OutcomeStatus::Parked => {}
    }
    Ok(plan)
}

/// Applies the local-only parts of a plan (the errors list).
pub fn apply_errors(store: &Store, plan: &Plan) -> Result<(), StoreError> {
    if let Some((m, r)) = &plan.clear_error {
        store.clear_error(m, r)?;
    }
    if let Some(e) = &plan.error {
        store.record_error(e)?;
    }
    Ok(())
}
