//! Dataverse writes: body validation (types, lengths, unknown properties, `@odata.bind`) and
//! applying creates, updates and deletes to the store. Shared by the HTTP handlers and the
//! sandbox's direct-access methods.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::schema::{self, EntityDef, Kind};
use super::{DvError, LOGICAL_NAME, timestamp};
use crate::event::Fields;
use crate::sandbox::http::{is_guid, split_key};
use crate::sandbox::table::Store;

/// Who wrote, and when.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub user: String,
    pub at: DateTime<Utc>,
}

/// Validates an API body and turns it into column changes in stored (read) shape.
pub(crate) fn validate(store: &Store, def: &EntityDef, body: &Fields) -> Result<Fields, DvError> {
    let mut changes = Fields::new();
    for (key, value) in body {
        if key.starts_with('@') {
            continue;
        }
        if let Some(nav) = key.strip_suffix("@odata.bind") {
            bind(store, def, nav, value, &mut changes)?;
            continue;
        }
        if key.contains('@') {
            continue; // instance annotations are ignored
        }
        let Some(col) = def
            .column(key)
            .filter(|c| !matches!(c.kind, Kind::Lookup(_)))
        else {
            return Err(DvError::unknown_property(def, key));
        };
        if !col.writable {
            continue;
        }
        check_type(def, key, &col.kind, value)?;
        changes.insert(key.clone(), value.clone());
    }
    Ok(changes)
}

fn type_error(def: &EntityDef, key: &str, expected: &str, value: &Value) -> DvError {
    DvError::validation(format!(
        "Cannot convert the literal '{value}' to the expected type '{expected}' for the attribute '{key}' of the '{}' entity.",
        def.logical
    ))
}

fn check_type(def: &EntityDef, key: &str, kind: &Kind, value: &Value) -> Result<(), DvError> {
    if value.is_null() {
        return Ok(());
    }
    match kind {
        Kind::Text(max) => {
            let Value::String(s) = value else {
                return Err(type_error(def, key, "Edm.String", value));
            };
            let len = s.chars().count();
            if len > *max {
                return Err(DvError::validation(format!(
                    "A validation error occurred. The length of the '{key}' attribute of the '{}' entity exceeded the maximum allowed length of '{max}'.",
                    def.logical
                )));
            }
        }
        Kind::Guid => {
            if !value.as_str().is_some_and(is_guid) {
                return Err(type_error(def, key, "Edm.Guid", value));
            }
        }
        Kind::Int => {
            if value.as_i64().is_none() {
                return Err(type_error(def, key, "Edm.Int32", value));
            }
        }
        Kind::Money => {
            if !value.is_number() {
                return Err(type_error(def, key, "Edm.Decimal", value));
            }
        }
        Kind::Bool => {
            if !value.is_boolean() {
                return Err(type_error(def, key, "Edm.Boolean", value));
            }
        }
        Kind::DateTime => {
            if value
                .as_str()
                .is_none_or(|s| DateTime::parse_from_rfc3339(s).is_err())
            {
                return Err(type_error(def, key, "Edm.DateTimeOffset", value));
            }
        }
        Kind::Date => {
            if value
                .as_str()
                .is_none_or(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err())
            {
                return Err(type_error(def, key, "Edm.Date", value));
            }
        }
        Kind::Option(values) => {
            let Some(n) = value.as_i64() else {
                return Err(type_error(def, key, "Edm.Int32", value));
            };
            if !values.contains(&n) {
                return Err(DvError::validation(format!(
                    "A validation error occurred. The value {n} of '{key}' on record of type '{}' is outside the valid range. Accepted Values: {}",
                    def.logical,
                    values
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                )));
            }
        }
        Kind::Lookup(_) => {}
    }
    Ok(())
}

fn bind(
    store: &Store,
    def: &EntityDef,
    nav: &str,
    value: &Value,
    changes: &mut Fields,
) -> Result<(), DvError> {
    let Some((col, target)) = def.lookup_by_nav(nav) else {
        if def.column(nav).is_some_and(|c| c.is_polymorphic()) {
            return Err(DvError::validation(format!(
                "An undeclared property '{nav}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values."
            )));
        }
        return Err(DvError::unknown_property(def, nav));
    };
    let read = col.read_name();
    let ann = format!("{read}{LOGICAL_NAME}");
    if value.is_null() {
        changes.insert(read, Value::Null);
        changes.insert(ann, Value::Null);
        return Ok(());
    }
    let Some(text) = value.as_str() else {
        return Err(type_error(
            def,
            &format!("{nav}@odata.bind"),
            "Edm.String",
            value,
        ));
    };
    let last = text.rsplit('/').next().unwrap_or(text);
    let bad = || {
        DvError::bad_query(format!(
            "The value '{text}' of '{nav}@odata.bind' is not a reference to a '{}' record: use \"/{}(<guid>)\".",
            target.logical, target.set
        ))
    };
    let (set, key) = split_key(last).ok_or_else(bad)?;
    let key = key.ok_or_else(bad)?;
    if set != target.set {
        return Err(bad());
    }
    let table = store.table(target.set);
    let target_def = schema::entity(target.set).ok_or_else(bad)?;
    let id = if let Some((name, _)) = last
        .find('(')
        .and_then(|i| last[i + 1..].split_once('='))
        .filter(|(n, _)| n.trim() != target_def.key)
    {
        // alternate key, e.g. /accounts(accountnumber='A1')
        table
            .and_then(|t| {
                t.live().into_iter().find(|(_, r)| {
                    r.fields
                        .get(name.trim())
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case(&key))
                })
            })
            .map(|(id, _)| id.to_string())
    } else if is_guid(&key) {
        table.and_then(|t| t.get(&key)).map(|_| key.clone())
    } else {
        return Err(bad());
    };
    let Some(id) = id else {
        return Err(DvError::validation(format!(
            "{} With Id = {} Does Not Exist",
            target.logical, key
        )));
    };
    changes.insert(read, Value::String(id));
    changes.insert(ann, Value::String(target.logical.into()));
    Ok(())
}

fn finish(def: &EntityDef, fields: &mut Fields, stamp: &Stamp, version: u64) {
    if def.logical == "contact" {
        let part = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let full = [part("firstname"), part("lastname")]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        fields.insert("fullname".into(), Value::String(full));
    }
    if fields.contains_key("_modifiedby_value") {
        fields.insert(
            "_modifiedby_value".into(),
            Value::String(stamp.user.clone()),
        );
    }
    fields.insert("modifiedon".into(), Value::String(timestamp(stamp.at)));
    fields.insert("versionnumber".into(), Value::from(version));
}

/// Creates a row from validated changes. The caller checked that `id` is free.
pub(crate) fn create(store: &mut Store, def: &EntityDef, id: &str, changes: Fields, stamp: &Stamp) {
    let mut fields = Fields::new();
    for name in def.read_names() {
        fields.insert(name, Value::Null);
    }
    if def.column("statecode").is_some() {
        fields.insert("statecode".into(), Value::from(0));
    }
    if def.column("statuscode").is_some() {
        fields.insert("statuscode".into(), Value::from(1));
    }
    for (k, v) in changes {
        fields.insert(k, v);
    }
    if def.set == "salesorders"
        && fields
            .get("ordernumber")
            .and_then(Value::as_str)
            .is_none_or(|n| n.trim().is_empty())
    {
        // Dataverse numbers orders itself (autonumber, e.g. ORD-01001-B7K2L9).
        let n = store.table(def.set).map(|t| t.live().len()).unwrap_or(0) + 1001;
        let tail: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(6)
            .collect();
        fields.insert(
            "ordernumber".into(),
            Value::String(format!("ORD-{n:05}-{}", tail.to_ascii_uppercase())),
        );
    }
    if def.set == "quotes" {
        super::actions::number_quote(store, id, &mut fields);
    }
    fields.insert(def.key.into(), Value::String(id.to_string()));
    if fields.contains_key("createdon") {
        fields.insert("createdon".into(), Value::String(timestamp(stamp.at)));
    }
    let version = store.next_version();
    finish(def, &mut fields, stamp, version);
    store.table_mut(def.set).put(id, fields, version);
}

/// Applies validated changes to an existing row. Returns false when it does not exist.
pub(crate) fn update(
    store: &mut Store,
    def: &EntityDef,
    id: &str,
    changes: Fields,
    stamp: &Stamp,
) -> bool {
    let Some(row) = store.table(def.set).and_then(|t| t.get(id)) else {
        return false;
    };
    let mut fields = row.fields.clone();
    for (k, v) in changes {
        if k != def.key {
            fields.insert(k, v);
        }
    }
    let version = store.next_version();
    finish(def, &mut fields, stamp, version);
    store.table_mut(def.set).put(id, fields, version);
    true
}

/// Deletes a row. Returns false when it does not exist.
pub(crate) fn delete(store: &mut Store, def: &EntityDef, id: &str) -> bool {
    let exists = store.table(def.set).and_then(|t| t.get(id)).is_some();
    if exists {
        let version = store.next_version();
        store.table_mut(def.set).remove(id, version);
    }
    exists
}

/// The id a create will use: the key in the body when given (validated), else a new GUID.
pub(crate) fn new_id(def: &EntityDef, changes: &Fields) -> String {
    changes
        .get(def.key)
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

#[cfg(test)]
mod tests {
    use super::super::schema::{ACCOUNT, CONTACT};
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn validation_errors_name_the_attribute() {
        let store = Store::default();
        let e = validate(&store, &ACCOUNT, &obj(json!({"name": "x".repeat(161)}))).unwrap_err();
        assert!(
            e.message
                .contains("'name' attribute of the 'account' entity")
                && e.message.contains("'160'"),
            "{}",
            e.message
        );
        let e = validate(&store, &ACCOUNT, &obj(json!({"nope": 1}))).unwrap_err();
        assert!(e.message.starts_with(
            "The property 'nope' does not exist on type 'Microsoft.Dynamics.CRM.account'"
        ));
        let e = validate(&store, &ACCOUNT, &obj(json!({"creditlimit": "lots"}))).unwrap_err();
        assert!(e.message.contains("creditlimit"));
        let e = validate(&store, &CONTACT, &obj(json!({"parentcustomerid@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"}))).unwrap_err();
        assert!(e.message.contains("undeclared property 'parentcustomerid'"));
        let e = validate(&store, &CONTACT, &obj(json!({"parentcustomerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"}))).unwrap_err();
        assert!(e.message.contains("Does Not Exist"));
    }

    #[test]
    fn create_update_compose_fullname_and_bind() {
        let mut store = Store::default();
        let stamp = Stamp {
            user: "u1".into(),
            at: Utc::now(),
        };
        let ch = validate(&store, &ACCOUNT, &obj(json!({"name":"Contoso"}))).unwrap();
        let aid = new_id(&ACCOUNT, &ch);
        create(&mut store, &ACCOUNT, &aid, ch, &stamp);
        let ch = validate(&store, &CONTACT, &obj(json!({"firstname":"Ann","lastname":"Lee","parentcustomerid_account@odata.bind": format!("/accounts({aid})")}))).unwrap();
        let cid = new_id(&CONTACT, &ch);
        create(&mut store, &CONTACT, &cid, ch, &stamp);
        let row = store.table("contacts").unwrap().get(&cid).unwrap();
        assert_eq!(row.fields["fullname"], json!("Ann Lee"));
        assert_eq!(row.fields["_parentcustomerid_value"], json!(aid));
        assert_eq!(row.fields["_modifiedby_value"], json!("u1"));
        let v1 = row.version;
        assert!(update(
            &mut store,
            &CONTACT,
            &cid,
            obj(json!({"lastname":"Ng"})),
            &stamp
        ));
        let row = store.table("contacts").unwrap().get(&cid).unwrap();
        assert_eq!(row.fields["fullname"], json!("Ann Ng"));
        assert!(row.version > v1);
        assert!(delete(&mut store, &CONTACT, &cid));
        assert!(!delete(&mut store, &CONTACT, &cid));
    }
}
