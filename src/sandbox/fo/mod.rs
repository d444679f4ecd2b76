//! The Dynamics 365 Finance & Operations emulator: OData data entities under `/data/`
//! (`CustomersV3`, `ReleasedProductsV2`, `SalesPriceAgreements`, `SalesOrderHeadersV2`,
//! `SalesOrderLines`) with composite keys led by `dataAreaId`, the default company and
//! `cross-company=true`, `$filter` as F&O reads it, server paging, ETags, `$batch` with atomic
//! changesets, F&O's error shape, the service-protection limits (429 with Retry-After), a
//! cold start, and Business Events posted to a registered HTTPS endpoint.
//!
//! Microsoft's pages this follows (MicrosoftDocs/dynamics-365-unified-operations-public,
//! `articles/fin-ops-core/dev-itpro/`): `data-entities/odata.md` (query options, keys,
//! cross-company, `$batch`, enums, the cold first call),
//! `data-entities/service-protection-api-limits.md` (the user-based and resource-based
//! limits, 429 with Retry-After, 5000 operations a batch),
//! `business-events/home-page.md` (control numbers, retries, the error
//! log and Resend) and `business-events/business-events-dev-doc.md` (naming and contracts of
//! custom events); and `external-apis.md` §3 for what only clients observed (the error
//! shape, payload field formats, `InventoryLotId` as the lines' key).

pub(crate) mod batch;
pub(crate) mod events;
pub(crate) mod exec;
pub(crate) mod exec_time;
pub(crate) mod expand;
pub(crate) mod filter;
pub(crate) mod keys;
pub(crate) mod metadata;
pub(crate) mod query;
pub(crate) mod render;
pub(crate) mod reply;
pub(crate) mod routes;
pub(crate) mod schema;
pub(crate) mod state;
pub(crate) mod write;
pub(crate) mod write_rules;

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::http::json as json_response;
use super::table::Row;
use crate::event::Fields;

/// The company a caller sees without `cross-company=true` (the user's default company).
pub(crate) const DEFAULT_COMPANY: &str = "usmf";
/// The legal entities of the sandbox, default first.
pub(crate) const COMPANIES: &[&str] = &["usmf", "usrt"];

/// The largest page F&O serves (`external-apis.md` §3.1: a doc issue corrected 1,000 to
/// 10,000).
pub(crate) const MAX_PAGE: usize = 10_000;

/// The exception type of write failures, as F&O names it in `innererror.type`.
pub(crate) const WRITE_EXCEPTION: &str =
    "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException";
/// The exception type of query errors (the OData library's).
pub(crate) const QUERY_EXCEPTION: &str = "Microsoft.OData.ODataException";

/// An F&O error: `{"error":{"code":"","message":…,"innererror":{"message":…,"type":…,
/// "stacktrace":…}}}`, the useful text in `innererror.message` and `code` empty
/// (`external-apis.md` §3.3, observed consistently across clients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FoError {
    pub status: StatusCode,
    pub message: String,
    pub inner: String,
    pub kind: &'static str,
}

impl FoError {
    pub fn new(status: StatusCode, message: impl Into<String>, inner: impl Into<String>) -> Self {
        FoError {
            status,
            message: message.into(),
            inner: inner.into(),
            kind: WRITE_EXCEPTION,
        }
    }

    /// A rejected create, update or delete: 400, "Write failed for table row of type …".
    pub fn write_failed(table: &str, infolog: impl AsRef<str>) -> Self {
        FoError::new(
            StatusCode::BAD_REQUEST,
            "An error has occurred.",
            format!(
                "Write failed for table row of type '{table}'. Infolog: {}",
                infolog.as_ref()
            ),
        )
    }

    /// A request the OData layer refuses before it reaches the entity: 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        let m = message.into();
        FoError {
            status: StatusCode::BAD_REQUEST,
            message: format!("The query specified in the URI is not valid. {m}"),
            inner: m,
            kind: QUERY_EXCEPTION,
        }
    }

    /// No entity at that key (or not visible from the caller's company): 404.
    pub fn not_found(segment: &str) -> Self {
        let m = format!("Resource not found for the segment '{segment}'.");
        FoError {
            status: StatusCode::NOT_FOUND,
            message: m.clone(),
            inner: m,
            kind: QUERY_EXCEPTION,
        }
    }

    /// A stale `If-Match`: 412.
    pub fn precondition_failed() -> Self {
        FoError::new(
            StatusCode::PRECONDITION_FAILED,
            "An error has occurred.",
            "The record has been updated by another user since it was read: the ETag in If-Match does not match the record's current version.",
        )
    }

    pub fn body(&self) -> Value {
        json!({"error": {"code": "", "message": self.message, "innererror": {
            "message": self.inner, "type": self.kind, "stacktrace": "",
        }}})
    }

    pub fn response(&self) -> Response {
        tracing::debug!(status = %self.status, message = %self.inner, "fo: error");
        json_response(self.status, &self.body())
    }
}

/// F&O-style weak ETag: `W/"<base64 of '<version>,<recid>;0,0;…'>"`, as the observed
/// `W/"JzAsNTYzNzE0NDU3NjswLDA7MCwwOzAsMDswLDA7MCwwJw=="` (base64 of a quoted
/// version/record-id list).
pub(crate) fn etag(row: &Row) -> String {
    let recid = row
        .fields
        .get(RECID)
        .and_then(Value::as_u64)
        .unwrap_or_default();
    let text = format!("'{},{recid};0,0;0,0;0,0;0,0;0,0'", row.version);
    format!("W/\"{}\"", STANDARD.encode(text))
}

/// The hidden field holding a row's record id (RecId); never shown.
pub(crate) const RECID: &str = "__RecId";
/// The first record id F&O hands out in a fresh database.
pub(crate) const FIRST_RECID: u64 = 5_637_144_576;

/// An instant as F&O writes it (UTC, seconds).
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A date as F&O writes it: a DateTimeOffset at 12:00 UTC.
pub(crate) fn date(d: chrono::NaiveDate) -> String {
    format!("{}T12:00:00Z", d.format("%Y-%m-%d"))
}

/// The empty date F&O sends for "no date".
pub(crate) const NO_DATE: &str = "1900-01-01T12:00:00Z";

/// A row as a GET returns it: `@odata.etag` then the selected columns in schema order.
pub(crate) fn shape(def: &schema::EntityDef, row: &Row, select: Option<&[String]>) -> Fields {
    let mut out = Fields::new();
    out.insert("@odata.etag".into(), Value::String(etag(row)));
    for c in def.columns {
        if select.is_none_or(|s| s.iter().any(|n| n == c.name)) {
            out.insert(
                c.name.into(),
                row.fields.get(c.name).cloned().unwrap_or(Value::Null),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_text_in_innererror_and_an_empty_code() {
        let e = FoError::write_failed("CustCustomerV3Entity", "Field 'Company' must be filled in.");
        let b = e.body();
        assert_eq!(b["error"]["code"], "");
        assert_eq!(b["error"]["message"], "An error has occurred.");
        assert!(
            b["error"]["innererror"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Write failed for table row of type 'CustCustomerV3Entity'.")
        );
        assert_eq!(b["error"]["innererror"]["type"], WRITE_EXCEPTION);
    }

    #[test]
    fn etags_are_weak_and_move_with_the_version() {
        let mut f = Fields::new();
        f.insert(RECID.into(), json!(FIRST_RECID));
        let a = etag(&Row {
            fields: f.clone(),
            version: 1,
        });
        let b = etag(&Row {
            fields: f,
            version: 2,
        });
        assert!(a.starts_with("W/\"") && a != b);
        let inner = a.trim_start_matches("W/\"").trim_end_matches('"');
        let text = String::from_utf8(STANDARD.decode(inner).unwrap()).unwrap();
        assert_eq!(text, "'1,5637144576;0,0;0,0;0,0;0,0;0,0'");
    }
}
