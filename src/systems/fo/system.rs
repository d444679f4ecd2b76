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
            "check [auth] tenant_id, client_id and client_secret_env (or client_secret), and \
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
];

/// The primary key of an entity set: `dataAreaId` and the entity's own key column.
pub fn key_shape(set: &str) -> KeyShape {
    let (column, kind) = KEYS
        .iter()
        .find(|(s, _, _)| *s == set)
        .map(|(_, c, k)| (*c, *k))
        .unwrap_or(("RecordId", KeyKind::Int));
    KeyShape::composite([(COMPANY, KeyKind::String), (column, kind)])
}

/// The default table mappings of a Dataverse ↔ F&O pair (the catalogue when
/// `[sync] mapping_file` is not set).
pub const MAPPINGS: &str = include_str!("mappings.toml");

/// The mappings an engine runs when `[sync] mappings` is not set.
pub const DEFAULT_SELECTION: &[&str] = &["CUSTOMER", "ITEM-PRODUCT", "SALESORDER"];

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
    }
}
