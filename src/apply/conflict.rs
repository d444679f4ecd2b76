//! Update conflicts: both records of a pair changed since their last synchronisation, and a
//! bidirectional field would change value (Business Central's rule, reference §4.2 step 5).
//!
//! The apply stage detects them at write time: every update of a bidirectional mapping is
//! conditional on the ETag the coupling recorded for the target at the last synchronisation.
//! When the target answers that the record changed meanwhile, its current version is read and
//! compared here.

use serde_json::Value;

use crate::event::{Fields, System};
use crate::mapping::model::{Direction, TableMapping};
use crate::transform::fields::{Context, as_read, lookup_column, map_record, normalise_for};
use crate::transform::hash::content_hash;

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

/// The target-side names of the bidirectional fields whose value `written` (the command's
/// fields, in the target's write shape) would change on `current` (the target record as read).
pub fn differing_fields(
    m: &TableMapping,
    target: System,
    written: &Fields,
    current: &Fields,
) -> Vec<String> {
    let want = as_read(m, written, target);
    let mut out = Vec::new();
    for f in m
        .fields
        .iter()
        .filter(|f| f.enabled && f.constant.is_none() && f.direction == Direction::Bidirectional)
    {
        let cols: Vec<String> = if target.is_crm() {
            f.crm
                .columns()
                .iter()
                .map(|c| {
                    if f.lookup.is_some() {
                        lookup_column(c)
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            vec![f.erp.clone()]
        };
        for col in cols {
            let Some(w) = want.get(&col) else { continue };
            let w = normalise_for(target, w.clone());
            let c = normalise_for(target, current.get(&col).cloned().unwrap_or(Value::Null));
            if !same(&w, &c) && !out.contains(&col) {
                out.push(col);
            }
        }
    }
    out
}

/// True when `current` (the target record as read now) maps back to something other than what
/// was last synchronised from or to it (`last_hash`, the coupling's hash towards the source):
/// the target's mapped values changed since the last synchronisation. A record that cannot be
/// mapped back (a lookup not coupled) counts as changed.
pub fn target_changed(
    m: &TableMapping,
    target: System,
    current: &Fields,
    last_hash: Option<&str>,
    cx: &Context<'_>,
) -> bool {
    match map_record(m, target, current, cx) {
        Ok(f) => Some(content_hash(&f).as_str()) != last_hash,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::Catalogue;

    fn fields(v: serde_json::Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn only_bidirectional_fields_that_change_are_listed() {
        let cat = Catalogue::defaults().unwrap();
        let m = cat.get("CUSTOMER").unwrap();
        let written = fields(serde_json::json!({
            "displayName": "Adatum", "phoneNumber": "+1 555 0100", "email": "a@x.com"
        }));
        let current = fields(serde_json::json!({
            "displayName": "Adatum", "phoneNumber": "+1 555 0199", "email": "a@x.com",
            "number": "C0001", "creditLimit": 10
        }));
        assert_eq!(
            differing_fields(m, crate::systems::BC, &written, &current),
            vec!["phoneNumber".to_string()]
        );
        let equal = fields(serde_json::json!({
            "displayName": "Adatum", "phoneNumber": "+1 555 0100", "email": "a@x.com"
        }));
        assert!(differing_fields(m, crate::systems::BC, &written, &equal).is_empty());
    }
}
