//! Rendering the sandbox's [`World`] into the Dataverse emulator's tables: its users as
//! `systemusers`, currencies as `transactioncurrencies`, the CRM's customers and vendors as
//! `accounts` (customer type 3 and 11) with their people as `contacts`, its own price list
//! as a `pricelevel`, and its orders (with write-in lines) and quotes. Record ids are the
//! world's CRM keys as GUIDs; coded values become Dataverse option values. Rendering draws
//! nothing: the same world always makes the same rows.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::LOGICAL_NAME;
use super::schema::{ACCOUNT, CONTACT, SYSTEMUSER, TRANSACTIONCURRENCY};
use super::schema_orders::{SALESORDER, SALESORDERDETAIL};
use super::schema_quotes::QUOTE;
use super::schema_sales::PRICELEVEL;
use super::write::{Stamp, create};
use crate::event::Fields;
use crate::sandbox::table::Store;
use crate::sandbox::world::{Company, Key, Order, Quote, Vendor, World};

/// `paymenttermscode` option value of each payment terms code.
const PAYMENT_TERMS: &[(&str, i64)] = &[("NET30", 1), ("2%10NET30", 2), ("NET45", 3), ("NET60", 4)];
/// `address1_freighttermscode` option value of each shipment method code.
const FREIGHT_TERMS: &[(&str, i64)] = &[("FOB", 1), ("NOCHARGE", 2)];
/// `address1_shippingmethodcode` option value of each shipping agent code.
const SHIPPING_METHODS: &[(&str, i64)] = &[
    ("AIRBORNE", 1),
    ("DHL", 2),
    ("FEDEX", 3),
    ("UPS", 4),
    ("POSTAL", 5),
    ("FULLLOAD", 6),
    ("WILLCALL", 7),
];

/// The description of the CRM's own price list: where it was made.
const PRICE_LIST_ORIGIN: &str = "Created in Dataverse";

/// Ids the Dataverse server needs after rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    /// The integration user's `systemuserid`.
    pub app_user: String,
    /// The first human user's `systemuserid`.
    pub human_user: String,
}

/// A world key as a Dataverse record id.
fn guid(key: Key) -> String {
    key.uuid().to_string()
}

fn option(options: &[(&str, i64)], code: &str) -> Value {
    options
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(Value::Null, |(_, v)| json!(v))
}

fn obj(v: Value) -> Fields {
    v.as_object().cloned().unwrap_or_default()
}

/// Adds the annotation naming `lookup`'s target table.
fn annotate(f: &mut Fields, lookup: &str, logical: &str) {
    f.insert(format!("{lookup}{LOGICAL_NAME}"), json!(logical));
}

/// What the rendering of one record needs to know of the others.
struct Ids {
    /// Dataverse ids of the world's users, in order.
    users: Vec<String>,
    /// ISO code → `transactioncurrencyid`.
    currencies: HashMap<String, String>,
}

impl Ids {
    fn user(&self, index: usize) -> String {
        self.users.get(index).cloned().unwrap_or_default()
    }
}

/// Writes the world's CRM side into `dv`.
pub(crate) fn render(world: &World, dv: &mut Store) -> Rendered {
    let mut ids = Ids {
        users: world.users.iter().map(|u| guid(u.crm_key)).collect(),
        currencies: HashMap::new(),
    };
    for (u, id) in world.users.iter().zip(&ids.users) {
        let f = obj(json!({
            "fullname": u.name, "internalemailaddress": u.email, "isdisabled": false, "islicensed": true,
            "isintegrationuser": false, "mobilephone": u.mobile, "applicationid": null,
        }));
        let stamp = Stamp {
            user: id.clone(),
            at: u.modified,
        };
        create(dv, &SYSTEMUSER, id, f, &stamp);
    }
    let app = &world.integration_user;
    let app_user = guid(app.crm_key);
    let f = obj(json!({
        "fullname": app.name, "internalemailaddress": app.email, "isdisabled": false, "islicensed": false,
        "isintegrationuser": false, "mobilephone": null, "applicationid": app.app_id,
    }));
    let stamp = Stamp {
        user: app_user.clone(),
        at: app.modified,
    };
    create(dv, &SYSTEMUSER, &app_user, f, &stamp);
    for c in &world.currencies {
        let id = guid(c.crm_key);
        let f = obj(json!({
            "isocurrencycode": c.code, "currencyname": c.name, "currencysymbol": c.symbol, "exchangerate": c.rate,
        }));
        let stamp = Stamp {
            user: ids.user(0),
            at: c.modified,
        };
        create(dv, &TRANSACTIONCURRENCY, &id, f, &stamp);
        ids.currencies.insert(c.code.clone(), id);
    }
    for c in &world.customers {
        customer(dv, &ids, c);
    }
    for v in &world.vendors {
        vendor(dv, &ids, v);
    }
    let list = &world.crm_price_list;
    let mut f = obj(json!({
        "name": list.name, "description": PRICE_LIST_ORIGIN, "statecode": 0,
        "_transactioncurrencyid_value": ids.currencies.get(&list.currency).cloned().unwrap_or_default(),
    }));
    annotate(
        &mut f,
        "_transactioncurrencyid_value",
        "transactioncurrency",
    );
    let stamp = Stamp {
        user: ids.user(list.owner),
        at: list.modified,
    };
    create(dv, &PRICELEVEL, &guid(list.crm_key), f, &stamp);
    for o in &world.orders {
        if let Some(c) = world.customers.get(o.customer) {
            order(dv, &ids, o, c);
        }
    }
    for q in &world.quotes {
        if let Some(c) = world.customers.get(q.customer) {
            quote(dv, &ids, q, c);
        }
    }
    Rendered {
        app_user,
        human_user: ids.user(0),
    }
}

/// A customer in the CRM: its account (customer type 3) and its contacts.
fn customer(dv: &mut Store, ids: &Ids, c: &Company) {
    let Some(crm) = &c.crm else {
        return;
    };
    let stamp = Stamp {
        user: ids.user(crm.owner),
        at: crm.modified,
    };
    let account_id = guid(crm.key);
    let contact_ids: Vec<String> = c
        .people
        .iter()
        .filter_map(|p| p.crm_key.map(guid))
        .collect();
    let currency = ids.currencies.get(&c.currency).cloned().unwrap_or_default();
    let street2 = if c.street2.is_empty() {
        Value::Null
    } else {
        json!(c.street2)
    };
    let mut f = obj(json!({
        "name": c.name, "accountnumber": c.number, "telephone1": c.phone, "emailaddress1": c.email,
        "websiteurl": c.website, "address1_line1": c.street, "address1_line2": street2,
        "address1_city": c.city, "address1_stateorprovince": c.state, "address1_postalcode": c.postal_code,
        "address1_country": c.country, "creditlimit": c.credit_limit, "customertypecode": 3,
        "_ownerid_value": stamp.user,
        "paymenttermscode": option(PAYMENT_TERMS, &c.payment_terms),
        "address1_freighttermscode": option(FREIGHT_TERMS, &c.shipment_method),
        "address1_shippingmethodcode": option(SHIPPING_METHODS, &c.shipping_agent),
        "_transactioncurrencyid_value": currency,
        "_primarycontactid_value": contact_ids.first(),
    }));
    annotate(
        &mut f,
        "_transactioncurrencyid_value",
        "transactioncurrency",
    );
    annotate(&mut f, "_primarycontactid_value", "contact");
    create(dv, &ACCOUNT, &account_id, f, &stamp);
    for (p, id) in c.people.iter().zip(&contact_ids) {
        let mut f = obj(json!({
            "firstname": p.first_name, "lastname": p.last_name, "emailaddress1": p.email,
            "jobtitle": p.job_title, "telephone1": c.phone, "mobilephone": p.mobile,
            "address1_line1": c.street, "address1_city": c.city, "address1_stateorprovince": c.state,
            "address1_postalcode": c.postal_code, "address1_country": c.country,
            "_parentcustomerid_value": account_id, "_transactioncurrencyid_value": currency,
        }));
        annotate(&mut f, "_parentcustomerid_value", "account");
        annotate(
            &mut f,
            "_transactioncurrencyid_value",
            "transactioncurrency",
        );
        create(dv, &CONTACT, id, f, &stamp);
    }
}

/// A vendor in the CRM: an account of customer type 11, with the vendor number when the
/// vendor is in the ERP too.
fn vendor(dv: &mut Store, ids: &Ids, v: &Vendor) {
    let Some(crm) = &v.crm else {
        return;
    };
    let user = ids.user(crm.owner);
    let mut f = obj(json!({
        "name": v.name, "accountnumber": v.crm_number(),
        "telephone1": v.phone, "emailaddress1": v.email, "websiteurl": v.website,
        "address1_line1": v.street, "address1_city": v.city, "address1_stateorprovince": v.state,
        "address1_postalcode": v.postal_code, "address1_country": v.country, "customertypecode": 11,
        "paymenttermscode": option(PAYMENT_TERMS, &v.payment_terms), "_ownerid_value": user,
        "_transactioncurrencyid_value": ids.currencies.get(&v.currency).cloned().unwrap_or_default(),
    }));
    annotate(
        &mut f,
        "_transactioncurrencyid_value",
        "transactioncurrency",
    );
    let stamp = Stamp {
        user,
        at: crm.modified,
    };
    create(dv, &ACCOUNT, &guid(crm.key), f, &stamp);
}

/// Sets a document's currency lookup, when the currency is known.
fn currency(f: &mut Fields, ids: &Ids, code: &str) {
    if let Some(id) = ids.currencies.get(code) {
        f.insert("_transactioncurrencyid_value".into(), json!(id));
        annotate(f, "_transactioncurrencyid_value", "transactioncurrency");
    }
}

/// A sales order (submitted: statecode 1, statuscode 3; draft: 0, 1) and its write-in
/// lines; Dataverse numbers it.
fn order(dv: &mut Store, ids: &Ids, o: &Order, c: &Company) {
    let Some(crm) = &c.crm else {
        return;
    };
    let id = guid(o.crm_key);
    let stamp = Stamp {
        user: ids.user(o.owner),
        at: o.created,
    };
    let mut f = obj(json!({
        "name": o.name,
        "_customerid_value": guid(crm.key),
        "requestdeliveryby": o.requested_delivery.format("%Y-%m-%d").to_string(),
        "paymenttermscode": option(PAYMENT_TERMS, &c.payment_terms),
        "shipto_city": c.city,
        "_ownerid_value": stamp.user,
        "statecode": if o.submitted { 1 } else { 0 },
        "statuscode": if o.submitted { 3 } else { 1 },
    }));
    annotate(&mut f, "_customerid_value", "account");
    currency(&mut f, ids, &o.currency);
    create(dv, &SALESORDER, &id, f, &stamp);
    for l in &o.lines {
        let mut f = obj(json!({
            "_salesorderid_value": id,
            "sequencenumber": l.sequence,
            "isproductoverridden": true,
            "productdescription": l.description,
            "quantity": l.quantity,
            "priceperunit": l.unit_price,
        }));
        annotate(&mut f, "_salesorderid_value", "salesorder");
        create(dv, &SALESORDERDETAIL, &guid(l.crm_key), f, &stamp);
    }
}

/// A quote (active: statecode 1, statuscode 2; draft: 0, 1); Dataverse numbers it.
fn quote(dv: &mut Store, ids: &Ids, q: &Quote, c: &Company) {
    let Some(crm) = &c.crm else {
        return;
    };
    let stamp = Stamp {
        user: ids.user(q.owner),
        at: q.created,
    };
    let mut f = obj(json!({
        "name": q.name,
        "_customerid_value": guid(crm.key),
        "effectiveto": q.valid_until.format("%Y-%m-%d").to_string(),
        "shipto_city": c.city,
        "_ownerid_value": stamp.user,
        "statecode": if q.active { 1 } else { 0 },
        "statuscode": if q.active { 2 } else { 1 },
    }));
    annotate(&mut f, "_customerid_value", "account");
    currency(&mut f, ids, &q.currency);
    create(dv, &QUOTE, &guid(q.crm_key), f, &stamp);
}
