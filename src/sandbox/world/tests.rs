//! Tests of the world and its renderers: generating and rendering are deterministic, both
//! renderers render every record of their side, and the seeded documents are as described.

use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::*;
use crate::event::Fields;
use crate::sandbox::config::SandboxConfig;
use crate::sandbox::table::Store;
use crate::sandbox::{bc, dataverse};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn rows(s: &Store, set: &str) -> Vec<Fields> {
    s.table(set)
        .map(|t| t.live().iter().map(|(_, r)| r.fields.clone()).collect())
        .unwrap_or_default()
}

fn count(s: &Store, set: &str) -> usize {
    rows(s, set).len()
}

fn text<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).and_then(Value::as_str).unwrap_or("")
}

fn rendered(world: &World) -> (Store, Store) {
    let (mut dv, mut bc) = (Store::default(), Store::default());
    dataverse::render::render(world, &mut dv);
    bc::render::render(world, &mut bc);
    (dv, bc)
}

#[test]
fn generating_and_rendering_a_small_world_is_deterministic() {
    let cfg = SandboxConfig {
        seed: 5,
        records: 60,
        ..Default::default()
    };
    let now = at("2026-02-01T08:00:00Z");
    let world = generate(&cfg, "app-id", now);
    assert_eq!(world, generate(&cfg, "app-id", now));
    assert_ne!(
        world,
        generate(&SandboxConfig { seed: 6, ..cfg }, "app-id", now)
    );
    let (dv, bc) = rendered(&world);
    let (dv2, bc2) = rendered(&world);
    assert_eq!(dv.digest(), dv2.digest());
    assert_eq!(bc.digest(), bc2.digest());
}

#[test]
fn both_renderers_render_every_record_of_their_side() {
    let cfg = SandboxConfig {
        seed: 8,
        records: 120,
        ..Default::default()
    };
    let world = generate(&cfg, "app-id", at("2026-02-01T08:00:00Z"));
    let (dv, bc) = rendered(&world);
    let presence = |p: Presence| {
        world
            .customers
            .iter()
            .filter(|c| Presence::of(c.crm.is_some(), c.erp.is_some()) == Some(p))
            .count()
    };
    let (both, crm_only, erp_only) = (
        presence(Presence::Both),
        presence(Presence::CrmOnly),
        presence(Presence::ErpOnly),
    );
    assert!(both > 0 && crm_only > 0 && erp_only > 0);
    assert_eq!(both + crm_only + erp_only, world.customers.len());

    // Customers and their people, per presence.
    let accounts = rows(&dv, "accounts");
    let kind = |k: i64| {
        accounts
            .iter()
            .filter(move |a| a["customertypecode"] == json!(k))
    };
    assert_eq!(kind(3).count(), both + crm_only);
    assert_eq!(
        kind(3).filter(|a| !a["accountnumber"].is_null()).count(),
        both
    );
    assert_eq!(count(&bc, "customers"), both + erp_only);
    let people = |on: fn(&Company) -> bool| {
        world
            .customers
            .iter()
            .filter(|c| on(c))
            .map(|c| c.people.len())
            .sum::<usize>()
    };
    assert_eq!(count(&dv, "contacts"), people(|c| c.crm.is_some()));
    assert_eq!(count(&bc, "contacts"), people(|c| c.erp.is_some()));
    let customers = rows(&bc, "customers");
    for c in &world.customers {
        let on_crm =
            kind(3).any(|a| a["name"] == json!(c.name) && a["accountnumber"] == json!(c.number));
        assert_eq!(on_crm, c.crm.is_some(), "{}", c.name);
        let on_erp = customers
            .iter()
            .any(|r| r["displayName"] == json!(c.name) && r["number"] == json!(c.number));
        assert_eq!(on_erp, c.erp.is_some(), "{}", c.name);
    }

    // Vendors, per presence.
    let vendors = |p: Presence| {
        world
            .vendors
            .iter()
            .filter(|v| v.presence() == Some(p))
            .count()
    };
    let (v_both, v_crm, v_erp) = (
        vendors(Presence::Both),
        vendors(Presence::CrmOnly),
        vendors(Presence::ErpOnly),
    );
    assert_eq!(kind(11).count(), v_both + v_crm);
    assert_eq!(
        kind(11).filter(|a| !a["accountnumber"].is_null()).count(),
        v_both
    );
    assert_eq!(count(&bc, "vendors"), v_both + v_erp);

    // Users and currencies.
    assert_eq!(count(&dv, "systemusers"), world.users.len() + 1);
    let salespeople = world
        .users
        .iter()
        .filter(|u| u.salesperson.is_some())
        .count();
    assert_eq!(count(&bc, "salespeoplePurchasers"), salespeople);
    assert_eq!(count(&dv, "transactioncurrencies"), world.currencies.len());
    let foreign = world
        .currencies
        .iter()
        .filter(|c| c.erp_key.is_some())
        .count();
    assert_eq!(count(&bc, "currencies"), foreign);

    // The catalogue (ERP side) and the CRM's own price list.
    assert_eq!(count(&bc, "items"), world.items.len());
    assert_eq!(count(&bc, "resources"), world.resources.len());
    assert_eq!(count(&bc, "customerPriceGroups"), world.price_groups.len());
    assert_eq!(count(&bc, "salesPrices"), world.group_prices.len());
    assert_eq!(count(&bc, "opportunities"), world.opportunities.len());
    assert_eq!(count(&bc, "priceListHeaders"), world.price_lists.len());
    assert_eq!(count(&bc, "priceListLines"), world.price_list_lines.len());
    assert_eq!(count(&dv, "pricelevels"), 1);

    // Documents.
    assert!(!world.orders.is_empty() && !world.quotes.is_empty() && !world.invoices.is_empty());
    assert_eq!(count(&dv, "salesorders"), world.orders.len());
    let order_lines: usize = world.orders.iter().map(|o| o.lines.len()).sum();
    assert_eq!(count(&dv, "salesorderdetails"), order_lines);
    assert_eq!(count(&dv, "quotes"), world.quotes.len());
    assert_eq!(count(&bc, "salesInvoices"), world.invoices.len());
    let invoice_lines: usize = world.invoices.iter().map(|i| i.lines.len()).sum();
    assert_eq!(count(&bc, "salesInvoiceLines"), invoice_lines);
    assert_eq!(count(&bc, "itemLedgerEntries"), world.opening_stock.len());
    let paid = rows(&bc, "salesInvoices")
        .iter()
        .filter(|i| text(i, "status") == "Paid")
        .count();
    let full = world
        .invoices
        .iter()
        .filter(|i| i.payment == Payment::Full)
        .count();
    assert_eq!(paid, full);
}

#[test]
fn orders_are_seeded_for_customers_half_submitted_with_drafts_carrying_lines() {
    let cfg = SandboxConfig {
        records: 200,
        ..Default::default()
    };
    let (mut dv, mut bc) = (Store::default(), Store::default());
    crate::sandbox::seed::seed(
        &cfg,
        &crate::sandbox::seed::credentials(cfg.seed),
        &mut dv,
        &mut bc,
    );
    let orders = dv.table("salesorders").unwrap().live();
    assert_eq!(orders.len(), 20);
    let submitted: Vec<_> = orders
        .iter()
        .filter(|(_, r)| r.fields["statecode"] == json!(1))
        .collect();
    assert_eq!(submitted.len(), 10);
    let accounts = dv.table("accounts").unwrap();
    let is_customer = |row: &crate::sandbox::table::Row| {
        let kind = row.fields.get("customertypecode");
        row.fields.get("statecode").and_then(Value::as_i64) == Some(0)
            && (matches!(kind, None | Some(Value::Null)) || kind.and_then(Value::as_i64) == Some(3))
    };
    for (_, o) in &orders {
        let account = accounts.get(text(&o.fields, "_customerid_value")).unwrap();
        assert!(is_customer(account));
        assert!(text(&o.fields, "ordernumber").starts_with("ORD-"));
    }
    let lines = dv.table("salesorderdetails").unwrap().live();
    let parents: std::collections::HashSet<&str> = lines
        .iter()
        .map(|(_, l)| text(&l.fields, "_salesorderid_value"))
        .collect();
    assert_eq!(parents.len(), 10, "every draft has lines");
    assert!(submitted.iter().all(|(id, _)| !parents.contains(id)));
    // No customers, no orders.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let inputs = gen_documents::Inputs {
        records: 50,
        users: 1,
        customers: &[],
        items: &[],
        now: Utc::now(),
    };
    let none = gen_documents::orders(&mut rng, &inputs, "USD");
    assert!(none.is_empty());
    let mut world = generate(&SandboxConfig::default(), "app-id", Utc::now());
    world.orders = none;
    let mut empty = Store::default();
    dataverse::render::render(&world, &mut empty);
    assert!(empty.table("salesorders").is_none());
}

#[test]
fn quotes_are_seeded_half_active_with_numbers() {
    let cfg = SandboxConfig {
        records: 40,
        seed: 3,
        ..Default::default()
    };
    let (mut dv, mut bc) = (Store::default(), Store::default());
    crate::sandbox::seed::seed(
        &cfg,
        &crate::sandbox::seed::credentials(cfg.seed),
        &mut dv,
        &mut bc,
    );
    let quotes = rows(&dv, "quotes");
    assert_eq!(quotes.len(), 2);
    let active = quotes.iter().filter(|q| q["statecode"] == 1).count();
    assert_eq!(active, 1);
    assert!(quotes.iter().all(
        |q| q["quotenumber"].as_str().unwrap().starts_with("QUO-") && q["revisionnumber"] == 0
    ));
}

#[test]
fn price_lists_grow_with_records_and_hold_lines_the_filters_leave_out() {
    let now = Utc::now();
    let items: Vec<Item> = (1..=100)
        .map(|i| Item {
            number: format!("I{i:05}"),
            name: String::new(),
            unit: "PCS".into(),
            cost: 0.0,
            price: 10.0 * i as f64,
            blocked: false,
            stock: 0.0,
            modified: now,
            erp_key: Key([0; 16]),
            unit_key: Key([0; 16]),
        })
        .collect();
    let resource = Resource {
        number: "R00001".into(),
        name: String::new(),
        unit: "HOUR".into(),
        cost: 0.0,
        price: 0.0,
        capacity: 0.0,
        modified: now,
        erp_key: Key([0; 16]),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (lists, lines) = gen_pricelists::price_lists(&mut rng, 1000, &items, &[resource], now);
    let mut bc = Store::default();
    bc::render_documents::price_lists(&lists, &lines, &mut bc);
    let headers = rows(&bc, "priceListHeaders");
    let sale_price = |r: &Fields| r["priceType"] == "Sale" && r["amountType"] == "Price";
    assert_eq!(headers.iter().filter(|r| sale_price(r)).count(), 10);
    assert_eq!(headers.len(), 12);
    for h in &headers {
        let code = h["code"].as_str().unwrap();
        assert!(code.starts_with('S') || code.starts_with('P'), "{code}");
        assert!(!["RETAIL", "WHOLESALE", "EXPORT"].contains(&code));
    }
    let lines = rows(&bc, "priceListLines");
    let carried = lines
        .iter()
        .filter(|r| sale_price(r) && r["assetType"] == "Item" && r["minimumQuantity"] == 0.0)
        .count();
    assert_eq!(carried, 50);
    assert!(lines.len() > carried + 10);
    // Every line's price list exists.
    for l in &lines {
        assert!(headers.iter().any(|h| h["code"] == l["priceListCode"]));
    }
}
