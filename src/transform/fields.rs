//! Field mapping: from a source record's columns to the target's.

use serde_json::Value;

use super::currency::CurrencyTable;
use crate::event::{Fields, Side, System};
use crate::mapping::Catalogue;
use crate::mapping::model::{CrmColumns, FieldMapping, Lookup, TableMapping};
use crate::mapping::value_map;
use crate::store::{Store, StoreError};

/// Why a field could not be mapped.
#[derive(Debug)]
pub enum FieldFailure {
    /// A referenced record is not coupled yet: park until `waiting_for` is coupled.
    Park {
        /// The dependency key (see [`waiting_key`]).
        waiting_for: String,
        /// In words.
        reason: String,
    },
    /// The value cannot be mapped; the record fails.
    Fail {
        /// The source field.
        field: String,
        /// Why, and what to do.
        reason: String,
        /// Low-cardinality class.
        class: &'static str,
    },
    /// The currency table does not know a value: refresh it and try again once.
    UnknownCurrency {
        /// The source field.
        field: String,
        /// The code or id.
        value: String,
    },
    /// The projection failed.
    Store(StoreError),
}

impl From<StoreError> for FieldFailure {
    fn from(e: StoreError) -> Self {
        FieldFailure::Store(e)
    }
}

/// The key a parked record waits for: a coupling of `mapping` for `system`'s record `id`, or
/// (with `field`) for the record whose `field` has that value.
pub fn waiting_key(mapping: &str, system: System, field: Option<&str>, value: &str) -> String {
    match field {
        Some(f) => format!("{mapping}/{system}/{f}={value}"),
        None => format!("{mapping}/{system}/{value}"),
    }
}

/// Normalises a value for `target`, which stores blank text its own way (its record shape's
/// `blank_text`: Business Central "", Dataverse null).
pub fn normalise_for(target: System, v: Value) -> Value {
    target.rules().blank_text.normalise(v)
}

/// The lookup column Dataverse returns for a lookup attribute.
pub fn lookup_column(attr: &str) -> String {
    format!("_{attr}_value")
}

/// Everything a field mapping may consult.
pub struct Context<'a> {
    /// The mappings (for lookups through other mappings' couplings).
    pub catalogue: &'a Catalogue,
    /// Couplings and the natural-key index.
    pub store: &'a Store,
    /// Currencies.
    pub currencies: &'a CurrencyTable,
}

/// Maps the fields of `src` (a record on `source`'s side) to the target's columns.
pub fn map_record(
    m: &TableMapping,
    source: impl Into<Side>,
    src: &Fields,
    cx: &Context<'_>,
) -> Result<Fields, FieldFailure> {
    let source = source.into();
    let target = m.system(source.other());
    let mut out = Fields::new();
    for f in m.fields_from(source) {
        if let Some(c) = &f.constant {
            write_target(&mut out, f, target, c.clone());
            continue;
        }
        let raw = read_source(f, source, src);
        let mut v = raw;
        for r in &f.rules {
            v = r.apply(v).map_err(|e| FieldFailure::Fail {
                field: f.name_on(source),
                reason: format!("{e}; correct the record or the field's rules"),
                class: "rule",
            })?;
        }
        if !f.value_map.is_empty() {
            let mapped = if source.is_crm() {
                value_map::to_erp(&f.value_map, &v)
            } else {
                value_map::to_crm(&f.value_map, &v)
            };
            v = mapped.map_err(|e| FieldFailure::Fail {
                field: f.name_on(source),
                reason: e.to_string(),
                class: "unmapped_value",
            })?;
        }
        let blank = |v: &Value| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty());
        match &f.lookup {
            None if f.not_null && blank(&v) => {}
            None => write_target(&mut out, f, target, v),
            Some(lookup) => match resolve(lookup, f, m.system(source), &v, src, cx) {
                Ok((_, val)) if f.not_null && blank(&val) => {}
                Ok((col, val)) => {
                    out.insert(col, val);
                }
                Err(FieldFailure::Park { .. } | FieldFailure::Fail { .. })
                    if f.clear_on_failed_lookup && f.not_null => {}
                Err(FieldFailure::Park { .. } | FieldFailure::Fail { .. })
                    if f.clear_on_failed_lookup =>
                {
                    write_target(&mut out, f, target, Value::Null);
                }
                Err(e) => return Err(e),
            },
        }
    }
    Ok(out)
}

fn read_source(f: &FieldMapping, source: Side, src: &Fields) -> Value {
    if !source.is_crm() {
        return src.get(&f.erp).cloned().unwrap_or(Value::Null);
    }
    match &f.crm {
        CrmColumns::One(c) if f.lookup.is_some() => {
            src.get(&lookup_column(c)).cloned().unwrap_or(Value::Null)
        }
        CrmColumns::One(c) => src.get(c).cloned().unwrap_or(Value::Null),
        CrmColumns::Many(cols) => {
            let parts: Vec<String> = cols
                .iter()
                .filter_map(|c| src.get(c).and_then(Value::as_str))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            Value::String(parts.join(" "))
        }
        CrmColumns::None => Value::Null,
    }
}

fn write_target(out: &mut Fields, f: &FieldMapping, target: System, v: Value) {
    if !target.is_crm() {
        out.insert(f.erp.clone(), normalise_for(target, v));
        return;
    }
    match &f.crm {
        CrmColumns::One(c) => {
            out.insert(c.clone(), normalise_for(target, v));
        }
        CrmColumns::Many(cols) => {
            // Compose/split: the last word goes to the last column, the rest to the first.
            let text = v.as_str().unwrap_or("").trim().to_string();
            let (head, last) = match text.rsplit_once(' ') {
                Some((h, l)) => (h.trim().to_string(), l.to_string()),
                None => (String::new(), text),
            };
            if let (Some(first), Some(lastcol)) = (cols.first(), cols.last()) {
                out.insert(first.clone(), normalise_for(target, Value::String(head)));
                out.insert(lastcol.clone(), normalise_for(target, Value::String(last)));
            }
        }
        CrmColumns::None => {}
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// Resolves a lookup; returns the target column and value.
fn resolve(
    lookup: &Lookup,
    f: &FieldMapping,
    source: System,
    v: &Value,
    src: &Fields,
    cx: &Context<'_>,
) -> Result<(String, Value), FieldFailure> {
    let field = f.name_on(source.side());
    let crm_col = f
        .crm
        .columns()
        .first()
        .map(|c| c.to_string())
        .unwrap_or_default();
    match lookup {
        Lookup::Currency => resolve_currency(f, source, v, cx, field, &crm_col),
        Lookup::Coupling {
            mapping,
            crm_bind,
            erp_field,
        } => {
            let dep = cx.catalogue.get(mapping).ok_or_else(|| FieldFailure::Fail {
                field: field.clone(),
                reason: format!("the lookup uses mapping {mapping}, which is not running; add it to [sync] mappings"),
                class: "mapping",
            })?;
            let l = CouplingLookup {
                mapping,
                erp_field,
                dep,
                field,
            };
            if source.is_crm() {
                l.crm_to_erp(f, v, src, cx, &crm_col)
            } else {
                l.erp_to_crm(v, cx, crm_bind)
            }
        }
    }
}

/// A currency lookup: a Dataverse transactioncurrency id to a Business Central currency
/// code, or back (an empty code is the local currency).
fn resolve_currency(
    f: &FieldMapping,
    source: System,
    v: &Value,
    cx: &Context<'_>,
    field: String,
    crm_col: &str,
) -> Result<(String, Value), FieldFailure> {
    if source.is_crm() {
        // Business Central writes its local currency as a blank code; F&O names it.
        let local_blank = cx.catalogue.pair().erp.rules().local_currency_blank;
        let id = as_text(v);
        if id.is_empty() {
            let code = if local_blank {
                String::new()
            } else {
                cx.currencies.lcy()
            };
            return Ok((f.erp.clone(), Value::String(code)));
        }
        match cx.currencies.erp_code_for_id(&id, local_blank) {
            Some(code) => Ok((f.erp.clone(), Value::String(code))),
            None => Err(FieldFailure::UnknownCurrency { field, value: id }),
        }
    } else {
        let code = as_text(v);
        match cx.currencies.id_for_erp_code(&code) {
            Some(id) => Ok((
                format!("{crm_col}@odata.bind"),
                Value::String(format!("/transactioncurrencies({id})")),
            )),
            None => Err(FieldFailure::UnknownCurrency {
                field,
                value: if code.is_empty() {
                    cx.currencies.lcy()
                } else {
                    code
                },
            }),
        }
    }
}

/// A lookup through the couplings of another mapping (`dep`), being resolved.
struct CouplingLookup<'a> {
    /// The name of the mapping whose couplings resolve it.
    mapping: &'a str,
    /// The ERP field the lookup's value is (on the ERP side).
    erp_field: &'a str,
    dep: &'a TableMapping,
    /// The field being mapped, named on the source side.
    field: String,
}

impl CouplingLookup<'_> {
    /// From the CRM: the referenced record's coupled ERP record, by its `erp_field` (parked
    /// until the reference is coupled and that value known).
    fn crm_to_erp(
        self,
        f: &FieldMapping,
        v: &Value,
        src: &Fields,
        cx: &Context<'_>,
        crm_col: &str,
    ) -> Result<(String, Value), FieldFailure> {
        let CouplingLookup {
            mapping,
            erp_field,
            dep,
            field,
        } = self;
        let id = as_text(v);
        if id.is_empty() {
            return Ok((f.erp.clone(), Value::String(String::new())));
        }
        let logical = src
            .get(&format!(
                "{}@Microsoft.Dynamics.CRM.lookuplogicalname",
                lookup_column(crm_col)
            ))
            .and_then(Value::as_str);
        let expected = singular(&dep.crm_entity);
        if let Some(l) = logical
            && l != expected
        {
            return Err(FieldFailure::Fail {
                field,
                reason: format!(
                    "refers to a {l}, but only a {expected} can be mapped through {mapping}; point it at a {expected}"
                ),
                class: "lookup",
            });
        }
        let Some(c) = cx.store.coupling(mapping, Side::Crm, &id)? else {
            return Err(FieldFailure::Park {
                waiting_for: waiting_key(mapping, dep.system(Side::Crm), None, &id),
                reason: format!(
                    "{field} refers to {}/{}/{id}, which is not coupled in {mapping} yet",
                    dep.system(Side::Crm),
                    dep.crm_entity
                ),
            });
        };
        match cx
            .store
            .index_value(dep.system(Side::Erp), &dep.erp_entity, erp_field, &c.erp_id)?
        {
            Some(value) => Ok((f.erp.clone(), Value::String(value))),
            None => Err(FieldFailure::Park {
                waiting_for: waiting_key(mapping, dep.system(Side::Erp), None, &c.erp_id),
                reason: format!(
                    "{field}: the {erp_field} of coupled {}/{}/{} is not known yet",
                    dep.system(Side::Erp),
                    dep.erp_entity,
                    c.erp_id
                ),
            }),
        }
    }

    /// From the ERP: the record whose `erp_field` is the value, through its coupling, bound
    /// as `crm_bind` (parked until that record is seen and coupled).
    fn erp_to_crm(
        self,
        v: &Value,
        cx: &Context<'_>,
        crm_bind: &str,
    ) -> Result<(String, Value), FieldFailure> {
        let CouplingLookup {
            mapping,
            erp_field,
            dep,
            field,
        } = self;
        let value = as_text(v);
        if value.is_empty() {
            return Ok((format!("{crm_bind}@odata.bind"), Value::Null));
        }
        let waiting = waiting_key(mapping, dep.system(Side::Erp), Some(erp_field), &value);
        let Some(erp_id) =
            cx.store
                .index_id(dep.system(Side::Erp), &dep.erp_entity, erp_field, &value)?
        else {
            return Err(FieldFailure::Park {
                waiting_for: waiting,
                reason: format!(
                    "{field} '{value}': no {} with {erp_field} '{value}' has been seen yet",
                    dep.erp_entity
                ),
            });
        };
        match cx.store.coupling(mapping, Side::Erp, &erp_id)? {
            Some(c) => Ok((
                format!("{crm_bind}@odata.bind"),
                Value::String(format!("/{}({})", dep.crm_entity, c.crm_id)),
            )),
            None => Err(FieldFailure::Park {
                waiting_for: waiting,
                reason: format!(
                    "{field} '{value}': {}/{}/{erp_id} is not coupled in {mapping} yet",
                    dep.system(Side::Erp),
                    dep.erp_entity
                ),
            }),
        }
    }
}

/// `accounts` → `account`, `transactioncurrencies` → `transactioncurrency`.
pub fn singular(set: &str) -> String {
    if let Some(stem) = set.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = set.strip_suffix('s') {
        stem.to_string()
    } else {
        set.to_string()
    }
}

/// Mapped fields as the target would return them when read: Dataverse `x@odata.bind` values
/// become `_x_value` ids, so the result can be mapped back (echo baselines).
pub fn as_read(m: &TableMapping, written: &Fields, target: System) -> Fields {
    if !target.is_crm() {
        return written.clone();
    }
    let mut out = Fields::new();
    for (k, v) in written {
        let Some(bind) = k.strip_suffix("@odata.bind") else {
            out.insert(k.clone(), v.clone());
            continue;
        };
        // Which CRM lookup column does this navigation property write?
        let col = m
            .fields
            .iter()
            .find_map(|f| {
                let crm = f.crm.columns().first().map(|c| c.to_string())?;
                match &f.lookup {
                    Some(Lookup::Coupling { crm_bind, .. }) if crm_bind == bind => Some(crm),
                    Some(Lookup::Currency) if crm == bind => Some(crm),
                    _ => None,
                }
            })
            .unwrap_or_else(|| bind.to_string());
        let id = v
            .as_str()
            .and_then(|s| {
                s.split_once('(')
                    .map(|(_, r)| r.trim_end_matches(')').to_string())
            })
            .map(Value::String)
            .unwrap_or(Value::Null);
        out.insert(lookup_column(&col), id);
    }
    out
}

/// Completes `reverse` (the target record as the write leaves it, in the target's read shape)
/// with the fields that flow only from the target back to the source, e.g. the Business Central
/// customer number and credit limit towards Dataverse. The write does not touch those, so the
/// target keeps its own values, which equal the source's while the pair is in step: they are
/// taken from the source record. Without them the reverse hash never matches the target record,
/// and the echo of every update was written back to the source once more.
pub fn add_reverse_only(
    m: &TableMapping,
    s: System,
    src: &crate::event::Fields,
    reverse: &mut crate::event::Fields,
) {
    let t = m.pair.other(s);
    for f in m.fields_from(t) {
        if f.direction.allows_from(s) || f.constant.is_some() || f.lookup.is_some() {
            continue;
        }
        let CrmColumns::One(crm) = &f.crm else {
            continue;
        };
        if f.erp.is_empty() {
            continue;
        }
        let (from, to) = if s.is_crm() {
            (crm, &f.erp)
        } else {
            (&f.erp, crm)
        };
        if let Some(v) = src.get(from) {
            reverse
                .entry(to.clone())
                .or_insert_with(|| normalise_for(t, v.clone()));
        }
    }
}
