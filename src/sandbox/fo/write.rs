//! F&O writes: a request body checked against the entity's columns (unknown, read-only,
//! null, too-long and mistyped values refused as OData and the entity refuse them), then
//! create, update and delete with the entity's own rules (`write_rules`), `If-Match` checked
//! against the row's ETag (a stale one is 412; none or `*` writes unconditionally).
//!
//! The OData layer runs the entity's `validateField`, `defaultRow`, `validateWrite` and
//! `write` on create and update, and `validateDelete` on delete (`data-entities/odata.md`).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::keys;
use super::schema::{ENUM_NAMESPACE, EntityDef, Kind};
use super::state::Data;
use super::{COMPANIES, DEFAULT_COMPANY, FoError, etag, write_rules};
use crate::event::Fields;
use crate::sandbox::table::Row;

fn odata_error(message: String) -> FoError {
    FoError {
        status: axum::http::StatusCode::BAD_REQUEST,
        message: message.clone(),
        inner: message,
        kind: super::QUERY_EXCEPTION,
    }
}

/// Checks one value against its column's type; returns it normalised (enum members spelled
/// as declared, dates as F&O writes them).
fn check_value(def: &EntityDef, name: &str, kind: &Kind, v: &Value) -> Result<Value, FoError> {
    let label = def.column(name).map_or(name, |c| c.label);
    let wrong = |expected: &str| {
        odata_error(format!(
            "Cannot convert the literal '{v}' to the expected type '{expected}' of property '{name}'."
        ))
    };
    if v.is_null() {
        return Err(odata_error(format!(
            "A null value was found for the property named '{name}', which has the expected type '{}[Nullable=False]'. The expected type '{}[Nullable=False]' does not allow null values.",
            type_of(kind),
            type_of(kind)
        )));
    }
    match kind {
        Kind::Text(max) => {
            let s = v.as_str().ok_or_else(|| wrong("Edm.String"))?;
            if s.chars().count() > *max {
                return Err(FoError::write_failed(
                    def.table,
                    format!("The value of field '{label}' is longer than {max} characters."),
                ));
            }
            Ok(v.clone())
        }
        Kind::Decimal => v
            .as_f64()
            .map(Value::from)
            .ok_or_else(|| wrong("Edm.Decimal")),
        Kind::Int64 => v
            .as_i64()
            .map(Value::from)
            .ok_or_else(|| wrong("Edm.Int64")),
        Kind::Int32 => v
            .as_i64()
            .filter(|n| i32::try_from(*n).is_ok())
            .map(Value::from)
            .ok_or_else(|| wrong("Edm.Int32")),
        Kind::Date | Kind::DateTime => {
            let s = v.as_str().ok_or_else(|| wrong("Edm.DateTimeOffset"))?;
            let parsed = DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .ok()
                .or_else(|| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(12, 0, 0))
                        .map(|d| d.and_utc())
                })
                .ok_or_else(|| wrong("Edm.DateTimeOffset"))?;
            Ok(Value::String(match kind {
                Kind::Date => super::date(parsed.date_naive()),
                _ => super::timestamp(parsed),
            }))
        }
        Kind::Enum(ty, members) => {
            let s = v
                .as_str()
                .ok_or_else(|| wrong(&format!("{ENUM_NAMESPACE}.{ty}")))?;
            members
                .iter()
                .find(|m| m.eq_ignore_ascii_case(s))
                .map(|m| Value::String(m.to_string()))
                .ok_or_else(|| {
                    odata_error(format!(
                        "The value '{s}' is not a valid member of the enum type '{ENUM_NAMESPACE}.{ty}' of property '{name}'."
                    ))
                })
        }
    }
}

/// The EDM type name of a column kind.
pub(crate) fn type_of(kind: &Kind) -> String {
    match kind {
        Kind::Text(_) => "Edm.String".into(),
        Kind::Int64 => "Edm.Int64".into(),
        Kind::Int32 => "Edm.Int32".into(),
        Kind::Decimal => "Edm.Decimal".into(),
        Kind::Date | Kind::DateTime => "Edm.DateTimeOffset".into(),
        Kind::Enum(ty, _) => format!("{ENUM_NAMESPACE}.{ty}"),
    }
}

/// The checked values of a body. On update (`current` given) key fields and read-only
/// columns may be sent only with their current values; on create, read-only columns only
/// with their type's default (and are then left to the entity).
pub(crate) fn validate(
    def: &EntityDef,
    body: &Fields,
    current: Option<&Fields>,
) -> Result<Fields, FoError> {
    let mut out = Fields::new();
    for (name, v) in body {
        if name.starts_with('@') || name.contains("@odata.") {
            continue;
        }
        let column = def.column(name).ok_or_else(|| {
            odata_error(format!(
                "The property '{name}' does not exist on type '{ENUM_NAMESPACE}.{}'. Make sure to only use property names that are defined by the type.",
                def.type_name
            ))
        })?;
        let value = check_value(def, name, &column.kind, v)?;
        let fixed = !column.writable || (current.is_some() && def.keys.contains(&column.name));
        if fixed {
            let same = match current {
                Some(c) => c.get(column.name).is_some_and(|c| same_value(c, &value)),
                // The OData client sends every property, unset ones with their type's default
                // (`data-entities/odata.md`, "Prevent unset records from being posted"):
                // a computed column at its default is no attempt to set it.
                None => is_default(&column.kind, &value),
            };
            if !same {
                return Err(FoError::write_failed(
                    def.table,
                    format!("Field '{}' cannot be edited.", column.label),
                ));
            }
            continue;
        }
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// True for the value an OData client sends for a property it did not set.
fn is_default(kind: &Kind, v: &Value) -> bool {
    match kind {
        Kind::Text(_) => v.as_str().is_some_and(str::is_empty),
        Kind::Int64 | Kind::Int32 | Kind::Decimal => v.as_f64() == Some(0.0),
        // Normalised already: the default DateTimeOffset (0001-01-01) or F&O's empty date.
        Kind::Date | Kind::DateTime => v.as_str().is_some_and(|s| s < "1901"),
        Kind::Enum(_, members) => v.as_str() == members.first().copied(),
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The company a create writes to: `dataAreaId` from the body, which must be given, must be a
/// legal entity, and must be the default company unless the request is cross-company.
fn company(def: &EntityDef, body: &Fields, cross_company: bool) -> Result<String, FoError> {
    let company = body
        .get("dataAreaId")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| FoError::write_failed(def.table, "Field 'Company' must be filled in."))?;
    if !COMPANIES.contains(&company.as_str()) {
        return Err(FoError::write_failed(
            def.table,
            format!("Company '{company}' does not exist."),
        ));
    }
    if !cross_company && company != DEFAULT_COMPANY {
        return Err(FoError::write_failed(
            def.table,
            format!(
                "Company '{company}' is not the current company '{DEFAULT_COMPANY}'. Add cross-company=true to write to another legal entity."
            ),
        ));
    }
    Ok(company)
}

/// Creates a row from a POST body; returns its store id.
pub(crate) fn create(
    data: &mut Data,
    def: &EntityDef,
    body: &Fields,
    cross_company: bool,
    now: DateTime<Utc>,
) -> Result<String, FoError> {
    let mut fields = validate(def, body, None)?;
    // A shared entity (units) belongs to no company; its rules get an empty one.
    let company = if def.is_company_specific() {
        let company = company(def, &fields, cross_company)?;
        fields.insert("dataAreaId".into(), Value::String(company.clone()));
        company
    } else {
        String::new()
    };
    write_rules::default_row(data, def, &company, &mut fields, now)?;
    let id = keys::row_id(def, &fields);
    if data.store.table(def.set).and_then(|t| t.get(&id)).is_some() {
        return Err(write_rules::duplicate(def, &fields));
    }
    write_rules::validate_write(data, def, &company, &mut fields, now)?;
    let recid = data.numbers.recid();
    fields.insert(super::RECID.into(), Value::from(recid));
    if def.keys.contains(&"RecordId") {
        // Keyed by the record id, which was not known before.
        fields.insert("RecordId".into(), Value::from(recid));
    }
    let id = keys::row_id(def, &fields);
    let v = data.store.next_version();
    data.store.table_mut(def.set).put(&id, fields, v);
    Ok(id)
}

/// Checks `If-Match` against the row's ETag.
pub(crate) fn check_if_match(row: &Row, if_match: Option<&str>) -> Result<(), FoError> {
    match if_match {
        None | Some("") | Some("*") => Ok(()),
        Some(tag) if tag == etag(row) => Ok(()),
        Some(_) => Err(FoError::precondition_failed()),
    }
}

/// Replaces a visible row from a PUT body: the writable columns it leaves out go back to
/// their empty values (keys and computed columns stay).
pub(crate) fn replace(
    data: &mut Data,
    def: &EntityDef,
    id: &str,
    body: &Fields,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), FoError> {
    let mut full = body.clone();
    for c in def.columns {
        if c.writable && !def.keys.contains(&c.name) && !body.contains_key(c.name) {
            full.insert(c.name.to_string(), write_rules::empty_value(&c.kind, now));
        }
    }
    update(data, def, id, &full, if_match, now)
}

/// Updates a visible row from a PATCH body.
pub(crate) fn update(
    data: &mut Data,
    def: &EntityDef,
    id: &str,
    body: &Fields,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), FoError> {
    let row = data
        .store
        .table(def.set)
        .and_then(|t| t.get(id))
        .cloned()
        .ok_or_else(|| FoError::not_found(def.set))?;
    check_if_match(&row, if_match)?;
    let changes = validate(def, body, Some(&row.fields))?;
    let mut fields = row.fields.clone();
    fields.extend(changes);
    let company = fields
        .get("dataAreaId")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_COMPANY)
        .to_string();
    write_rules::validate_write(data, def, &company, &mut fields, now)?;
    let v = data.store.next_version();
    data.store.table_mut(def.set).put(id, fields, v);
    Ok(())
}

/// Deletes a visible row (and what F&O deletes with it).
pub(crate) fn delete(
    data: &mut Data,
    def: &EntityDef,
    id: &str,
    if_match: Option<&str>,
) -> Result<Row, FoError> {
    let row = data
        .store
        .table(def.set)
        .and_then(|t| t.get(id))
        .cloned()
        .ok_or_else(|| FoError::not_found(def.set))?;
    check_if_match(&row, if_match)?;
    write_rules::validate_delete(data, def, &row.fields)?;
    let v = data.store.next_version();
    data.store.table_mut(def.set).remove(id, v);
    write_rules::cascade_delete(data, def, &row.fields);
    Ok(row)
}
