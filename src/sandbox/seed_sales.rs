//! Seed data beyond customers and contacts, in proportion to `records`: vendors (both sides,
//! some on both), and in Business Central items, resources, customer price groups with their
//! sales prices, opportunities of seeded contacts, and price lists (`seed_pricelists`).
//! Dataverse holds no products, units or price lists of them yet (Business Central is their
//! source), and one price list of its own.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::bc::timestamp as bc_time;
use super::bc::write::EMPTY_GUID;
use super::dataverse::LOGICAL_NAME;
use super::dataverse::schema::ACCOUNT;
use super::dataverse::schema_sales::PRICELEVEL;
use super::dataverse::write::{Stamp, create};
use super::names::*;
use super::seed::{guid, obj, pick};
use super::table::Store;

/// What the main seed made that these records refer to.
pub(crate) struct Refs<'a> {
    /// Dataverse ids of the human users.
    pub humans: &'a [String],
    /// ISO code → Dataverse transactioncurrency id.
    pub dv_currencies: &'a HashMap<&'static str, String>,
    /// The seeding time.
    pub now: DateTime<Utc>,
}

fn put(bc: &mut Store, set: &str, id: &str, f: Value) {
    let v = bc.next_version();
    bc.table_mut(set).put(id, obj(f), v);
}

/// Seeds both stores.
pub(crate) fn seed(
    rng: &mut ChaCha8Rng,
    records: usize,
    r: &Refs<'_>,
    dv: &mut Store,
    bc: &mut Store,
) {
    let past =
        |rng: &mut ChaCha8Rng| r.now - Duration::seconds(rng.random_range(3_600..40 * 86_400));

    // Vendors: a fifth of `records`; 40 % on both sides, 30 % each only in one.
    for i in 0..records.div_ceil(5) {
        let name = format!(
            "{} {} Supplies {}",
            pick(rng, COMPANY_FIRST),
            pick(rng, COMPANY_SECOND),
            i + 1
        );
        let (city, state, postal, area) = *pick(rng, US_CITIES);
        let street = format!(
            "{} {} {}",
            rng.random_range(1..2400),
            pick(rng, STREETS),
            pick(rng, STREET_TYPES)
        );
        let phone = format!("+1 {area}-555-{:04}", rng.random_range(100..9999));
        let domain = format!("supplier{}.com", i + 1);
        let terms = rng.random_range(0..PAYMENT_TERMS.len());
        let roll = rng.random_range(0..100);
        let number = format!("V{:05}", i + 1);
        let at = past(rng);
        if roll < 70 {
            let id = guid(rng);
            let user = pick(rng, r.humans).clone();
            let mut f = obj(json!({
                "name": name, "accountnumber": if roll < 40 { json!(number) } else { Value::Null },
                "telephone1": phone, "emailaddress1": format!("sales@{domain}"), "websiteurl": format!("https://www.{domain}"),
                "address1_line1": street, "address1_city": city, "address1_stateorprovince": state,
                "address1_postalcode": postal, "address1_country": "US", "customertypecode": 11,
                "paymenttermscode": PAYMENT_TERMS[terms].1, "_ownerid_value": user,
                "_transactioncurrencyid_value": r.dv_currencies.get("USD").cloned().unwrap_or_default(),
            }));
            f.insert(
                format!("_transactioncurrencyid_value{LOGICAL_NAME}"),
                json!("transactioncurrency"),
            );
            create(dv, &ACCOUNT, &id, f, &Stamp { user, at });
        }
        if !(40..70).contains(&roll) {
            let id = guid(rng);
            put(
                bc,
                "vendors",
                &id,
                json!({
                    "id": id, "number": number, "displayName": name, "addressLine1": street, "addressLine2": "",
                    "city": city, "state": state, "country": "US", "postalCode": postal, "phoneNumber": phone,
                    "email": format!("sales@{domain}"), "website": format!("https://www.{domain}"),
                    "taxRegistrationNumber": "", "currencyId": EMPTY_GUID, "currencyCode": "",
                    "paymentTermsId": EMPTY_GUID, "paymentTermsCode": PAYMENT_TERMS[terms].0, "taxLiable": true,
                    "blocked": " ", "balance": (rng.random_range(0..100_000) as f64) / 100.0,
                    "lastModifiedDateTime": bc_time(past(rng)),
                }),
            );
        }
    }

    // Items: a quarter of `records`, one in twenty blocked.
    let mut items = Vec::new();
    for i in 0..records.div_ceil(4) {
        let id = guid(rng);
        let number = format!("I{:05}", i + 1);
        let unit = *pick(rng, ITEM_UNITS);
        let cost = (rng.random_range(100..50_000) as f64) / 100.0;
        let price = ((cost * 1.4) * 100.0).round() / 100.0;
        let blocked = rng.random_range(0..20) == 0;
        put(
            bc,
            "items",
            &id,
            json!({
                "id": id, "number": number, "displayName": format!("{} {} {}", pick(rng, PRODUCT_FIRST), pick(rng, PRODUCT_SECOND), i + 1),
                "displayName2": "", "type": "Inventory", "itemCategoryCode": "", "blocked": blocked, "gtin": "",
                "inventory": rng.random_range(0..500) as f64, "unitPrice": price, "priceIncludesTax": false, "unitCost": cost,
                "baseUnitOfMeasureId": guid(rng), "baseUnitOfMeasureCode": unit, "taxGroupCode": "",
                "lastModifiedDateTime": bc_time(past(rng)),
            }),
        );
        if !blocked {
            items.push((number, unit, price));
        }
    }

    // Resources: a tenth of `records`.
    let mut resources = Vec::new();
    for i in 0..records.div_ceil(10) {
        let id = guid(rng);
        let cost = rng.random_range(40..120) as f64;
        resources.push(format!("R{:05}", i + 1));
        put(
            bc,
            "resources",
            &id,
            json!({
                "id": id, "number": resources[i],
                "displayName": format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)),
                "type": "Person", "baseUnitOfMeasureCode": "HOUR", "unitCost": cost, "unitPrice": cost * 1.5,
                "capacity": 160.0, "blocked": false, "lastModifiedDateTime": bc_time(past(rng)),
            }),
        );
    }

    // Customer price groups, and a price for every third item in each.
    for (code, name) in PRICE_GROUPS {
        let id = guid(rng);
        put(
            bc,
            "customerPriceGroups",
            &id,
            json!({"id": id, "code": code, "displayName": name, "lastModifiedDateTime": bc_time(past(rng))}),
        );
    }
    for (k, (number, unit, price)) in items.iter().enumerate().filter(|(k, _)| k % 3 == 0) {
        let (group, _) = PRICE_GROUPS[k % PRICE_GROUPS.len()];
        let id = guid(rng);
        put(
            bc,
            "salesPrices",
            &id,
            json!({
                "id": id, "itemNumber": number, "salesType": "Customer Price Group", "salesCode": group,
                "currencyCode": "", "unitOfMeasureCode": unit, "minimumQuantity": 0.0,
                "unitPrice": (price * 0.9 * 100.0).round() / 100.0, "lastModifiedDateTime": bc_time(past(rng)),
            }),
        );
    }
    // A Dataverse price list of its own (Business Central does not know it).
    let id = guid(rng);
    let user = r.humans.first().cloned().unwrap_or_default();
    let mut f = obj(
        json!({"name": "Default Price List", "description": "Created in Dataverse", "statecode": 0,
        "_transactioncurrencyid_value": r.dv_currencies.get("USD").cloned().unwrap_or_default()}),
    );
    f.insert(
        format!("_transactioncurrencyid_value{LOGICAL_NAME}"),
        json!("transactioncurrency"),
    );
    create(
        dv,
        &PRICELEVEL,
        &id,
        f,
        &Stamp {
            user,
            at: past(rng),
        },
    );

    // Opportunities for a fifth of the Business Central contacts.
    let contacts: Vec<String> = bc
        .table("contacts")
        .map(|t| {
            let mut v: Vec<String> = t
                .live()
                .iter()
                .filter_map(|(_, row)| {
                    row.fields
                        .get("number")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect();
            v.sort();
            v
        })
        .unwrap_or_default();
    for (k, contact) in contacts.iter().enumerate().filter(|(k, _)| k % 5 == 0) {
        let id = guid(rng);
        let close = (r.now + Duration::days(rng.random_range(10..180)))
            .format("%Y-%m-%d")
            .to_string();
        put(
            bc,
            "opportunities",
            &id,
            json!({
                "id": id, "number": format!("OP{:06}", k / 5 + 1),
                "description": format!("{} {} for {contact}", pick(rng, PRODUCT_FIRST), pick(rng, PRODUCT_SECOND)),
                "contactNumber": contact, "salespersonCode": pick(rng, SALESPEOPLE),
                "status": if rng.random_bool(0.5) { "In Progress" } else { "Not Started" },
                "estimatedValue": (rng.random_range(10..500) * 100) as f64, "estimatedClosingDate": close,
                "lastModifiedDateTime": bc_time(past(rng)),
            }),
        );
    }

    // Price lists (extended pricing), after everything else so the records above stay as
    // they were.
    super::seed_pricelists::seed(rng, records, &items, &resources, r.now, bc);
}
