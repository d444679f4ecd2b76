//! Tests of the world and its renderers: the seeded documents are as described.

use chrono::Utc;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::*;
use crate::event::Fields;
use crate::sandbox::config::SandboxConfig;
use crate::sandbox::table::Store;
use crate::sandbox::{bc, dataverse};

fn rows(s: &Store, set: &str) -> Vec<Fields> {
    s.table(set)
        .map(|t| t.live().iter().map(|(_, r)| r.fields.clone()).collect())
        .unwrap_or_default()
}

fn text<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).and_then(Value::as_str).unwrap_or("")
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
