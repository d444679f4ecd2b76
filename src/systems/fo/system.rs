//! Finance & Operations' identity: its name, its side and the rules generic code follows for
//! its records (a leaf: it imports nothing of the connector, so anything may name the system).

use crate::event::{BlankText, EtagRule, KeyKind, KeyShape, Side, System, SystemRules};

/// Dynamics 365 Finance & Operations, on the ERP side.
pub const SYSTEM: System = System::new(&RULES);

/// OData data entities: composite keys led by `dataAreaId`, `ModifiedDateTime`,
/// `@odata.etag`, blank text as "" (F&O's string fields are never null).
const RULES: SystemRules = SystemRules {
    name: "fo",
    side: Side::Erp,
    key: key_shape,
    modified_column: |_| MODIFIED.to_string(),
    etag: EtagRule::Annotation("@odata.etag"),
    local_currency_blank: false,
    blank_text: BlankText::EmptyString,
    auth_hint: |status| match status {
        403 => {
            "the app is not allowed in: register its client id on F&O's 'Microsoft Entra \
             applications' page (System administration › Setup) with a user that has the \
             needed roles"
        }
        _ => {
            "check fo's credentials ([auth.fo], or the shared [auth]: credential, or \
             tenant_id, client_id and client_secret_env), and \
             that [fo] url is the environment's URL (its host is the token's scope)"
        }
    },
};

/// The column a polled entity carries its last change in. The standard entities do not
/// expose one; an entity extension adds it, which is how a polling integration reads F&O
/// (`external-apis.md` §3, "modified-datetime polling where the entity exposes one").
pub const MODIFIED: &str = "ModifiedDateTime";

/// The company column every F&O key starts with.
pub const COMPANY: &str = "dataAreaId";

/// The key of each data entity Couplet reads or writes, after `dataAreaId`
/// (`/data/$metadata` lists them; `external-apis.md` §3.2). An entity set outside this list
/// is keyed by `dataAreaId` and `RecordId`, as the trade-agreement entities are.
const KEYS: &[(&str, &str, KeyKind)] = &[
    ("CustomersV3", "CustomerAccount", KeyKind::String),
    ("ReleasedProductsV2", "ItemNumber", KeyKind::String),
    ("SalesOrderHeadersV2", "SalesOrderNumber", KeyKind::String),
    ("SalesOrderLines", "InventoryLotId", KeyKind::String),
    ("SalesPriceAgreements", "RecordId", KeyKind::Int),
    ("PriceCustomerGroups", "GroupCode", KeyKind::String),
    ("UnitsOfMeasure", "UnitSymbol", KeyKind::String),
];

/// The entity sets whose rows every legal entity shares: no `dataAreaId` in their key or
/// their fields, so reads are not filtered by company and creates name none (F&O's units of
/// measure, `UnitOfMeasureEntity`).
const SHARED_SETS: &[&str] = &["UnitsOfMeasure"];

/// True when `set`'s records belong to a legal entity (keyed by `dataAreaId` first); false
/// for the shared entities.
pub fn is_company_specific(set: &str) -> bool {
    !SHARED_SETS.contains(&set)
}

/// The primary key of an entity set: `dataAreaId` and the entity's own key column, or the
/// key column alone for a shared entity.
pub fn key_shape(set: &str) -> KeyShape {
    let (column, kind) = KEYS
        .iter()
        .find(|(s, _, _)| *s == set)
        .map(|(_, c, k)| (*c, *k))
        .unwrap_or(("RecordId", KeyKind::Int));
    if is_company_specific(set) {
        KeyShape::composite([(COMPANY, KeyKind::String), (column, kind)])
    } else {
        KeyShape::single(column, kind)
    }
}

/// The default table mappings of a Dataverse ↔ F&O pair (the catalogue when
/// `[sync] mapping_file` is not set).
pub const MAPPINGS: &str = include_str!("mappings.toml");

/// The mappings an engine runs when `[sync] mappings` is not set.
pub const DEFAULT_SELECTION: &[&str] = &[
    "CUSTOMER",
    "ITEM-PRODUCT",
    "UNIT GROUP",
    "UNIT",
    "CUSTPRCGRP-PRICE",
    "SALESPRC-PRODPRICE",
    "SALESORDER",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_company() {
        let rec: crate::event::Fields = serde_json::from_str(
            r#"{"dataAreaId":"usrt","CustomerAccount":"US-001","OrganizationName":"x"}"#,
        )
        .unwrap();
        let id = SYSTEM.record_id("CustomersV3", &rec).unwrap();
        assert_eq!(id, "dataAreaId=usrt,CustomerAccount=US-001");
        let price: crate::event::Fields =
            serde_json::from_str(r#"{"dataAreaId":"usmf","RecordId":5637144576}"#).unwrap();
        assert_eq!(
            SYSTEM.record_id("SalesPriceAgreements", &price).as_deref(),
            Some("dataAreaId=usmf,RecordId=5637144576")
        );
        assert!(SYSTEM.record_id("CustomersV3", &price).is_none());
        let group: crate::event::Fields =
            serde_json::from_str(r#"{"dataAreaId":"usmf","GroupCode":"RETAIL"}"#).unwrap();
        assert_eq!(
            SYSTEM.record_id("PriceCustomerGroups", &group).as_deref(),
            Some("dataAreaId=usmf,GroupCode=RETAIL")
        );
    }

    #[test]
    fn shared_entities_are_keyed_without_a_company() {
        assert!(is_company_specific("CustomersV3"));
        assert!(is_company_specific("PriceCustomerGroups"));
        assert!(!is_company_specific("UnitsOfMeasure"));
        assert_eq!(key_shape("UnitsOfMeasure").names(), "UnitSymbol");
        let unit: crate::event::Fields =
            serde_json::from_str(r#"{"UnitSymbol":"PCS","UnitDescription":"Pieces"}"#).unwrap();
        assert_eq!(
            SYSTEM.record_id("UnitsOfMeasure", &unit).as_deref(),
            Some("PCS")
        );
        // A row that names a company is still keyed by its symbol alone.
        let mut with_company = unit.clone();
        with_company.insert(COMPANY.into(), "usmf".into());
        assert_eq!(
            SYSTEM.record_id("UnitsOfMeasure", &with_company).as_deref(),
            Some("PCS")
        );
    }
}
