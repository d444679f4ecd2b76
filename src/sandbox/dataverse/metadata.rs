//! The metadata Web API (`EntityDefinitions`), generated from the sandbox's own entity
//! definitions ([`super::schema::ENTITIES`]), so an entity added there is described here too:
//! - `GET EntityDefinitions[?$filter=…&$select=…]`: the tables (`LogicalName`,
//!   `EntitySetName`, `PrimaryIdAttribute`, …);
//! - `GET EntityDefinitions(LogicalName='account')`: one table;
//! - `GET EntityDefinitions(LogicalName='account')/Attributes[?$select=…]`: its columns, typed
//!   as the real service types them (`StringAttributeMetadata`, `LookupAttributeMetadata` with
//!   `Targets`, …).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::DvError;
use super::schema::{Column, ENTITIES, EntityDef, Kind};
use crate::event::Fields;
use crate::sandbox::http::{json as json_response, split_key};
use crate::sandbox::shared::Shared;

/// The segment the metadata API lives under.
pub(crate) const ENTITY_DEFINITIONS: &str = "EntityDefinitions";

/// A stable metadata id derived from a name (the real ids are fixed per organisation).
fn metadata_id(name: &str) -> String {
    let d = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    uuid::Builder::from_random_bytes(b)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// `account` → `Account`, `address1_line1` → `Address1_Line1` (the sandbox's schema names).
fn schema_name(logical: &str) -> String {
    logical
        .split('_')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("_")
}

fn entity_json(def: &EntityDef) -> Fields {
    let mut o = Fields::new();
    o.insert("MetadataId".into(), json!(metadata_id(def.logical)));
    o.insert("LogicalName".into(), json!(def.logical));
    o.insert("SchemaName".into(), json!(schema_name(def.logical)));
    o.insert("EntitySetName".into(), json!(def.set));
    o.insert("PrimaryIdAttribute".into(), json!(def.key));
    o.insert("ChangeTrackingEnabled".into(), json!(true));
    o.insert("IsCustomEntity".into(), json!(false));
    o
}

fn attribute_json(def: &EntityDef, c: &Column) -> Fields {
    let (odata_type, attribute_type) = match c.kind {
        Kind::Guid => ("UniqueIdentifierAttributeMetadata", "Uniqueidentifier"),
        Kind::Text(_) => ("StringAttributeMetadata", "String"),
        Kind::Int if c.name == "statecode" => ("StateAttributeMetadata", "State"),
        Kind::Int if c.name == "statuscode" => ("StatusAttributeMetadata", "Status"),
        Kind::Int if c.name.ends_with("code") => ("PicklistAttributeMetadata", "Picklist"),
        Kind::Int if c.name == "versionnumber" => ("BigIntAttributeMetadata", "BigInt"),
        Kind::Int => ("IntegerAttributeMetadata", "Integer"),
        Kind::Money => ("MoneyAttributeMetadata", "Money"),
        Kind::Bool => ("BooleanAttributeMetadata", "Boolean"),
        Kind::DateTime | Kind::Date => ("DateTimeAttributeMetadata", "DateTime"),
        Kind::Option(_) if c.name == "statecode" => ("StateAttributeMetadata", "State"),
        Kind::Option(_) if c.name == "statuscode" => ("StatusAttributeMetadata", "Status"),
        Kind::Option(_) => ("PicklistAttributeMetadata", "Picklist"),
        Kind::Lookup(ts) if ts.len() > 1 => ("LookupAttributeMetadata", "Customer"),
        Kind::Lookup(_) => ("LookupAttributeMetadata", "Lookup"),
    };
    let mut o = Fields::new();
    o.insert(
        "@odata.type".into(),
        json!(format!("#Microsoft.Dynamics.CRM.{odata_type}")),
    );
    o.insert(
        "MetadataId".into(),
        json!(metadata_id(&format!("{}.{}", def.logical, c.name))),
    );
    o.insert("LogicalName".into(), json!(c.name));
    o.insert("SchemaName".into(), json!(schema_name(c.name)));
    o.insert("EntityLogicalName".into(), json!(def.logical));
    o.insert("AttributeType".into(), json!(attribute_type));
    o.insert(
        "AttributeTypeName".into(),
        json!({"Value": format!("{attribute_type}Type")}),
    );
    o.insert("IsPrimaryId".into(), json!(c.name == def.key));
    o.insert("IsValidForRead".into(), json!(true));
    o.insert("IsValidForCreate".into(), json!(c.writable));
    o.insert(
        "IsValidForUpdate".into(),
        json!(c.writable && c.name != def.key),
    );
    match c.kind {
        Kind::Text(n) => {
            o.insert("MaxLength".into(), json!(n));
        }
        Kind::Lookup(ts) => {
            let targets: Vec<&str> = ts.iter().map(|t| t.logical).collect();
            o.insert("Targets".into(), json!(targets));
        }
        _ => {}
    }
    o
}

/// Keeps only the `$select`ed properties (plus `@odata.type` and `MetadataId`, as the service
/// does).
fn select(mut o: Fields, params: &[(String, String)]) -> Fields {
    let Some((_, sel)) = params.iter().find(|(k, _)| k == "$select") else {
        return o;
    };
    let wanted: Vec<&str> = sel.split(',').map(str::trim).collect();
    o.retain(|k, _| k == "@odata.type" || k == "MetadataId" || wanted.contains(&k.as_str()));
    o
}

fn not_found(logical: &str) -> DvError {
    DvError::new(
        StatusCode::NOT_FOUND,
        "0x80040217",
        format!("Could not find an entity with the LogicalName '{logical}'."),
    )
}

/// Answers a GET under `EntityDefinitions`; `rest` is the path after the API prefix.
pub(crate) fn get(
    shared: &Shared,
    rest: &str,
    params: &[(String, String)],
) -> Result<Response, DvError> {
    let base = shared.dv_api_base();
    let mut segments = rest.splitn(2, '/');
    let first = segments.next().unwrap_or_default();
    let (_, key) = split_key(first).ok_or_else(|| not_found(first))?;
    let def = match &key {
        Some(logical) => Some(
            ENTITIES
                .iter()
                .copied()
                .find(|e| e.logical == logical)
                .ok_or_else(|| not_found(logical))?,
        ),
        None => None,
    };
    match (def, segments.next()) {
        (None, None) => {
            let filter = match params.iter().find(|(k, _)| k == "$filter") {
                Some((_, text)) => Some(crate::odata::filter::parse(text).map_err(|e| {
                    DvError::bad_query(format!("Invalid $filter on EntityDefinitions: {e}"))
                })?),
                None => None,
            };
            let rows: Vec<Value> = ENTITIES
                .iter()
                .map(|d| entity_json(d))
                .filter(|o| filter.as_ref().is_none_or(|f| f.matches(o)))
                .map(|o| Value::Object(select(o, params)))
                .collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({"@odata.context": format!("{base}$metadata#EntityDefinitions"), "value": rows}),
            ))
        }
        (Some(d), None) => {
            let mut o = Fields::new();
            o.insert(
                "@odata.context".into(),
                json!(format!("{base}$metadata#EntityDefinitions/$entity")),
            );
            o.extend(select(entity_json(d), params));
            Ok(json_response(StatusCode::OK, &Value::Object(o)))
        }
        (Some(d), Some("Attributes")) => {
            let rows: Vec<Value> = d
                .columns
                .iter()
                .map(|c| Value::Object(select(attribute_json(d, c), params)))
                .collect();
            Ok(json_response(
                StatusCode::OK,
                &json!({
                    "@odata.context": format!("{base}$metadata#EntityDefinitions('{}')/Attributes", d.logical),
                    "value": rows
                }),
            ))
        }
        (_, Some(other)) => Err(DvError::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{other}'."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::dataverse::schema::{ACCOUNT, CONTACT};

    #[test]
    fn attributes_follow_the_schema() {
        let parent = CONTACT.column("parentcustomerid").unwrap();
        let a = attribute_json(&CONTACT, parent);
        assert_eq!(a["AttributeType"], "Customer");
        assert_eq!(a["Targets"], json!(["account", "contact"]));
        let full = attribute_json(&CONTACT, CONTACT.column("fullname").unwrap());
        assert_eq!(full["IsValidForUpdate"], false);
        let name = attribute_json(&ACCOUNT, ACCOUNT.column("name").unwrap());
        assert_eq!(name["MaxLength"], 160);
        assert_eq!(name["SchemaName"], "Name");
        assert_eq!(schema_name("address1_line1"), "Address1_Line1");
        assert_eq!(metadata_id("account"), metadata_id("account"));
        assert_ne!(metadata_id("account"), metadata_id("contact"));
    }

    #[test]
    fn select_keeps_the_asked_properties() {
        let o = select(
            entity_json(&ACCOUNT),
            &[("$select".into(), "LogicalName".into())],
        );
        assert_eq!(o.len(), 2);
        assert_eq!(o["LogicalName"], "account");
    }
}
