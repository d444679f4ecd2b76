//! Comparing both systems through a mapping: are coupled records equal, is every record
//! coupled, are there duplicates. The demo checks itself with this, and so do the tests.

use std::collections::HashMap;

use serde_json::Value;

use super::fields::{Context, map_record, normalise_for};
use crate::event::{Fields, Side, System};
use crate::mapping::model::{Direction, TableMapping};
use crate::store::{Coupling, StoreError};

/// A coupled pair whose field differs.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    /// CRM id.
    pub crm_id: String,
    /// ERP id.
    pub erp_id: String,
    /// The field (target-side name).
    pub field: String,
    /// What the mapping says the value should be.
    pub expected: Value,
    /// What the system holds.
    pub actual: Value,
    /// The side holding `actual` (the field is named in its terms); `expected` is what the
    /// mapping makes of the other side's record.
    pub side: Side,
}

/// The result of comparing one mapping.
#[derive(Debug, Clone, Default)]
pub struct MappingCheck {
    /// Mapping name.
    pub mapping: String,
    /// CRM records inside the table filter.
    pub crm_records: usize,
    /// ERP records inside the table filter.
    pub erp_records: usize,
    /// Couplings whose both records exist.
    pub coupled: usize,
    /// CRM records (in the filter) without a coupling (only when the mapping carries CRM
    /// records to the ERP).
    pub uncoupled_crm: Vec<String>,
    /// ERP records (in the filter) without a coupling (only when the mapping carries ERP
    /// records to the CRM).
    pub uncoupled_erp: Vec<String>,
    /// Natural-key values held by more than one record on a side.
    pub duplicates: Vec<String>,
    /// Couplings pointing at a missing record.
    pub dangling: Vec<String>,
    /// Field differences.
    pub diffs: Vec<FieldDiff>,
}

impl MappingCheck {
    /// True when everything is coupled, equal and unique.
    pub fn ok(&self) -> bool {
        self.uncoupled_crm.is_empty()
            && self.uncoupled_erp.is_empty()
            && self.duplicates.is_empty()
            && self.dangling.is_empty()
            && self.diffs.is_empty()
    }
}

fn id_of(system: System, entity: &str, row: &Fields) -> Option<String> {
    system
        .record_id(entity, row)
        .map(|s| s.to_ascii_lowercase())
}

fn same(a: &Value, b: &Value) -> bool {
    let blank = |v: &Value| v.is_null() || v.as_str().is_some_and(|s| s.is_empty());
    match (a, b) {
        _ if blank(a) && blank(b) => true,
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap_or(f64::NAN) - y.as_f64().unwrap_or(f64::NAN)).abs() < 1e-6
        }
        _ => a == b,
    }
}

/// Compares `crm_rows` and `erp_rows` (every row of the mapping's two entity sets) through
/// `m` and the couplings in the store.
pub fn compare(
    m: &TableMapping,
    crm_rows: &[Fields],
    erp_rows: &[Fields],
    cx: &Context<'_>,
) -> Result<MappingCheck, StoreError> {
    let mut check = MappingCheck {
        mapping: m.name.clone(),
        ..Default::default()
    };
    let in_filter = |crm: bool, row: &Fields| {
        cx.catalogue
            .filter(&m.name, crm)
            .is_none_or(|f| f.matches(row))
    };
    let crm: HashMap<String, &Fields> = crm_rows
        .iter()
        .filter(|r| in_filter(true, r))
        .filter_map(|r| id_of(m.system(Side::Crm), &m.crm_entity, r).map(|id| (id, r)))
        .collect();
    let erp: HashMap<String, &Fields> = erp_rows
        .iter()
        .filter(|r| in_filter(false, r))
        .filter_map(|r| id_of(m.system(Side::Erp), &m.erp_entity, r).map(|id| (id, r)))
        .collect();
    check.crm_records = crm.len();
    check.erp_records = erp.len();
    check.duplicates = duplicates(m, &crm, &erp);

    let mut coupled_crm = std::collections::HashSet::new();
    let mut coupled_erp = std::collections::HashSet::new();
    for c in cx.store.couplings(Some(&m.name))? {
        let (ci, ei) = (c.crm_id.to_ascii_lowercase(), c.erp_id.to_ascii_lowercase());
        coupled_crm.insert(ci.clone());
        coupled_erp.insert(ei.clone());
        let (Some(cr), Some(er)) = (crm.get(&ci), erp.get(&ei)) else {
            if !(crm_rows
                .iter()
                .any(|r| id_of(m.system(Side::Crm), &m.crm_entity, r).as_deref() == Some(&ci))
                && erp_rows
                    .iter()
                    .any(|r| id_of(m.system(Side::Erp), &m.erp_entity, r).as_deref() == Some(&ei)))
            {
                check
                    .dangling
                    .push(format!("{} <-> {}", c.crm_id, c.erp_id));
            }
            continue;
        };
        check.coupled += 1;
        compare_pair(m, &c, cr, er, cx, &mut check.diffs);
    }
    let mut uc: Vec<String> = crm
        .keys()
        .filter(|id| !coupled_crm.contains(*id))
        .cloned()
        .collect();
    let mut ue: Vec<String> = erp
        .keys()
        .filter(|id| !coupled_erp.contains(*id))
        .cloned()
        .collect();
    // A one-way mapping carries records from one side only: records of the target side that
    // no source record reached (a Dataverse currency Business Central does not have) are not
    // its concern.
    if !m.direction.allows_from(Side::Crm) {
        uc.clear();
    }
    if !m.direction.allows_from(Side::Erp) {
        ue.clear();
    }
    uc.sort();
    ue.sort();
    check.uncoupled_crm = uc;
    check.uncoupled_erp = ue;
    Ok(check)
}

/// The natural-key values held by more than one record on a side.
fn duplicates(
    m: &TableMapping,
    crm: &HashMap<String, &Fields>,
    erp: &HashMap<String, &Fields>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (side, rows) in [(Side::Crm, crm), (Side::Erp, erp)] {
        let system = m.system(side);
        let Some(key) = m.key(side) else { continue };
        let key = m.scoped_key_name(side).unwrap_or_else(|| key.to_string());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for r in rows.values() {
            if let Some(v) = m.natural_key_of(side, r) {
                *seen.entry(v).or_default() += 1;
            }
        }
        for (v, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
            out.push(format!(
                "{n} {system}/{} records have {key} = '{v}'",
                m.entity(side)
            ));
        }
    }
    out
}

/// Adds to `diffs` the fields of coupled pair `c` (records `cr` and `er`) that differ from
/// what the mapping makes of the other side.
pub fn compare_pair(
    m: &TableMapping,
    c: &Coupling,
    cr: &Fields,
    er: &Fields,
    cx: &Context<'_>,
    diffs: &mut Vec<FieldDiff>,
) {
    let mut diff = |field: &str, expected: Value, actual: Value, side: Side| {
        diffs.push(FieldDiff {
            crm_id: c.crm_id.clone(),
            erp_id: c.erp_id.clone(),
            field: field.to_string(),
            expected,
            actual,
            side,
        });
    };
    // Bidirectional and CRM→ERP fields, compared in the ERP's terms.
    match map_record(m, Side::Crm, cr, cx) {
        Ok(expected) => {
            for f in m
                .fields
                .iter()
                .filter(|f| f.enabled && f.constant.is_none() && f.direction != Direction::ToCrm)
            {
                let want = expected.get(&f.erp).cloned().unwrap_or(Value::Null);
                let got = normalise_for(
                    m.system(Side::Erp),
                    er.get(&f.erp).cloned().unwrap_or(Value::Null),
                );
                if !same(&want, &got) {
                    diff(&f.erp, want, got, Side::Erp);
                }
            }
        }
        Err(_) => diff(
            "(mapping)",
            Value::String("mappable".into()),
            Value::String("a lookup does not resolve".into()),
            Side::Erp,
        ),
    }
    // ERP→CRM-only fields (plain columns), compared in the CRM's terms.
    match map_record(m, Side::Erp, er, cx) {
        Ok(expected) => {
            for f in m.fields.iter().filter(|f| {
                f.enabled
                    && f.constant.is_none()
                    && f.lookup.is_none()
                    && f.direction == Direction::ToCrm
            }) {
                for col in f.crm.columns() {
                    let want = expected.get(col).cloned().unwrap_or(Value::Null);
                    let got = normalise_for(
                        m.system(Side::Crm),
                        cr.get(col).cloned().unwrap_or(Value::Null),
                    );
                    if !same(&want, &got) {
                        diff(col, want, got, Side::Crm);
                    }
                }
            }
        }
        Err(_) => diff(
            "(mapping)",
            Value::String("mappable".into()),
            Value::String("a lookup does not resolve".into()),
            Side::Crm,
        ),
    }
}
