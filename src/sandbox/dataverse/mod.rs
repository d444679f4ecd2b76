//! The Dataverse Web API v9.2 emulator: entity sets `accounts`, `contacts`,
//! `transactioncurrencies`, `systemusers`, and the Sales tables of `schema_sales` (units,
//! products, price lists, opportunities), with paging cookies, change tracking, conditional
//! writes, the real error bodies and service-protection limits.

pub(crate) mod actions;
pub(crate) mod annotations;
pub(crate) mod delta;
pub(crate) mod metadata;
pub(crate) mod query;
pub(crate) mod render;
pub(crate) mod routes;
pub(crate) mod rules_invoices;
pub(crate) mod schema;
pub(crate) mod schema_invoices;
pub(crate) mod schema_orders;
pub(crate) mod schema_posts;
pub(crate) mod schema_quotes;
pub(crate) mod schema_sales;
pub(crate) mod write;
pub(crate) mod write_state;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::http::json as json_response;
use super::table::Row;
use crate::event::Fields;
use annotations::{ASSOCIATED_NAVIGATION_PROPERTY, Annotations, LOOKUP_LOGICAL_NAME};
use schema::{EntityDef, Kind};

/// The annotation naming a lookup's target table.
pub(crate) const LOGICAL_NAME: &str = "@Microsoft.Dynamics.CRM.lookuplogicalname";

/// A Dataverse error, rendered as `{"error":{"code":"0x...","message":"..."}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DvError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl DvError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        DvError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(def: &EntityDef, id: &str) -> Self {
        DvError::new(
            StatusCode::NOT_FOUND,
            "0x80040217",
            format!("{} With Id = {} Does Not Exist", def.logical, id),
        )
    }

    pub fn validation(message: impl Into<String>) -> Self {
        DvError::new(StatusCode::BAD_REQUEST, "0x80044331", message)
    }

    pub fn unknown_property(def: &EntityDef, name: &str) -> Self {
        DvError::validation(format!(
            "The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM.{}'. Make sure to only use property names that are defined by the type.",
            def.logical
        ))
    }

    pub fn bad_query(message: impl Into<String>) -> Self {
        DvError::new(StatusCode::BAD_REQUEST, "0x80060888", message)
    }

    pub fn response(&self) -> Response {
        tracing::debug!(status = %self.status, code = self.code, message = %self.message, "dataverse: error");
        json_response(
            self.status,
            &json!({"error": {"code": self.code, "message": self.message}}),
        )
    }
}

/// The weak ETag of a row version.
pub(crate) fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// Dataverse timestamp format (UTC, seconds).
pub(crate) fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A row as a GET returns it: `@odata.etag`, the selected columns (all when `select` is
/// `None`; the key always), lookups as `_x_value` with the lookup annotations the request
/// asked for (none unasked, polymorphic lookups included).
pub(crate) fn shape(
    def: &EntityDef,
    row: &Row,
    select: Option<&[String]>,
    annotations: &Annotations,
) -> Fields {
    let mut out = Fields::new();
    out.insert("@odata.etag".into(), Value::String(etag(row.version)));
    for c in def.columns {
        let name = c.read_name();
        let wanted = c.name == def.key || select.is_none_or(|s| s.contains(&name));
        if !wanted {
            continue;
        }
        let value = row.fields.get(&name).cloned().unwrap_or(Value::Null);
        if let Kind::Lookup(targets) = c.kind
            && !value.is_null()
        {
            let stored = format!("{name}{LOGICAL_NAME}");
            let logical = row
                .fields
                .get(&stored)
                .and_then(Value::as_str)
                .or_else(|| targets.first().map(|t| t.logical))
                .unwrap_or_default();
            if annotations.includes(LOOKUP_LOGICAL_NAME) {
                out.insert(stored, Value::String(logical.to_string()));
            }
            if annotations.includes(ASSOCIATED_NAVIGATION_PROPERTY)
                && let Some(t) = targets.iter().find(|t| t.logical == logical)
            {
                out.insert(
                    format!("{name}@{ASSOCIATED_NAVIGATION_PROPERTY}"),
                    Value::String(t.nav.to_string()),
                );
            }
        }
        out.insert(name, value);
    }
    out
}
