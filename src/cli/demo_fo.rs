//! `couplet demo --erp fo`: what differs with Finance & Operations as the ERP: the live edits
//! made on its side (customers and released products of the demo's legal entity), and the
//! rows the checks compare (that legal entity's only; the sandbox also seeds `usrt`).

use chrono::Utc;
use serde_json::json;

use super::edits::{Edit, pick};
use crate::event::{Fields, Side, System};
use crate::mapping::Catalogue;
use crate::sandbox::Sandbox;
use crate::store::Store;
use crate::systems::fo::SYSTEM as FO;

/// The legal entity the demo synchronises (`[fo] legal_entity` of the sandbox config).
pub const COMPANY: &str = "usmf";

/// The rows of `set` on `erp` that the demo's engine synchronises (F&O's: the demo's legal
/// entity's, and the rows every company shares, such as units of measure).
pub fn erp_rows(sb: &Sandbox, erp: System, set: &str) -> Vec<Fields> {
    if erp == FO {
        sb.fo_rows(set)
            .into_iter()
            .filter(|r| r.get("dataAreaId").is_none_or(|c| *c == json!(COMPANY)))
            .collect()
    } else {
        sb.rows(erp, set)
    }
}

/// `dataAreaId='usmf',CustomerAccount='C00001'`: a row's key as a URL predicate.
fn predicate(set: &str, row: &Fields) -> Option<String> {
    let key = FO.primary_key(set, row)?;
    Some(
        key.parts()
            .iter()
            .map(|p| {
                format!(
                    "{}='{}'",
                    p.column,
                    p.value.to_json().as_str().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// Edits coupled customers on both sides, changes released products' prices in F&O, and adds
/// a new company on each side.
pub(super) fn make_edits(
    sb: &Sandbox,
    store: &Store,
    catalogue: &Catalogue,
    n: usize,
) -> anyhow::Result<Vec<Edit>> {
    let mut edits = Vec::new();
    let mut push = |mapping: &str, system: System, id: String| {
        edits.push(Edit {
            mapping: mapping.into(),
            system,
            id,
            at: Utc::now(),
        });
    };
    if catalogue.get("CUSTOMER").is_some() {
        let accounts = sb.rows(crate::systems::DATAVERSE, "accounts");
        let mut edited = std::collections::HashSet::new();
        for (i, id) in pick(&accounts, "accountid", n, 0).into_iter().enumerate() {
            if store.coupling("CUSTOMER", Side::Crm, &id)?.is_some() {
                let mut f = Fields::new();
                f.insert("telephone1".into(), json!(format!("+1 555 01{i:02}")));
                sb.update_row(crate::systems::DATAVERSE, "accounts", &id, f)?;
                edited.insert(id.clone());
                push("CUSTOMER", crate::systems::DATAVERSE, id);
            }
        }
        let customers = erp_rows(sb, FO, "CustomersV3");
        for (i, c) in customers.iter().skip(1).step_by(3).take(n).enumerate() {
            let (Some(id), Some(key)) =
                (FO.record_id("CustomersV3", c), predicate("CustomersV3", c))
            else {
                continue;
            };
            // A pair edited on both sides at once is an update conflict: one side only.
            if let Some(cp) = store.coupling("CUSTOMER", Side::Erp, &id)?
                && !edited.contains(&cp.crm_id)
            {
                let mut f = Fields::new();
                f.insert(
                    "PrimaryContactPhone".into(),
                    json!(format!("+1 206 555 {i:04}")),
                );
                sb.fo_update_row("CustomersV3", &key, f)?;
                push("CUSTOMER", FO, id);
            }
        }
        let mut a = Fields::new();
        a.insert("name".into(), json!("Northwind Demo Traders"));
        a.insert("telephone1".into(), json!("+1 425 555 0100"));
        a.insert("address1_city".into(), json!("Redmond"));
        a.insert("address1_country".into(), json!("USA"));
        a.insert("customertypecode".into(), json!(3));
        let acc = sb.insert_row(crate::systems::DATAVERSE, "accounts", a)?;
        push("CUSTOMER", crate::systems::DATAVERSE, acc);
        let made = sb.fo_insert_row(
            "CustomersV3",
            json!({"dataAreaId": COMPANY, "OrganizationName": "Fabrikam Demo Supplies",
                "CustomerGroupId": "20", "SalesCurrencyCode": "USD", "AddressCity": "Tacoma",
                "AddressCountryRegionId": "USA"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )?;
        if let Some(id) = FO.record_id("CustomersV3", &made) {
            push("CUSTOMER", FO, id);
        }
    }
    if catalogue.get("ITEM-PRODUCT").is_some() {
        let items = erp_rows(sb, FO, "ReleasedProductsV2");
        for (i, p) in items.iter().step_by(2).take(n.div_ceil(2)).enumerate() {
            let (Some(id), Some(key)) = (
                FO.record_id("ReleasedProductsV2", p),
                predicate("ReleasedProductsV2", p),
            ) else {
                continue;
            };
            if store.coupling("ITEM-PRODUCT", Side::Erp, &id)?.is_some() {
                let mut f = Fields::new();
                f.insert("SalesPrice".into(), json!(100.0 + i as f64 * 2.5));
                sb.fo_update_row("ReleasedProductsV2", &key, f)?;
                push("ITEM-PRODUCT", FO, id);
            }
        }
    }
    Ok(edits)
}
