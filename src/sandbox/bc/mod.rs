//! The Business Central API v2.0 emulator: `companies`, and under the one company
//! `customers`, `contacts` and `currencies` and the entities of `schema_sales`,
//! `schema_pricelists`, `schema_orders`, `schema_shipments` (posted shipments, read-only),
//! `schema_invoices` and `schema_inventory` (item ledger entries, read-only), with
//! `If-Match`-guarded writes, BC ETags, `$filter`/`$orderby`/`$top`/`$skip` and server paging.

pub(crate) mod fulfil;
pub(crate) mod inventory;
pub(crate) mod metadata;
pub(crate) mod query;
pub(crate) mod render;
pub(crate) mod render_documents;
pub(crate) mod routes;
pub(crate) mod schema;
pub(crate) mod schema_inventory;
pub(crate) mod schema_invoices;
pub(crate) mod schema_orders;
pub(crate) mod schema_pricelists;
pub(crate) mod schema_quotes;
pub(crate) mod schema_sales;
pub(crate) mod schema_shipments;
pub(crate) mod write;
pub(crate) mod write_invoices;
pub(crate) mod write_orders;
pub(crate) mod write_quotes;

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::http::{json as json_response, new_guid};
use super::table::Row;
use crate::event::Fields;

/// A BC error, rendered as `{"error":{"code":"...","message":"...  CorrelationId:  <guid>."}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BcError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl BcError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        BcError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        BcError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    pub fn not_found(table: &str, id: &str) -> Self {
        BcError::new(
            StatusCode::NOT_FOUND,
            "BadRequest_NotFound",
            format!("The {table} does not exist. Identification fields and values: Id='{id}'"),
        )
    }

    pub fn response(&self) -> Response {
        tracing::debug!(status = %self.status, code = self.code, message = %self.message, "bc: error");
        let message = format!("{}  CorrelationId:  {}.", self.message, new_guid());
        json_response(
            self.status,
            &json!({"error": {"code": self.code, "message": message}}),
        )
    }
}

/// BC-style ETag: `W/"<base64 of '<n>;<hash>;00;'>"`.
pub(crate) fn etag(id: &str, version: u64) -> String {
    let hash = STANDARD.encode(Sha256::digest(format!("{id}:{version}").as_bytes()));
    format!(
        "W/\"{}\"",
        STANDARD.encode(format!("'{version};{hash};00;'"))
    )
}

/// BC timestamp format (UTC, milliseconds).
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A row as a GET returns it: `@odata.etag` then the selected fields (`id` always).
pub(crate) fn shape(
    def: &schema::EntityDef,
    id: &str,
    row: &Row,
    select: Option<&[String]>,
) -> Fields {
    let mut out = Fields::new();
    out.insert("@odata.etag".into(), Value::String(etag(id, row.version)));
    for c in def.columns {
        if c.name == "id" || select.is_none_or(|s| s.iter().any(|n| n == c.name)) {
            out.insert(
                c.name.into(),
                row.fields.get(c.name).cloned().unwrap_or(Value::Null),
            );
        }
    }
    out
}
