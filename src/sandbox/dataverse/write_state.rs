//! Dataverse's state rules for sales orders, as the Web API applies them to a `PATCH`: the
//! state changes with `statecode` + `statuscode` (a statuscode must belong to its statecode;
//! without one, the state's default status is set), **only an Active order can be edited**
//! (any other column of a Submitted, Fulfilled or Invoiced order is refused until the order is
//! set Active again, which is what Business Central's integration does before each write), and
//! Canceled is reached only through the `CancelSalesOrder` action.
//!
//! Status reasons (statuscode → statecode): 1 New, 2 Pending → 0 Active; 3 In Progress → 1
//! Submitted; 4 No Money → 2 Canceled; 100001 Complete, 100002 Partial → 3 Fulfilled; 100003
//! Invoiced → 4 Invoiced.

use serde_json::Value;

use super::DvError;
use super::schema::EntityDef;
use crate::event::Fields;
use crate::sandbox::table::Store;

const STATES: &[&str] = &["Active", "Submitted", "Canceled", "Fulfilled", "Invoiced"];

/// The status reasons of each salesorder state; the first is the state's default.
fn statuses(state: i64) -> &'static [i64] {
    match state {
        0 => &[1, 2],
        1 => &[3],
        2 => &[4],
        3 => &[100001, 100002],
        4 => &[100003],
        _ => &[],
    }
}

fn state_name(state: i64) -> &'static str {
    usize::try_from(state)
        .ok()
        .and_then(|i| STATES.get(i))
        .copied()
        .unwrap_or("Unknown")
}

/// Checks an update of `id` with validated `changes` (completing a missing statuscode).
pub(crate) fn check_update(
    store: &Store,
    def: &EntityDef,
    id: &str,
    changes: &mut Fields,
) -> Result<(), DvError> {
    if def.set != "salesorders" {
        return Ok(());
    }
    let current = store
        .table(def.set)
        .and_then(|t| t.get(id))
        .and_then(|r| r.fields.get("statecode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let new_state = changes.get("statecode").and_then(Value::as_i64);
    if let Some(s) = new_state {
        if s == 2 && current != 2 {
            return Err(DvError::validation(
                "This message can not be used to set the state of SalesOrder to Canceled. In order to set state of SalesOrder to Canceled, use the CancelSalesOrderRequest Request message instead.",
            ));
        }
        let allowed = statuses(s);
        if allowed.is_empty() {
            return Err(DvError::validation(format!(
                "{s} is not a valid state code on salesorder with Id {id}."
            )));
        }
        match changes.get("statuscode").and_then(Value::as_i64) {
            Some(st) if !allowed.contains(&st) => {
                return Err(DvError::validation(format!(
                    "{st} is not a valid status code for state code SalesOrderState.{} on salesorder with Id {id}.",
                    state_name(s)
                )));
            }
            Some(_) => {}
            None => {
                changes.insert("statuscode".into(), Value::from(allowed[0]));
            }
        }
    } else if let Some(st) = changes.get("statuscode").and_then(Value::as_i64)
        && !statuses(current).contains(&st)
    {
        return Err(DvError::validation(format!(
            "{st} is not a valid status code for state code SalesOrderState.{} on salesorder with Id {id}.",
            state_name(current)
        )));
    }
    let edits_columns = changes
        .keys()
        .any(|k| k != "statecode" && k != "statuscode");
    if current != 0 && new_state != Some(0) && edits_columns {
        return Err(DvError::validation(format!(
            "Cannot Update a Read-Only Entity: the salesorder with Id {id} is {} (statecode {current}); only an Active order can be edited, set it Active first (statecode 0).",
            state_name(current)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schema_orders::SALESORDER;
    use super::*;
    use serde_json::json;

    fn store_with(state: i64) -> Store {
        let mut s = Store::default();
        let f = json!({"statecode": state, "statuscode": statuses(state)[0]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        s.table_mut("salesorders").put("o1", f, 1);
        s
    }

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn state_rules() {
        let s = store_with(1);
        let mut c = obj(json!({"name": "x"}));
        let e = check_update(&s, &SALESORDER, "o1", &mut c).unwrap_err();
        assert!(e.message.contains("Read-Only"), "{}", e.message);
        let mut c = obj(json!({"statecode": 0, "name": "x"}));
        check_update(&s, &SALESORDER, "o1", &mut c).unwrap();
        assert_eq!(c["statuscode"], json!(1));
        let mut c = obj(json!({"statecode": 3, "statuscode": 3}));
        let e = check_update(&s, &SALESORDER, "o1", &mut c).unwrap_err();
        assert!(
            e.message.contains("SalesOrderState.Fulfilled"),
            "{}",
            e.message
        );
        let mut c = obj(json!({"statecode": 4}));
        check_update(&s, &SALESORDER, "o1", &mut c).unwrap();
        assert_eq!(c["statuscode"], json!(100003));
        let mut c = obj(json!({"statecode": 2}));
        assert!(check_update(&s, &SALESORDER, "o1", &mut c).is_err());
        let a = store_with(0);
        let mut c = obj(json!({"name": "x"}));
        check_update(&a, &SALESORDER, "o1", &mut c).unwrap();
    }
}
