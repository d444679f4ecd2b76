//! The rules Dataverse applies to invoices and their lines, checked before a write:
//! - `statecode` is not valid for create; a create's `statuscode` must be one of state Active.
//! - statecode and statuscode pair as the platform's state model says (e.g. Paid needs
//!   100001 Complete or 100002 Partial); a closed invoice (not Active) can only be set back to
//!   Active, and none of its other columns can change.
//! - A line needs an existing, Active invoice; a write-in line (`isproductoverridden`) needs
//!   `productdescription` and no product; an existing-product line needs `productid` and
//!   `uomid`; `isproductoverridden` is create-only.
//!
//! The messages follow Dataverse's wording where known; the codes are the generic validation
//! code (⚠ sandbox: the real platform uses more specific codes for some of these).

use serde_json::Value;

use super::DvError;
use super::schema::EntityDef;
use crate::event::Fields;
use crate::sandbox::table::Store;

/// The statuscodes valid for each invoice statecode.
pub(crate) fn invoice_statuses(state: i64) -> &'static [i64] {
    match state {
        0 => &[1, 2, 4, 5, 6],
        1 => &[3, 7],
        2 => &[100001, 100002],
        3 => &[100003],
        _ => &[],
    }
}

fn int(f: &Fields, k: &str) -> Option<i64> {
    f.get(k).and_then(Value::as_i64)
}

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn row<'a>(store: &'a Store, set: &str, id: &str) -> Option<&'a Fields> {
    store.table(set)?.get(id).map(|r| &r.fields)
}

fn pair_error(state: i64, status: i64) -> DvError {
    DvError::validation(format!(
        "{status} is not a valid status code for state code InvoiceState.{} on invoice. Valid status codes: {:?}",
        state_name(state),
        invoice_statuses(state)
    ))
}

fn state_name(state: i64) -> &'static str {
    match state {
        0 => "Active",
        1 => "Closed",
        2 => "Paid",
        3 => "Canceled",
        _ => "Unknown",
    }
}

/// Checks a write of `changes` (validated, in stored shape) to `def`; `existing` is the id of
/// the row being updated, `None` for a create.
pub(crate) fn check(
    store: &Store,
    def: &EntityDef,
    existing: Option<&str>,
    changes: &Fields,
) -> Result<(), DvError> {
    match def.set {
        "invoices" => check_invoice(store, existing, changes),
        "invoicedetails" => check_line(store, existing, changes),
        _ => Ok(()),
    }
}

fn check_invoice(store: &Store, existing: Option<&str>, changes: &Fields) -> Result<(), DvError> {
    let current = existing.and_then(|id| row(store, "invoices", id));
    let Some(current) = current else {
        if int(changes, "statecode").is_some_and(|s| s != 0) {
            return Err(DvError::validation(
                "The 'statecode' attribute is not valid for create on the 'invoice' entity: an invoice is created Active; change its state afterwards.",
            ));
        }
        if let Some(status) = int(changes, "statuscode")
            && !invoice_statuses(0).contains(&status)
        {
            return Err(pair_error(0, status));
        }
        return Ok(());
    };
    let state_now = int(current, "statecode").unwrap_or(0);
    let new_state = int(changes, "statecode");
    if state_now != 0 {
        let others: Vec<&String> = changes
            .keys()
            .filter(|k| *k != "statecode" && *k != "statuscode")
            .collect();
        if !others.is_empty() || new_state.is_some_and(|s| s != 0) || new_state.is_none() {
            return Err(DvError::validation(format!(
                "The invoice is {} and cannot be modified; set it back to Active (statecode 0) first.",
                state_name(state_now)
            )));
        }
    }
    let state = new_state.unwrap_or(state_now);
    if let Some(status) = int(changes, "statuscode")
        && !invoice_statuses(state).contains(&status)
    {
        return Err(pair_error(state, status));
    }
    if new_state.is_some() && int(changes, "statuscode").is_none() {
        return Err(DvError::validation(
            "A state change of an invoice needs both statecode and statuscode.",
        ));
    }
    Ok(())
}

fn check_line(store: &Store, existing: Option<&str>, changes: &Fields) -> Result<(), DvError> {
    let current = existing.and_then(|id| row(store, "invoicedetails", id));
    if current.is_some() && changes.contains_key("isproductoverridden") {
        return Err(DvError::validation(
            "The 'isproductoverridden' attribute is not valid for update on the 'invoicedetail' entity.",
        ));
    }
    let merged = |k: &str| -> Option<Value> {
        changes
            .get(k)
            .or_else(|| current.and_then(|c| c.get(k)))
            .cloned()
    };
    let invoice = merged("_invoiceid_value")
        .and_then(|v| v.as_str().map(str::to_string))
        .filter(|s| !s.is_empty());
    let Some(invoice) = invoice else {
        return Err(DvError::validation(
            "The attribute 'invoiceid' is required on an invoice product (invoicedetail).",
        ));
    };
    let Some(inv) = row(store, "invoices", &invoice) else {
        return Err(DvError::validation(format!(
            "invoice With Id = {invoice} Does Not Exist"
        )));
    };
    if int(inv, "statecode").unwrap_or(0) != 0 {
        return Err(DvError::validation(format!(
            "The invoice {} is {}: its products cannot be added or changed.",
            text(inv, "invoicenumber").unwrap_or(&invoice),
            state_name(int(inv, "statecode").unwrap_or(0))
        )));
    }
    let write_in = merged("isproductoverridden")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let has = |k: &str| {
        merged(k)
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if write_in {
        if has("_productid_value") {
            return Err(DvError::validation(
                "A write-in product (isproductoverridden = true) cannot have a productid.",
            ));
        }
        if !has("productdescription") {
            return Err(DvError::validation(
                "The attribute 'productdescription' is required for a write-in product.",
            ));
        }
    } else {
        if !has("_productid_value") {
            return Err(DvError::validation(
                "The attribute 'productid' is required for an existing product; use a write-in product (isproductoverridden = true) otherwise.",
            ));
        }
        if !has("_uomid_value") {
            return Err(DvError::validation(
                "The unit (uomid) is required for an existing product.",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schema_invoices::{INVOICE, INVOICEDETAIL};
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn store_with(state: i64) -> Store {
        let mut s = Store::default();
        s.table_mut("invoices").put(
            "i1",
            obj(json!({"invoiceid":"i1","invoicenumber":"PS-INV1","statecode":state,"statuscode":invoice_statuses(state)[0]})),
            1,
        );
        s
    }

    #[test]
    fn invoice_states() {
        let s = store_with(0);
        assert!(check(&s, &INVOICE, None, &obj(json!({"statecode":2}))).is_err());
        assert!(check(&s, &INVOICE, None, &obj(json!({"statuscode":4}))).is_ok());
        assert!(check(&s, &INVOICE, None, &obj(json!({"statuscode":100001}))).is_err());
        let pay = obj(json!({"statecode":2,"statuscode":100002}));
        assert!(check(&s, &INVOICE, Some("i1"), &pay).is_ok());
        let bad = obj(json!({"statecode":2,"statuscode":4}));
        assert!(check(&s, &INVOICE, Some("i1"), &bad).is_err());
        assert!(check(&s, &INVOICE, Some("i1"), &obj(json!({"statecode":3}))).is_err());
        let paid = store_with(2);
        // A paid invoice: only back to Active.
        assert!(check(&paid, &INVOICE, Some("i1"), &pay).is_err());
        assert!(check(&paid, &INVOICE, Some("i1"), &obj(json!({"name":"x"}))).is_err());
        let back = obj(json!({"statecode":0,"statuscode":4}));
        assert!(check(&paid, &INVOICE, Some("i1"), &back).is_ok());
    }

    #[test]
    fn invoice_lines() {
        let s = store_with(0);
        let write_in = obj(json!({"_invoiceid_value":"i1","isproductoverridden":true}));
        let e = check(&s, &INVOICEDETAIL, None, &write_in).unwrap_err();
        assert!(e.message.contains("productdescription"));
        let ok = obj(
            json!({"_invoiceid_value":"i1","isproductoverridden":true,"productdescription":"6120 Freight"}),
        );
        assert!(check(&s, &INVOICEDETAIL, None, &ok).is_ok());
        let product = obj(json!({"_invoiceid_value":"i1","_productid_value":"p1"}));
        let e = check(&s, &INVOICEDETAIL, None, &product).unwrap_err();
        assert!(e.message.contains("uomid"));
        let closed = store_with(3);
        let e = check(&closed, &INVOICEDETAIL, None, &ok).unwrap_err();
        assert!(e.message.contains("Canceled"), "{}", e.message);
        let none = obj(json!({"isproductoverridden":true,"productdescription":"x"}));
        assert!(check(&s, &INVOICEDETAIL, None, &none).is_err());
    }
}
