//! Rendering the sandbox's [`World`] into the F&O emulator's tables, in two legal entities:
//! `usmf` (the default company) holds every ERP customer, every item as a released product
//! and the customer-group prices as sales price agreements; `usrt` holds the items too and a
//! fifth of the customers under the same accounts (so one account exists in both companies,
//! as a customer that buys from two legal entities does). Both companies keep the world's
//! customer price groups; the units of measure the items use are shared by both. Sales orders
//! start empty: they come from the CRM. Rendering draws nothing: the same world always makes
//! the same rows.

use serde_json::{Value, json};

use super::schema::{
    CUSTOMERS, EntityDef, PRICE_CUSTOMER_GROUPS, RELEASED_PRODUCTS, SALES_PRICE_AGREEMENTS,
    UNITS_OF_MEASURE,
};
use super::state::Data;
use super::{COMPANIES, DEFAULT_COMPANY, NO_DATE, RECID, date, keys, timestamp};
use crate::sandbox::world::{Company, World};

/// The customer groups of the sandbox's companies (`CustGroup`), which `CustomerGroupId`
/// must name.
pub(crate) const CUSTOMER_GROUPS: &[(&str, &str)] = &[
    ("10", "Major customers"),
    ("20", "Wholesale customers"),
    ("30", "Retail customers"),
    ("40", "Internet customers"),
];

/// The number sequence of customer accounts, and its format (the world's, `C00001`).
pub(crate) const CUSTOMER_SEQUENCE: &str = "CustAccount";

/// Every `SECOND_COMPANY_EVERY`-th ERP customer (from the first) is also a customer of `usrt`.
const SECOND_COMPANY_EVERY: usize = 5;

/// Stores `f` (a JSON object) in the entity's table under its key, with a fresh record id.
pub(crate) fn put(data: &mut Data, def: &EntityDef, f: Value) {
    let mut fields = f.as_object().cloned().unwrap_or_default();
    // F&O cannot hold more than a column's length (the world's state names are longer than
    // `AddressState`'s ten characters).
    for c in def.columns {
        if let super::schema::Kind::Text(max) = c.kind
            && let Some(Value::String(t)) = fields.get_mut(c.name)
            && t.chars().count() > max
        {
            *t = t.chars().take(max).collect();
        }
    }
    let recid = data.numbers.recid();
    fields.insert(RECID.into(), json!(recid));
    if def.set == SALES_PRICE_AGREEMENTS.set {
        fields.insert("RecordId".into(), json!(recid));
    }
    let id = keys::row_id(def, &fields);
    let v = data.store.next_version();
    data.store.table_mut(def.set).put(&id, fields, v);
}

/// Writes the world's ERP side into `data`.
pub(crate) fn render(world: &World, data: &mut Data) {
    let mut last_number = 0;
    let erp = world.customers.iter().filter(|c| c.erp.is_some());
    for (i, c) in erp.enumerate() {
        let Some(number) = &c.number else {
            continue;
        };
        last_number = last_number.max(number.trim_start_matches('C').parse().unwrap_or(0));
        customer(
            data,
            c,
            number,
            DEFAULT_COMPANY,
            CUSTOMER_GROUPS[i % CUSTOMER_GROUPS.len()].0,
        );
        if i % SECOND_COMPANY_EVERY == 0 {
            customer(data, c, number, COMPANIES[1], "30");
        }
    }
    for company in COMPANIES {
        data.numbers
            .start_at(CUSTOMER_SEQUENCE, company, last_number + 1);
        for item in &world.items {
            let search: String = item.name.to_uppercase().chars().take(20).collect();
            let f = json!({
                "dataAreaId": company, "ItemNumber": item.number, "ProductNumber": item.number,
                "ProductName": item.name, "SearchName": search, "ProductType": "Item",
                "ItemModelGroupId": "FIFO", "ProductGroupId": "Goods",
                "InventoryUnitSymbol": item.unit, "SalesUnitSymbol": item.unit,
                "SalesPrice": item.price, "SalesPriceQuantity": 1.0,
                "SalesPriceDate": date(item.modified.date_naive()),
                "ProductionStandardCost": item.cost, "IsSalesWithholdingTaxCalculated": "No",
                "ModifiedDateTime": timestamp(item.modified),
            });
            put(data, &RELEASED_PRODUCTS, f);
        }
    }
    for (i, p) in world.group_prices.iter().enumerate() {
        let f = json!({
            "dataAreaId": DEFAULT_COMPANY, "ItemNumber": p.item, "PriceCustomerGroupCode": p.group,
            "CustomerAccountNumber": "", "PriceCurrencyCode": world.local_currency, "Price": p.price,
            "QuantityUnitySymbol": p.unit, "FromQuantity": 0.0, "ToQuantity": 0.0,
            "SalesPriceQuantity": 1.0, "PriceApplicableFromDate": NO_DATE,
            "PriceApplicableToDate": NO_DATE,
            "WillSearchContinue": if i % 2 == 0 { "No" } else { "Yes" },
        });
        put(data, &SALES_PRICE_AGREEMENTS, f);
    }
    for unit in units(world) {
        let f = json!({
            "UnitSymbol": unit, "UnitDescription": unit_description(&unit),
            "UnitClass": if unit == "KG" { "Mass" } else { "Quantity" },
            "SystemOfUnits": if unit == "KG" { "Metric" } else { "None" },
            "DecimalPrecision": if unit == "KG" { 3 } else { 0 },
            "IsBaseUnit": "Yes", "IsSystemUnit": "No", "NationalCode": "",
        });
        put(data, &UNITS_OF_MEASURE, f);
    }
    for company in COMPANIES {
        for (i, g) in world.price_groups.iter().enumerate() {
            let f = json!({
                "dataAreaId": company, "GroupCode": g.code, "GroupName": g.name,
                "PricingPriority": i,
            });
            put(data, &PRICE_CUSTOMER_GROUPS, f);
        }
    }
}

/// The units the items are sold in, each once, sorted.
fn units(world: &World) -> Vec<String> {
    let mut units: Vec<String> = world.items.iter().map(|i| i.unit.clone()).collect();
    units.sort();
    units.dedup();
    units
}

fn unit_description(unit: &str) -> &'static str {
    match unit {
        "PCS" => "Pieces",
        "BOX" => "Box",
        "SET" => "Set",
        "KG" => "Kilograms",
        _ => "",
    }
}

/// A customer of `company`.
fn customer(data: &mut Data, c: &Company, number: &str, company: &str, group: &str) {
    let Some(erp) = &c.erp else {
        return;
    };
    let street = if c.street2.is_empty() {
        c.street.clone()
    } else {
        format!("{}\n{}", c.street, c.street2)
    };
    let f = json!({
        "dataAreaId": company, "CustomerAccount": number, "OrganizationName": c.name,
        "PartyType": "Organization", "CustomerGroupId": group, "SalesCurrencyCode": c.currency,
        "PaymentTerms": c.payment_terms, "DeliveryMode": c.shipment_method,
        "EmployeeResponsibleNumber": c.salesperson.as_deref().unwrap_or(""),
        "AddressStreet": street, "AddressCity": c.city, "AddressState": c.state,
        "AddressZipCode": c.postal_code, "AddressCountryRegionId": c.country,
        "PrimaryContactEmail": c.email, "PrimaryContactPhone": erp.phone,
        "PrimaryContactURL": c.website, "CreditLimit": c.credit_limit, "OnHoldStatus": "No",
        "ModifiedDateTime": timestamp(erp.modified),
    });
    put(data, &CUSTOMERS, f);
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::sandbox::config::SandboxConfig;
    use crate::sandbox::world::generate;

    fn rendered(records: usize) -> (World, Data) {
        let now = DateTime::parse_from_rfc3339("2026-03-01T09:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let cfg = SandboxConfig {
            records,
            ..Default::default()
        };
        let world = generate(&cfg, "app", now);
        let mut data = Data::default();
        render(&world, &mut data);
        (world, data)
    }

    #[test]
    fn two_companies_share_items_and_some_customer_accounts() {
        let (world, data) = rendered(40);
        let rows = |set: &str, company: &str| {
            data.store
                .table(set)
                .map(|t| {
                    t.live()
                        .into_iter()
                        .filter(|(_, r)| r.fields["dataAreaId"] == company)
                        .count()
                })
                .unwrap_or(0)
        };
        let erp = world.customers.iter().filter(|c| c.erp.is_some()).count();
        assert_eq!(rows("CustomersV3", "usmf"), erp);
        assert_eq!(
            rows("CustomersV3", "usrt"),
            erp.div_ceil(SECOND_COMPANY_EVERY)
        );
        assert_eq!(rows("ReleasedProductsV2", "usmf"), world.items.len());
        assert_eq!(rows("ReleasedProductsV2", "usrt"), world.items.len());
        assert_eq!(
            rows("SalesPriceAgreements", "usmf"),
            world.group_prices.len()
        );
        for company in COMPANIES {
            assert_eq!(
                rows("PriceCustomerGroups", company),
                world.price_groups.len()
            );
        }
        // Units are shared: no company, one row per unit the items use.
        let units = data.store.table("UnitsOfMeasure").unwrap().live();
        assert!(!units.is_empty());
        assert!(
            units
                .iter()
                .all(|(_, r)| r.fields.get("dataAreaId").is_none())
        );
        for p in &world.group_prices {
            assert!(
                data.store
                    .table("UnitsOfMeasure")
                    .unwrap()
                    .get(&p.unit.to_lowercase())
                    .is_some()
            );
        }
        let first = world.customers.iter().find(|c| c.erp.is_some()).unwrap();
        let number = first.number.as_deref().unwrap().to_lowercase();
        let t = data.store.table("CustomersV3").unwrap();
        assert!(t.get(&format!("usmf|{number}")).is_some());
        assert!(t.get(&format!("usrt|{number}")).is_some());
        let row = t.get(&format!("usmf|{number}")).unwrap();
        assert_eq!(row.fields["OrganizationName"], json!(first.name));
        assert_eq!(row.fields["SalesCurrencyCode"], json!(first.currency));
    }

    #[test]
    fn rendering_is_deterministic() {
        let (_, a) = rendered(10);
        let (_, b) = rendered(10);
        assert_eq!(a.store.digest(), b.store.digest());
    }
}
