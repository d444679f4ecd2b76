//! Business Central's checks and actions on sales quotes: the header is related like an
//! order's (customer, currency, blocked customer), lines like order lines; a Released quote
//! cannot be changed until it is reopened (BC's "Status must be equal to 'Open'"); the
//! extension actions `release`, `reopen` and `archive` (see `schema_quotes.rs`).

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{Value, json};

use super::BcError;
use super::schema_quotes::{
    SALES_QUOTE, SALES_QUOTE_ARCHIVE, SALES_QUOTE_ARCHIVE_LINE, SALES_QUOTE_LINE,
};
use super::write_orders::{relate_line_in, relate_order};
use crate::event::Fields;
use crate::sandbox::table::Store;

fn text(f: &Fields, k: &str) -> String {
    f.get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn not_open(number: &str) -> BcError {
    BcError::new(
        StatusCode::BAD_REQUEST,
        "Application_TestFieldException",
        format!(
            "Status must be equal to 'Open'  in Sales Header: Document Type=Quote, No.={number}. Current value is 'Released'."
        ),
    )
}

/// Customer, currency and defaults of a quote header; a Released quote is read-only.
pub(crate) fn relate_quote(
    store: &Store,
    id: &str,
    fields: &mut Fields,
    changes: &Fields,
) -> Result<(), BcError> {
    if let Some(old) = store.table(SALES_QUOTE.set).and_then(|t| t.get(id))
        && text(&old.fields, "documentStatus") == "Released"
        && changes.keys().any(|k| k != "documentStatus")
    {
        return Err(not_open(&text(&old.fields, "number")));
    }
    relate_order(store, fields, changes)?;
    fields.remove("orderDate");
    if fields.get("documentDate").is_none_or(Value::is_null) {
        fields.insert(
            "documentDate".into(),
            Value::String(Utc::now().format("%Y-%m-%d").to_string()),
        );
    }
    if text(fields, "documentStatus").is_empty() {
        fields.insert("documentStatus".into(), json!("Open"));
    }
    Ok(())
}

/// The quote, item and quantity of a quote line; lines of a Released quote cannot change.
pub(crate) fn relate_quote_line(store: &Store, fields: &mut Fields) -> Result<(), BcError> {
    let doc = text(fields, "documentId");
    if let Some(q) = store.table(SALES_QUOTE.set).and_then(|t| t.get(&doc))
        && text(&q.fields, "documentStatus") == "Released"
    {
        return Err(not_open(&text(&q.fields, "number")));
    }
    relate_line_in(store, fields, SALES_QUOTE.set, "Quote")
}

/// True for the archive lists, which are read-only.
pub(crate) fn is_read_only(set: &str) -> bool {
    set == SALES_QUOTE_ARCHIVE.set || set == SALES_QUOTE_ARCHIVE_LINE.set
}

fn lines_of(store: &Store, quote: &str) -> Vec<(String, Fields)> {
    let mut out: Vec<(String, Fields)> = store
        .table(SALES_QUOTE_LINE.set)
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| r.fields.get("documentId").and_then(Value::as_str) == Some(quote))
                .map(|(id, r)| (id.to_string(), r.fields.clone()))
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| {
        let s = |f: &Fields| f.get("sequence").and_then(Value::as_f64).unwrap_or(0.0);
        s(&a.1).total_cmp(&s(&b.1))
    });
    out
}

fn put(store: &mut Store, set: &str, id: &str, mut fields: Fields) {
    let now = Utc::now();
    fields.insert("id".into(), json!(id));
    fields.insert("lastModifiedDateTime".into(), json!(super::timestamp(now)));
    let v = store.next_version();
    store.table_mut(set).put(id, fields, v);
}

/// Archives the quote's current version: returns the archive's id.
pub(crate) fn archive(store: &mut Store, quote: &str) -> Result<String, BcError> {
    let q = store
        .table(SALES_QUOTE.set)
        .and_then(|t| t.get(quote))
        .map(|r| r.fields.clone())
        .ok_or_else(|| BcError::not_found("Sales Header", quote))?;
    let version = store
        .table(SALES_QUOTE_ARCHIVE.set)
        .map(|t| {
            t.live()
                .iter()
                .filter(|(_, r)| r.fields.get("quoteId").and_then(Value::as_str) == Some(quote))
                .count()
        })
        .unwrap_or(0)
        + 1;
    let lines = lines_of(store, quote);
    let total: f64 = lines
        .iter()
        .filter_map(|(_, l)| l.get("amountExcludingTax").and_then(Value::as_f64))
        .sum();
    let id = uuid::Uuid::new_v4().to_string();
    let mut a = Fields::new();
    a.insert("quoteId".into(), json!(quote));
    a.insert("quoteNumber".into(), json!(text(&q, "number")));
    a.insert("versionNumber".into(), json!(version));
    a.insert(
        "archivedDateTime".into(),
        json!(super::timestamp(Utc::now())),
    );
    for k in [
        "customerNumber",
        "externalDocumentNumber",
        "yourReference",
        "validUntilDate",
    ] {
        a.insert(k.into(), q.get(k).cloned().unwrap_or(Value::Null));
    }
    a.insert(
        "totalAmountExcludingTax".into(),
        json!((total * 100.0).round() / 100.0),
    );
    put(store, SALES_QUOTE_ARCHIVE.set, &id, a);
    for (_, l) in lines {
        let mut al = Fields::new();
        al.insert("archiveId".into(), json!(id));
        for c in SALES_QUOTE_ARCHIVE_LINE.columns {
            if let Some(v) = l.get(c.name)
                && !matches!(c.name, "id" | "archiveId" | "lastModifiedDateTime")
            {
                al.insert(c.name.into(), v.clone());
            }
        }
        put(
            store,
            SALES_QUOTE_ARCHIVE_LINE.set,
            &uuid::Uuid::new_v4().to_string(),
            al,
        );
    }
    Ok(id)
}

/// Runs the bound action `action` (`Microsoft.NAV.release|reopen|archive`) on `quote`.
pub(crate) fn run_action(store: &mut Store, quote: &str, action: &str) -> Result<(), BcError> {
    let status = |s: &str| {
        let mut c = Fields::new();
        c.insert("documentStatus".into(), json!(s));
        c
    };
    match action {
        "Microsoft.NAV.release" => {
            super::write::update(store, &SALES_QUOTE, quote, status("Released"), Utc::now())
        }
        "Microsoft.NAV.reopen" => {
            super::write::update(store, &SALES_QUOTE, quote, status("Open"), Utc::now())
        }
        "Microsoft.NAV.archive" => archive(store, quote).map(|_| ()),
        other => Err(BcError::new(
            StatusCode::NOT_FOUND,
            "BadRequest_NotFound",
            format!("No HTTP resource was found that matches the action '{other}' on salesQuotes."),
        )),
    }
}

/// The HTTP form of [`run_action`]: POST, 204.
pub(crate) fn respond(
    store: &mut Store,
    method: &Method,
    quote: &str,
    action: &str,
) -> Result<axum::response::Response, BcError> {
    if *method != Method::POST {
        return Err(BcError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest_MethodNotAllowed",
            format!("'{method}' requests for '{action}' are not allowed."),
        ));
    }
    if store
        .table(SALES_QUOTE.set)
        .and_then(|t| t.get(quote))
        .is_none()
    {
        return Err(BcError::not_found("Sales Header", quote));
    }
    run_action(store, quote, action)?;
    Ok(crate::sandbox::http::empty(StatusCode::NO_CONTENT))
}
