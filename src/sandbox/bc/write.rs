//! Business Central writes: validation (types, enums, lengths, unknown properties), related
//! fields (currency code/id, contact company), number series and duplicate numbers. Shared by
//! the HTTP handlers and the sandbox's direct-access methods.

use chrono::Utc;
use serde_json::Value;

use super::schema::{EntityDef, Kind};
use super::{BcError, timestamp};
use crate::event::Fields;
use crate::sandbox::http::is_guid;
use crate::sandbox::table::Store;

/// The GUID BC shows for "no record".
pub(crate) const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

fn convert_error(def: &EntityDef, key: &str, value: &Value) -> BcError {
    BcError::bad_request(format!(
        "Cannot convert the literal '{value}' to the expected type of the property '{key}' on type 'Microsoft.NAV.{}'.",
        def.type_name
    ))
}

/// Validates an API body into field changes.
pub(crate) fn validate(def: &EntityDef, body: &Fields) -> Result<Fields, BcError> {
    let mut out = Fields::new();
    for (key, value) in body {
        if key.starts_with('@') || key.contains("@odata.") {
            continue;
        }
        let Some(col) = def.column(key) else {
            return Err(BcError::bad_request(format!(
                "The property '{key}' does not exist on type 'Microsoft.NAV.{}'. Make sure to only use property names that are defined by the type.",
                def.type_name
            )));
        };
        if !col.writable {
            continue;
        }
        let v = match (&col.kind, value) {
            (Kind::Text(_), Value::Null) => Value::String(String::new()),
            (Kind::Text(max), Value::String(s)) => {
                let len = s.chars().count();
                if len > *max {
                    return Err(BcError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        "Application_StringExceededLength",
                        format!(
                            "The length of the string for field '{key}' is {len}, but it must be less than or equal to {max} characters. Value: {s}"
                        ),
                    ));
                }
                value.clone()
            }
            (Kind::Enum(options), Value::String(s)) => {
                let Some(canon) = options.iter().find(|o| {
                    o.eq_ignore_ascii_case(s) || (o.trim().is_empty() && s.trim().is_empty())
                }) else {
                    return Err(BcError::bad_request(format!(
                        "The value '{s}' is not valid for the field '{key}' on type 'Microsoft.NAV.{}'. Valid values are: {}.",
                        def.type_name,
                        options
                            .iter()
                            .map(|o| format!("'{o}'"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                };
                Value::String((*canon).to_string())
            }
            (Kind::Number, Value::Number(_)) | (Kind::Bool, Value::Bool(_)) => value.clone(),
            (Kind::Guid, Value::String(s)) if is_guid(s) => Value::String(s.to_ascii_lowercase()),
            (Kind::DateTime, Value::String(_)) => value.clone(),
            _ => return Err(convert_error(def, key, value)),
        };
        out.insert(key.clone(), v);
    }
    Ok(out)
}

pub(crate) fn not_in_related(field: &str, table: &str, value: &str, related: &str) -> BcError {
    BcError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "Application_FieldValidationException",
        format!(
            "The field {field} of table {table} contains a value ({value}) that cannot be found in the related table ({related})."
        ),
    )
}

pub(crate) fn find_by(
    store: &Store,
    set: &str,
    field: &str,
    value: &str,
) -> Option<(String, Fields)> {
    store.table(set)?.live().into_iter().find_map(|(id, r)| {
        r.fields
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| v.eq_ignore_ascii_case(value))
            .map(|_| (id.to_string(), r.fields.clone()))
    })
}

/// Fills related fields and checks references and duplicate numbers on the merged row.
fn relate(
    store: &Store,
    def: &EntityDef,
    id: &str,
    fields: &mut Fields,
    changes: &Fields,
) -> Result<(), BcError> {
    let text = |f: &Fields, k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (num_field, _) = def.number;
    let number = text(fields, num_field);
    if number.trim().is_empty() && def.set == "currencies" {
        return Err(BcError::bad_request(
            "The field Code of table Currency must have a value.",
        ));
    }
    if !matches!(def.set, "salesOrderLines" | "salesQuoteLines")
        && let Some((other, _)) = find_by(store, def.set, num_field, &number)
        && other != id
    {
        return Err(BcError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "Internal_EntityWithSameKeyExists",
            format!(
                "The record in table {} already exists. Identification fields and values: No.='{number}'",
                def.table
            ),
        ));
    }
    match def.set {
        "customers" => {
            if changes.contains_key("currencyCode") || !changes.contains_key("currencyId") {
                let code = text(fields, "currencyCode").to_ascii_uppercase();
                let cid = if code.trim().is_empty() {
                    EMPTY_GUID.to_string()
                } else {
                    find_by(store, "currencies", "code", &code)
                        .map(|(cid, _)| cid)
                        .ok_or_else(|| {
                            not_in_related("Currency Code", "Customer", &code, "Currency")
                        })?
                };
                fields.insert(
                    "currencyCode".into(),
                    Value::String(code.trim().to_string()),
                );
                fields.insert("currencyId".into(), Value::String(cid));
            } else {
                let cid = text(fields, "currencyId");
                let code = if cid == EMPTY_GUID {
                    String::new()
                } else {
                    let row = store.table("currencies").and_then(|t| t.get(&cid));
                    let row = row.ok_or_else(|| {
                        not_in_related("Currency Id", "Customer", &cid, "Currency")
                    })?;
                    text(&row.fields, "code")
                };
                fields.insert("currencyCode".into(), Value::String(code));
            }
        }
        "contacts" => {
            let company = text(fields, "companyNumber");
            if company.trim().is_empty() {
                fields.insert("companyName".into(), Value::String(String::new()));
                fields.insert(
                    "contactBusinessRelation".into(),
                    Value::String("None".into()),
                );
            } else {
                let (_, cust) =
                    find_by(store, "customers", "number", &company).ok_or_else(|| {
                        not_in_related("Company No.", "Contact", &company, "Customer")
                    })?;
                fields.insert("companyNumber".into(), Value::String(text(&cust, "number")));
                fields.insert(
                    "companyName".into(),
                    Value::String(text(&cust, "displayName")),
                );
                fields.insert(
                    "contactBusinessRelation".into(),
                    Value::String("Customer".into()),
                );
            }
        }
        "salesOrders" => super::write_orders::relate_order(store, fields, changes)?,
        "salesOrderLines" => super::write_orders::relate_line(store, fields)?,
        "salesQuotes" => super::write_quotes::relate_quote(store, id, fields, changes)?,
        "salesQuoteLines" => super::write_quotes::relate_quote_line(store, fields)?,
        _ => {}
    }
    Ok(())
}

/// The next free number in the entity's series, e.g. `C00042` or `CT000007`.
pub(crate) fn next_number(store: &Store, def: &EntityDef) -> String {
    let (field, prefix) = def.number;
    let width = if prefix.len() > 1 && !prefix.ends_with(' ') {
        6
    } else {
        5
    };
    let max = store
        .table(def.set)
        .map(|t| {
            t.live()
                .iter()
                .filter_map(|(_, r)| {
                    r.fields
                        .get(field)
                        .and_then(Value::as_str)?
                        .strip_prefix(prefix)?
                        .parse::<u64>()
                        .ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    format!("{prefix}{:0width$}", max + 1)
}

fn default_for(kind: &Kind) -> Value {
    match kind {
        Kind::Text(_) => Value::String(String::new()),
        Kind::Enum(options) => {
            Value::String(options.first().copied().unwrap_or_default().to_string())
        }
        Kind::Number => Value::from(0),
        Kind::Bool => Value::Bool(false),
        Kind::Guid => Value::String(EMPTY_GUID.into()),
        Kind::DateTime => Value::Null,
    }
}

/// Creates a row; returns its id.
pub(crate) fn create(
    store: &mut Store,
    def: &EntityDef,
    changes: Fields,
    at: chrono::DateTime<Utc>,
) -> Result<String, BcError> {
    let id = uuid::Uuid::new_v4().to_string();
    let mut fields = Fields::new();
    for c in def.columns {
        fields.insert(c.name.into(), default_for(&c.kind));
    }
    for (k, v) in &changes {
        fields.insert(k.clone(), v.clone());
    }
    let (num_field, prefix) = def.number;
    if !prefix.is_empty()
        && fields
            .get(num_field)
            .and_then(Value::as_str)
            .is_none_or(|n| n.trim().is_empty())
    {
        fields.insert(num_field.into(), Value::String(next_number(store, def)));
    }
    if def.set == "contacts" && !changes.contains_key("type") {
        fields.insert("type".into(), Value::String("Person".into()));
    }
    relate(store, def, &id, &mut fields, &changes)?;
    fields.insert("id".into(), Value::String(id.clone()));
    fields.insert("lastModifiedDateTime".into(), Value::String(timestamp(at)));
    let order = order_of(def, &id, &fields);
    let v = store.next_version();
    store.table_mut(def.set).put(&id, fields, v);
    if let Some(o) = order {
        super::fulfil::recompute_totals(store, &o);
    }
    Ok(id)
}

/// Updates a row; the caller checked that it exists.
pub(crate) fn update(
    store: &mut Store,
    def: &EntityDef,
    id: &str,
    changes: Fields,
    at: chrono::DateTime<Utc>,
) -> Result<(), BcError> {
    let Some(row) = store.table(def.set).and_then(|t| t.get(id)) else {
        return Err(BcError::not_found(def.table, id));
    };
    let mut fields = row.fields.clone();
    for (k, v) in &changes {
        fields.insert(k.clone(), v.clone());
    }
    relate(store, def, id, &mut fields, &changes)?;
    fields.insert("lastModifiedDateTime".into(), Value::String(timestamp(at)));
    let order = order_of(def, id, &fields);
    let v = store.next_version();
    store.table_mut(def.set).put(id, fields, v);
    if let Some(o) = order {
        super::fulfil::recompute_totals(store, &o);
    }
    Ok(())
}

/// The sales order whose totals a write of this row changes.
fn order_of(def: &EntityDef, id: &str, fields: &Fields) -> Option<String> {
    match def.set {
        "salesOrders" => Some(id.to_string()),
        "salesOrderLines" => fields
            .get("documentId")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// Deletes a row.
pub(crate) fn delete(store: &mut Store, def: &EntityDef, id: &str) -> Result<(), BcError> {
    let Some(row) = store.table(def.set).and_then(|t| t.get(id)) else {
        return Err(BcError::not_found(def.table, id));
    };
    let order = order_of(def, id, &row.fields);
    let v = store.next_version();
    store.table_mut(def.set).remove(id, v);
    if let Some(o) = order {
        super::fulfil::recompute_totals(store, &o);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schema::{CONTACT, CURRENCY, CUSTOMER};
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn numbers_currencies_and_contacts() {
        let mut s = Store::default();
        let now = Utc::now();
        create(
            &mut s,
            &CURRENCY,
            validate(&CURRENCY, &obj(json!({"code":"EUR"}))).unwrap(),
            now,
        )
        .unwrap();
        let c1 = create(
            &mut s,
            &CUSTOMER,
            validate(
                &CUSTOMER,
                &obj(json!({"displayName":"A","currencyCode":"eur"})),
            )
            .unwrap(),
            now,
        )
        .unwrap();
        let row = s
            .table("customers")
            .unwrap()
            .get(&c1)
            .unwrap()
            .fields
            .clone();
        assert_eq!(row["number"], json!("C00001"));
        assert_eq!(row["currencyCode"], json!("EUR"));
        assert_ne!(row["currencyId"], json!(EMPTY_GUID));
        let e = create(
            &mut s,
            &CUSTOMER,
            validate(&CUSTOMER, &obj(json!({"currencyCode":"XYZ"}))).unwrap(),
            now,
        )
        .unwrap_err();
        assert_eq!(e.code, "Application_FieldValidationException");
        assert!(e.message.contains("XYZ"));
        let e = create(
            &mut s,
            &CUSTOMER,
            validate(&CUSTOMER, &obj(json!({"number":"c00001"}))).unwrap(),
            now,
        )
        .unwrap_err();
        assert_eq!(e.code, "Internal_EntityWithSameKeyExists");
        let ct = create(
            &mut s,
            &CONTACT,
            validate(
                &CONTACT,
                &obj(json!({"displayName":"P","companyNumber":"C00001"})),
            )
            .unwrap(),
            now,
        )
        .unwrap();
        let row = &s.table("contacts").unwrap().get(&ct).unwrap().fields;
        assert_eq!(row["companyName"], json!("A"));
        assert_eq!(row["contactBusinessRelation"], json!("Customer"));
        assert_eq!(row["number"], json!("CT000001"));
        assert!(
            create(
                &mut s,
                &CONTACT,
                validate(&CONTACT, &obj(json!({"companyNumber":"C9"}))).unwrap(),
                now
            )
            .is_err()
        );
    }

    #[test]
    fn validation_errors() {
        let e = validate(&CUSTOMER, &obj(json!({"displayName": "x".repeat(101)}))).unwrap_err();
        assert_eq!(e.code, "Application_StringExceededLength");
        assert!(e.message.contains("'displayName'") && e.message.contains("100"));
        let e = validate(&CUSTOMER, &obj(json!({"bogus": 1}))).unwrap_err();
        assert!(e.message.contains("'bogus'"));
        assert!(validate(&CUSTOMER, &obj(json!({"type": "Alien"}))).is_err());
        assert!(validate(&CUSTOMER, &obj(json!({"creditLimit": "x"}))).is_err());
        assert_eq!(
            validate(&CUSTOMER, &obj(json!({"blocked": ""}))).unwrap()["blocked"],
            json!(" ")
        );
    }
}
