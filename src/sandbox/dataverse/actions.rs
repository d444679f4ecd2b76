//! The Sales actions a user runs on quotes and opportunities, as the Web API exposes them
//! (unbound actions, `POST /api/data/v9.2/<Action>`):
//! - `ReviseQuote` `{"QuoteId": "<guid>", "ColumnSet": {"AllColumns": true}}`: the Active (or
//!   Won/Closed) quote is closed as Revised (statecode 3, statuscode 7) and a Draft copy with
//!   the same quotenumber, revisionnumber + 1 and copies of its lines is created; the response
//!   is the new quote.
//! - `WinQuote` `{"QuoteClose": {"subject": "…", "quoteid@odata.bind": "/quotes(<guid>)"},
//!   "Status": -1}`: an Active quote becomes Won (statecode 2, statuscode 4; `Status` -1 is
//!   the default status); a `quoteclose` activity is recorded. 204.
//! - `ConvertQuoteToSalesOrder` `{"QuoteId": "<guid>", "ColumnSet": {"AllColumns": true}}`: an
//!   Active quote is won, then (Active or Won) a sales order (Active, statuscode 1 New) is
//!   created with `quoteid`, the quote's opportunity, customer, header values and copies of
//!   its lines; the response is the new order.
//! - `WinOpportunity` `{"OpportunityClose": {"subject": "…", "opportunityid@odata.bind":
//!   "/opportunities(<guid>)", "actualrevenue": 0}, "Status": 3}`: an Open opportunity becomes
//!   Won (statecode 1, statuscode 3); an `opportunityclose` activity is recorded. 204.
//!
//! State errors use the code and wording Dataverse uses for an invalid state transition.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::schema::{self, EntityDef};
use super::schema_orders::{SALESORDER, SALESORDERDETAIL};
use super::schema_quotes::{
    OPPORTUNITYCLOSE, QUOTE, QUOTE_ACTIVE, QUOTE_CLOSED, QUOTE_DRAFT, QUOTE_REVISED, QUOTE_WON,
    QUOTECLOSE, QUOTEDETAIL,
};
use super::write::{self, Stamp};
use super::{DvError, LOGICAL_NAME};
use crate::event::Fields;
use crate::sandbox::table::Store;

/// The names of the actions this file handles.
pub(crate) const ACTIONS: &[&str] = &[
    "ReviseQuote",
    "WinQuote",
    "ConvertQuoteToSalesOrder",
    "WinOpportunity",
];

/// Gives a new quote its autonumber and revision 0 when the body did not.
pub(crate) fn number_quote(store: &Store, id: &str, fields: &mut Fields) {
    if fields
        .get("quotenumber")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        let n = store.table("quotes").map(|t| t.live().len()).unwrap_or(0) + 1001;
        let tail: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(6)
            .collect();
        fields.insert(
            "quotenumber".into(),
            Value::String(format!("QUO-{n:05}-{}", tail.to_ascii_uppercase())),
        );
    }
    if fields.get("revisionnumber").is_none_or(Value::is_null) {
        fields.insert("revisionnumber".into(), json!(0));
    }
}

fn invalid_state(message: String) -> DvError {
    DvError::new(StatusCode::BAD_REQUEST, "0x80040203", message)
}

fn bad_parameter(action: &str, name: &str) -> DvError {
    DvError::new(
        StatusCode::BAD_REQUEST,
        "0x80040203",
        format!("{action}: the parameter '{name}' is missing or not a valid value."),
    )
}

fn row(store: &Store, def: &EntityDef, id: &str) -> Result<Fields, DvError> {
    store
        .table(def.set)
        .and_then(|t| t.get(id))
        .map(|r| r.fields.clone())
        .ok_or_else(|| DvError::not_found(def, id))
}

fn state(f: &Fields) -> i64 {
    f.get("statecode").and_then(Value::as_i64).unwrap_or(-1)
}

fn set_state(store: &mut Store, def: &EntityDef, id: &str, state: i64, status: i64, s: &Stamp) {
    let mut c = Fields::new();
    c.insert("statecode".into(), json!(state));
    c.insert("statuscode".into(), json!(status));
    write::update(store, def, id, c, s);
}

/// The id in a `/set(<guid>)` reference of `nav@odata.bind` in `body`, or a plain GUID
/// parameter `name`.
fn guid_param(body: &Fields, name: &str) -> Option<String> {
    body.get(name)
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .filter(|s| uuid::Uuid::parse_str(s).is_ok())
}

fn bound_id(activity: &Fields, nav: &str) -> Option<String> {
    let text = activity.get(&format!("{nav}@odata.bind"))?.as_str()?;
    let inner = text.rsplit('(').next()?.trim_end_matches(')');
    uuid::Uuid::parse_str(inner)
        .ok()
        .map(|_| inner.to_ascii_lowercase())
}

/// A lookup in stored shape: `_<name>_value` and its logical-name annotation.
fn set_lookup(f: &mut Fields, name: &str, id: &str, logical: &str) {
    let read = format!("_{name}_value");
    f.insert(format!("{read}{LOGICAL_NAME}"), json!(logical));
    f.insert(read, json!(id));
}

/// The stored values of `from` that `to` also has (by read name), without the key, the
/// state and the system columns.
fn copy_columns(from: &Fields, from_def: &EntityDef, to: &EntityDef) -> Fields {
    let skip = [
        from_def.key,
        to.key,
        "statecode",
        "statuscode",
        "createdon",
        "modifiedon",
        "versionnumber",
        "_modifiedby_value",
    ];
    let mut out = Fields::new();
    for c in to.columns {
        let name = c.read_name();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if let Some(v) = from.get(&name) {
            out.insert(name.clone(), v.clone());
            let ann = format!("{name}{LOGICAL_NAME}");
            if let Some(a) = from.get(&ann) {
                out.insert(ann, a.clone());
            }
        }
    }
    out
}

/// The lines of document `doc_id` (lines table `lines`, parent lookup `parent`).
fn lines_of(store: &Store, lines: &EntityDef, parent: &str, doc_id: &str) -> Vec<Fields> {
    let col = format!("_{parent}_value");
    let mut out: Vec<Fields> = store
        .table(lines.set)
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| r.fields.get(&col).and_then(Value::as_str) == Some(doc_id))
                .map(|(_, r)| r.fields.clone())
                .collect()
        })
        .unwrap_or_default();
    out.sort_by_key(|l| l.get("sequencenumber").and_then(Value::as_i64));
    out
}

/// Copies the lines of `from_id` to the new document `to_id`.
#[allow(clippy::too_many_arguments)]
fn copy_lines(
    store: &mut Store,
    from_def: &EntityDef,
    from_parent: &str,
    from_id: &str,
    to_def: &'static EntityDef,
    to_parent: &str,
    to_logical: &str,
    to_id: &str,
    s: &Stamp,
) {
    for line in lines_of(store, from_def, from_parent, from_id) {
        let mut c = copy_columns(&line, from_def, to_def);
        c.remove(&format!("_{from_parent}_value"));
        c.remove(&format!("_{from_parent}_value{LOGICAL_NAME}"));
        set_lookup(&mut c, to_parent, to_id, to_logical);
        let id = uuid::Uuid::new_v4().to_string();
        write::create(store, to_def, &id, c, s);
    }
}

/// `ReviseQuote`: returns the new Draft quote's id.
pub(crate) fn revise_quote(store: &mut Store, quote: &str, s: &Stamp) -> Result<String, DvError> {
    let old = row(store, &QUOTE, quote)?;
    if state(&old) == QUOTE_DRAFT {
        return Err(invalid_state(format!(
            "The quote {quote} cannot be revised because it is a draft; activate it first."
        )));
    }
    let mut c = copy_columns(&old, &QUOTE, &QUOTE);
    let rev = old
        .get("revisionnumber")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    c.insert("revisionnumber".into(), json!(rev + 1));
    set_state(store, &QUOTE, quote, QUOTE_CLOSED, QUOTE_REVISED, s);
    let id = uuid::Uuid::new_v4().to_string();
    write::create(store, &QUOTE, &id, c, s);
    copy_lines(
        store,
        &QUOTEDETAIL,
        "quoteid",
        quote,
        &QUOTEDETAIL,
        "quoteid",
        "quote",
        &id,
        s,
    );
    Ok(id)
}

/// `WinQuote`: an Active quote becomes Won.
pub(crate) fn win_quote(
    store: &mut Store,
    quote: &str,
    subject: &str,
    s: &Stamp,
) -> Result<(), DvError> {
    let q = row(store, &QUOTE, quote)?;
    if state(&q) != QUOTE_ACTIVE {
        return Err(invalid_state(format!(
            "The quote {quote} cannot be won because it is not active (statecode {}).",
            state(&q)
        )));
    }
    set_state(store, &QUOTE, quote, QUOTE_WON, 4, s);
    let mut close = Fields::new();
    close.insert("subject".into(), json!(subject));
    set_lookup(&mut close, "quoteid", quote, "quote");
    close.insert("statecode".into(), json!(1));
    close.insert("statuscode".into(), json!(2));
    write::create(
        store,
        &QUOTECLOSE,
        &uuid::Uuid::new_v4().to_string(),
        close,
        s,
    );
    Ok(())
}

/// `ConvertQuoteToSalesOrder`: returns the new order's id.
pub(crate) fn convert_quote(store: &mut Store, quote: &str, s: &Stamp) -> Result<String, DvError> {
    let q = row(store, &QUOTE, quote)?;
    match state(&q) {
        QUOTE_ACTIVE => win_quote(store, quote, "Quote won (converted to an order)", s)?,
        QUOTE_WON => {}
        st => {
            return Err(invalid_state(format!(
                "The quote {quote} cannot be converted to an order because it is neither active nor won (statecode {st})."
            )));
        }
    }
    let mut c = copy_columns(&q, &QUOTE, &SALESORDER);
    set_lookup(&mut c, "quoteid", quote, "quote");
    let id = uuid::Uuid::new_v4().to_string();
    write::create(store, &SALESORDER, &id, c, s);
    copy_lines(
        store,
        &QUOTEDETAIL,
        "quoteid",
        quote,
        &SALESORDERDETAIL,
        "salesorderid",
        "salesorder",
        &id,
        s,
    );
    Ok(id)
}

/// `WinOpportunity`: an Open opportunity becomes Won.
pub(crate) fn win_opportunity(
    store: &mut Store,
    opportunity: &str,
    close: &Fields,
    s: &Stamp,
) -> Result<(), DvError> {
    let def = schema::entity("opportunities")
        .ok_or_else(|| bad_parameter("WinOpportunity", "OpportunityClose"))?;
    let o = row(store, def, opportunity)?;
    if state(&o) != 0 {
        return Err(invalid_state(format!(
            "The opportunity {opportunity} cannot be won because it is not open (statecode {}).",
            state(&o)
        )));
    }
    set_state(store, def, opportunity, 1, 3, s);
    let mut c = Fields::new();
    c.insert(
        "subject".into(),
        close.get("subject").cloned().unwrap_or(json!("Won")),
    );
    if let Some(r) = close.get("actualrevenue").filter(|v| v.is_number()) {
        c.insert("actualrevenue".into(), r.clone());
    }
    c.insert(
        "actualend".into(),
        json!(s.at.format("%Y-%m-%d").to_string()),
    );
    set_lookup(&mut c, "opportunityid", opportunity, "opportunity");
    c.insert("statecode".into(), json!(1));
    c.insert("statuscode".into(), json!(2));
    write::create(
        store,
        &OPPORTUNITYCLOSE,
        &uuid::Uuid::new_v4().to_string(),
        c,
        s,
    );
    Ok(())
}

/// What an action returns: a record of a table (200 with the row), or nothing (204).
pub(crate) enum ActionResult {
    /// The row `id` of `def`.
    Record(&'static EntityDef, String),
    /// 204.
    Nothing,
}

/// Runs action `name` with the request body `body`.
pub(crate) fn run(
    store: &mut Store,
    name: &str,
    body: &Fields,
    s: &Stamp,
) -> Result<ActionResult, DvError> {
    match name {
        "ReviseQuote" => {
            let q = guid_param(body, "QuoteId").ok_or_else(|| bad_parameter(name, "QuoteId"))?;
            Ok(ActionResult::Record(&QUOTE, revise_quote(store, &q, s)?))
        }
        "ConvertQuoteToSalesOrder" => {
            let q = guid_param(body, "QuoteId").ok_or_else(|| bad_parameter(name, "QuoteId"))?;
            Ok(ActionResult::Record(
                &SALESORDER,
                convert_quote(store, &q, s)?,
            ))
        }
        "WinQuote" => {
            let close = body
                .get("QuoteClose")
                .and_then(Value::as_object)
                .ok_or_else(|| bad_parameter(name, "QuoteClose"))?;
            let q = bound_id(close, "quoteid").ok_or_else(|| bad_parameter(name, "QuoteClose"))?;
            let subject = close
                .get("subject")
                .and_then(Value::as_str)
                .unwrap_or("Quote won");
            win_quote(store, &q, subject, s)?;
            Ok(ActionResult::Nothing)
        }
        "WinOpportunity" => {
            let close = body
                .get("OpportunityClose")
                .and_then(Value::as_object)
                .ok_or_else(|| bad_parameter(name, "OpportunityClose"))?;
            let o = bound_id(close, "opportunityid")
                .ok_or_else(|| bad_parameter(name, "OpportunityClose"))?;
            win_opportunity(store, &o, close, s)?;
            Ok(ActionResult::Nothing)
        }
        _ => Err(DvError::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{name}'."),
        )),
    }
}

/// The HTTP form: `POST /api/data/v9.2/<name>` with a JSON body, run as the application user.
pub(crate) fn respond(
    shared: &crate::sandbox::shared::Shared,
    name: &str,
    method: &axum::http::Method,
    body: &[u8],
    annotations: &super::annotations::Annotations,
) -> Result<axum::response::Response, DvError> {
    if *method != axum::http::Method::POST {
        return Err(DvError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "0x80060888",
            format!("The requested resource does not support http method '{method}'."),
        ));
    }
    let body: Fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ => return Err(bad_parameter(name, "body")),
    };
    let s = Stamp {
        user: shared.dv_app_user.clone(),
        at: chrono::Utc::now(),
    };
    let result = run(&mut shared.dv.store.lock(), name, &body, &s)?;
    shared.dv.faults.count_write();
    Ok(match result {
        ActionResult::Nothing => crate::sandbox::http::empty(StatusCode::NO_CONTENT),
        ActionResult::Record(def, id) => {
            let store = shared.dv.store.lock();
            let row = store
                .table(def.set)
                .and_then(|t| t.get(&id))
                .ok_or_else(|| DvError::not_found(def, &id))?;
            let mut out = Fields::new();
            out.insert(
                "@odata.context".into(),
                json!(format!(
                    "{}$metadata#{}/$entity",
                    shared.dv_api_base(),
                    def.set
                )),
            );
            out.extend(super::shape(def, row, None, annotations));
            crate::sandbox::http::json(StatusCode::OK, &Value::Object(out))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp() -> Stamp {
        Stamp {
            user: "u".into(),
            at: chrono::Utc::now(),
        }
    }

    fn quote_with_line(store: &mut Store) -> String {
        let s = stamp();
        let mut q = Fields::new();
        q.insert("name".into(), json!("Q"));
        let id = uuid::Uuid::new_v4().to_string();
        write::create(store, &QUOTE, &id, q.clone(), &s);
        let mut l = Fields::new();
        l.insert("quantity".into(), json!(2));
        l.insert("sequencenumber".into(), json!(1));
        set_lookup(&mut l, "quoteid", &id, "quote");
        write::create(store, &QUOTEDETAIL, "l1", l, &s);
        id
    }

    #[test]
    fn revise_win_and_convert_follow_the_state_rules() {
        let mut store = Store::default();
        let s = stamp();
        let q = quote_with_line(&mut store);
        let number = row(&store, &QUOTE, &q).unwrap()["quotenumber"].clone();
        assert!(number.as_str().unwrap().starts_with("QUO-01001-"));
        // A draft can be neither revised nor won.
        assert!(revise_quote(&mut store, &q, &s).is_err());
        assert!(win_quote(&mut store, &q, "w", &s).is_err());
        set_state(&mut store, &QUOTE, &q, QUOTE_ACTIVE, 2, &s);
        let q2 = revise_quote(&mut store, &q, &s).unwrap();
        let old = row(&store, &QUOTE, &q).unwrap();
        assert_eq!((state(&old), old["statuscode"].as_i64()), (3, Some(7)));
        let new = row(&store, &QUOTE, &q2).unwrap();
        assert_eq!(new["quotenumber"], number);
        assert_eq!(new["revisionnumber"], json!(1));
        assert_eq!(state(&new), 0);
        assert_eq!(lines_of(&store, &QUOTEDETAIL, "quoteid", &q2).len(), 1);
        set_state(&mut store, &QUOTE, &q2, QUOTE_ACTIVE, 2, &s);
        let order = convert_quote(&mut store, &q2, &s).unwrap();
        assert_eq!(state(&row(&store, &QUOTE, &q2).unwrap()), QUOTE_WON);
        let o = row(&store, &SALESORDER, &order).unwrap();
        assert_eq!(o["_quoteid_value"], json!(q2));
        assert_eq!(o["name"], json!("Q"));
        let lines = lines_of(&store, &SALESORDERDETAIL, "salesorderid", &order);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["quantity"], json!(2));
        // Converting a closed quote is refused.
        assert!(convert_quote(&mut store, &q, &s).is_err());
    }
}
