//! Rendering the sandbox's [`World`] into the Business Central emulator's tables: the users
//! who are salespeople as `salespeoplePurchasers`, the foreign currencies as `currencies`
//! (the local currency has no record), the ERP's customers with their people as `customers`
//! and `contacts`, its vendors, items, resources, customer price groups and their
//! `salesPrices`, and opportunities; then price lists, posted invoices and opening stock
//! (`render_documents`). Record ids are the world's ERP keys as GUIDs. Rendering draws
//! nothing: the same world always makes the same rows.

use serde_json::{Value, json};

use super::timestamp;
use super::write::EMPTY_GUID;
use crate::sandbox::table::Store;
use crate::sandbox::world::{Code, Company, Key, OpportunityStatus, Vendor, World};

/// Ids the Business Central server needs after rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// The company's id (`companies({id})`).
    pub company_id: String,
}

/// A world key as a Business Central record id.
pub(super) fn guid(key: Key) -> String {
    key.uuid().to_string()
}

/// Stores `f` (an object with its `id`) in `set` at the next version.
pub(super) fn put(bc: &mut Store, set: &str, id: &str, f: Value) {
    let v = bc.next_version();
    bc.table_mut(set)
        .put(id, f.as_object().cloned().unwrap_or_default(), v);
}

/// The code and id of currency `code` as a record shows them: blank and the empty GUID for
/// the local currency.
fn currency(world: &World, code: &str) -> (String, String) {
    world
        .currencies
        .iter()
        .find(|c| c.code == code)
        .and_then(|c| c.erp_key)
        .map_or((String::new(), EMPTY_GUID.to_string()), |k| {
            (code.to_string(), guid(k))
        })
}

/// The id of the coded record `code` among `codes`.
fn code_id(codes: &[Code], code: &str) -> String {
    codes
        .iter()
        .find(|c| c.code == code)
        .map_or(EMPTY_GUID.to_string(), |c| guid(c.erp_key))
}

/// Writes the world's ERP side into `bc`.
pub(crate) fn render(world: &World, bc: &mut Store) -> Rendered {
    for u in &world.users {
        let Some(sp) = &u.salesperson else {
            continue;
        };
        let id = guid(sp.erp_key);
        let f = json!({
            "id": id, "code": sp.code, "displayName": u.name, "email": u.email, "email2": "", "phoneNo": u.mobile,
            "jobTitle": sp.job_title, "commisionPercent": sp.commission_percent, "privacyBlocked": false, "blocked": false,
            "lastModifiedDateTime": timestamp(u.modified),
        });
        put(bc, "salespeoplePurchasers", &id, f);
    }
    for c in &world.currencies {
        let Some(key) = c.erp_key else {
            continue;
        };
        let id = guid(key);
        let f = json!({
            "id": id, "code": c.code, "displayName": c.name, "symbol": c.symbol, "amountDecimalPlaces": "2:2",
            "amountRoundingPrecision": 0.01, "lastModifiedDateTime": timestamp(c.modified),
        });
        put(bc, "currencies", &id, f);
    }
    for c in &world.customers {
        customer(bc, world, c);
    }
    for v in &world.vendors {
        vendor(bc, world, v);
    }
    catalogue(bc, world);
    super::render_documents::render(world, bc);
    Rendered {
        company_id: guid(world.erp_company),
    }
}

/// A customer in the ERP and its contacts.
fn customer(bc: &mut Store, world: &World, c: &Company) {
    let (Some(erp), Some(number)) = (&c.erp, &c.number) else {
        return;
    };
    let at = timestamp(erp.modified);
    let (code, currency_id) = currency(world, &c.currency);
    let id = guid(erp.key);
    let f = json!({
        "id": id, "number": number, "displayName": c.name, "type": "Company", "addressLine1": c.street,
        "addressLine2": c.street2, "city": c.city, "state": c.state, "country": c.country,
        "postalCode": c.postal_code, "phoneNumber": erp.phone, "email": c.email, "website": c.website,
        "salespersonCode": c.salesperson.as_deref().unwrap_or(""), "balanceDue": erp.balance_due,
        "creditLimit": c.credit_limit, "taxLiable": c.tax_liable, "currencyId": currency_id, "currencyCode": code,
        "blocked": " ", "lastModifiedDateTime": at,
        "paymentTermsId": code_id(&world.payment_terms, &c.payment_terms),
        "shipmentMethodId": code_id(&world.shipment_methods, &c.shipment_method),
        "paymentTermsCode": c.payment_terms, "shipmentMethodCode": c.shipment_method,
        "shippingAgentCode": c.shipping_agent,
    });
    put(bc, "customers", &id, f);
    for p in &c.people {
        let Some(contact) = &p.erp else {
            continue;
        };
        let cid = guid(contact.key);
        let f = json!({
            "id": cid, "number": contact.number, "type": "Person",
            "displayName": format!("{} {}", p.first_name, p.last_name),
            "jobTitle": p.job_title, "companyNumber": number, "companyName": c.name, "contactBusinessRelation": "Customer",
            "addressLine1": c.street, "addressLine2": c.street2, "city": c.city, "state": c.state, "country": c.country,
            "postalCode": c.postal_code, "phoneNumber": c.phone, "mobilePhoneNumber": p.mobile, "email": p.email,
            "privacyBlocked": false, "lastModifiedDateTime": at,
        });
        put(bc, "contacts", &cid, f);
    }
}

/// A vendor in the ERP.
fn vendor(bc: &mut Store, world: &World, v: &Vendor) {
    let Some(erp) = &v.erp else {
        return;
    };
    let (code, currency_id) = currency(world, &v.currency);
    let id = guid(erp.key);
    let f = json!({
        "id": id, "number": v.number, "displayName": v.name, "addressLine1": v.street, "addressLine2": "",
        "city": v.city, "state": v.state, "country": v.country, "postalCode": v.postal_code, "phoneNumber": v.phone,
        "email": v.email, "website": v.website,
        "taxRegistrationNumber": "", "currencyId": currency_id, "currencyCode": code,
        "paymentTermsId": EMPTY_GUID, "paymentTermsCode": v.payment_terms, "taxLiable": v.tax_liable,
        "blocked": " ", "balance": erp.balance,
        "lastModifiedDateTime": timestamp(erp.modified),
    });
    put(bc, "vendors", &id, f);
}

/// Items, resources, customer price groups and their prices, and opportunities.
fn catalogue(bc: &mut Store, world: &World) {
    for i in &world.items {
        let id = guid(i.erp_key);
        let f = json!({
            "id": id, "number": i.number, "displayName": i.name,
            "displayName2": "", "type": "Inventory", "itemCategoryCode": "", "blocked": i.blocked, "gtin": "",
            "inventory": i.stock, "unitPrice": i.price, "priceIncludesTax": false, "unitCost": i.cost,
            "baseUnitOfMeasureId": guid(i.unit_key), "baseUnitOfMeasureCode": i.unit, "taxGroupCode": "",
            "lastModifiedDateTime": timestamp(i.modified),
        });
        put(bc, "items", &id, f);
    }
    for r in &world.resources {
        let id = guid(r.erp_key);
        let f = json!({
            "id": id, "number": r.number, "displayName": r.name,
            "type": "Person", "baseUnitOfMeasureCode": r.unit, "unitCost": r.cost, "unitPrice": r.price,
            "capacity": r.capacity, "blocked": false, "lastModifiedDateTime": timestamp(r.modified),
        });
        put(bc, "resources", &id, f);
    }
    for g in &world.price_groups {
        let id = guid(g.erp_key);
        let f = json!({"id": id, "code": g.code, "displayName": g.name, "lastModifiedDateTime": timestamp(g.modified)});
        put(bc, "customerPriceGroups", &id, f);
    }
    for p in &world.group_prices {
        let id = guid(p.erp_key);
        let f = json!({
            "id": id, "itemNumber": p.item, "salesType": "Customer Price Group", "salesCode": p.group,
            "currencyCode": "", "unitOfMeasureCode": p.unit, "minimumQuantity": 0.0,
            "unitPrice": p.price, "lastModifiedDateTime": timestamp(p.modified),
        });
        put(bc, "salesPrices", &id, f);
    }
    for o in &world.opportunities {
        let id = guid(o.erp_key);
        let status = match o.status {
            OpportunityStatus::InProgress => "In Progress",
            OpportunityStatus::NotStarted => "Not Started",
        };
        let f = json!({
            "id": id, "number": o.number, "description": o.description,
            "contactNumber": o.contact, "salespersonCode": o.salesperson, "status": status,
            "estimatedValue": o.estimated_value,
            "estimatedClosingDate": o.closing_date.format("%Y-%m-%d").to_string(),
            "lastModifiedDateTime": timestamp(o.modified),
        });
        put(bc, "opportunities", &id, f);
    }
}
