//! End-to-end: F&O sales prices in Sales. The initial synchronisation makes every customer
//! price group of the legal entity a price list and every price-group sales price agreement
//! an item of that list (its product, its unit, the list's currency, the rounded price), each
//! coupled once; a price changed in F&O reaches its item on the mapping's schedule.

use std::sync::Arc;
use std::time::Duration;

use couplet::event::Fields;
use couplet::sandbox::SandboxConfig;
use couplet::systems::DATAVERSE;
use couplet::systems::fo::SYSTEM as FO;
use serde_json::{Value, json};

use crate::common::*;

/// The mappings the test runs: the shipped F&O defaults, the schedules every 2 seconds.
fn fast_mappings(dir: &std::path::Path) -> std::path::PathBuf {
    let text = couplet::systems::fo::system::MAPPINGS.replace("every = \"15m\"", "every = \"2s\"");
    assert!(
        text.contains("every = \"2s\""),
        "the defaults have schedules"
    );
    let path = dir.join("fo-mappings.toml");
    std::fs::write(&path, text).expect("mapping file written");
    path
}

fn usmf(h: &Harness, set: &str) -> Vec<Fields> {
    h.sb.fo_rows(set)
        .into_iter()
        .filter(|r| r.get("dataAreaId") == Some(&json!("usmf")))
        .collect()
}

fn text<'a>(r: &'a Fields, name: &str) -> &'a str {
    r.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn rounded(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The usmf agreements of a customer price group.
fn group_prices(h: &Harness) -> Vec<Fields> {
    usmf(h, "SalesPriceAgreements")
        .into_iter()
        .filter(|p| !text(p, "PriceCustomerGroupCode").is_empty())
        .collect()
}

/// The price list item coupled to an agreement, when there is one.
fn item_of(h: &Harness, agreement: &Fields) -> Option<Fields> {
    let erp_id = FO.record_id("SalesPriceAgreements", agreement)?;
    let c = h
        .store()
        .coupling("SALESPRC-PRODPRICE", FO, &erp_id)
        .ok()??;
    h.sb.row(DATAVERSE, "productpricelevels", &c.crm_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_groups_and_their_prices_become_price_lists_and_items() {
    let files = tempfile::tempdir().expect("temporary directory");
    let mappings = fast_mappings(files.path());
    let tweak: Tweak = Arc::new(move |cfg| cfg.sync.mapping_file = Some(mappings.clone()));
    let mut h = Harness::start_erp_with(
        "fo",
        SandboxConfig {
            records: 24,
            seed: 8,
            ..Default::default()
        },
        Some(tweak),
    )
    .await;
    let agreements = group_prices(&h);
    assert!(!agreements.is_empty(), "the sandbox seeds group prices");
    wait_for(Duration::from_secs(60), || {
        agreements
            .iter()
            .all(|a| item_of(&h, a).is_some())
            .then_some(())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "not every group price is a price list item\n{}",
            h.describe()
        )
    });
    h.wait_idle(IDLE_TIMEOUT).await;

    // Every usmf price group is a price list in the local currency.
    let lists = h.sb.rows(DATAVERSE, "pricelevels");
    let currencies = h.sb.rows(DATAVERSE, "transactioncurrencies");
    let iso_of = |id: &Value| {
        currencies
            .iter()
            .find(|c| &c["transactioncurrencyid"] == id)
            .map(|c| c["isocurrencycode"].clone())
    };
    let groups = usmf(&h, "PriceCustomerGroups");
    assert!(!groups.is_empty());
    for g in &groups {
        let code = text(g, "GroupCode");
        let list: Vec<_> = lists.iter().filter(|l| l["name"] == json!(code)).collect();
        assert_eq!(list.len(), 1, "price group {code} is one price list");
        assert_eq!(list[0]["description"], g["GroupName"]);
        assert_eq!(
            iso_of(&list[0]["_transactioncurrencyid_value"]),
            Some(json!("USD"))
        );
        let id = h.coupled_id(
            "CUSTPRCGRP-PRICE",
            FO,
            &FO.record_id("PriceCustomerGroups", g).unwrap(),
        );
        assert_eq!(list[0]["pricelevelid"], json!(id));
    }

    // Every group price is one item: its group's list, its product, its unit, its amount.
    let products = h.sb.rows(DATAVERSE, "products");
    let units = h.sb.rows(DATAVERSE, "uoms");
    let schedules = h.sb.rows(DATAVERSE, "uomschedules");
    let items = h.sb.rows(DATAVERSE, "productpricelevels");
    assert_eq!(items.len(), agreements.len(), "one item per group price");
    let coupled = h
        .store()
        .couplings(Some("SALESPRC-PRODPRICE"))
        .expect("couplings");
    assert_eq!(
        coupled.len(),
        agreements.len(),
        "each group price coupled once"
    );
    for a in &agreements {
        let item = item_of(&h, a).expect("coupled item");
        let group = text(a, "PriceCustomerGroupCode");
        let list = lists.iter().find(|l| l["name"] == json!(group)).unwrap();
        assert_eq!(item["_pricelevelid_value"], list["pricelevelid"]);
        assert_eq!(
            iso_of(&list["_transactioncurrencyid_value"]),
            Some(a["PriceCurrencyCode"].clone()),
            "the item's currency is its list's"
        );
        let product = products
            .iter()
            .find(|p| p["productnumber"] == a["ItemNumber"])
            .unwrap_or_else(|| panic!("item {} is a product", a["ItemNumber"]));
        assert_eq!(item["_productid_value"], product["productid"]);
        let unit = units
            .iter()
            .find(|u| u["uomid"] == item["_uomid_value"])
            .expect("the item has a unit");
        let symbol = text(a, "QuantityUnitySymbol");
        assert_eq!(unit["name"], json!(symbol));
        let group_of_unit = schedules
            .iter()
            .find(|s| s["uomscheduleid"] == unit["_uomscheduleid_value"])
            .expect("the unit is in a unit group");
        assert_eq!(group_of_unit["name"], json!(format!("FO {symbol} UOM GR")));
        assert_eq!(
            item["amount"].as_f64(),
            Some(rounded(a["Price"].as_f64().unwrap()))
        );
        assert_eq!(item["pricingmethodcode"], json!(1));
    }

    // A price changed in F&O reaches its item on the schedule.
    let a = &agreements[0];
    let record = a["RecordId"].as_i64().unwrap();
    h.sb.fo_update_row(
        "SalesPriceAgreements",
        &format!("dataAreaId='usmf',RecordId={record}"),
        json!({"Price": 123.456}).as_object().cloned().unwrap(),
    )
    .unwrap();
    wait_for(Duration::from_secs(30), || {
        item_of(&h, a).filter(|i| i["amount"].as_f64() == Some(123.46))
    })
    .await
    .unwrap_or_else(|| panic!("the new price reaches its item\n{}", h.describe()));
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        h.sb.rows(DATAVERSE, "productpricelevels").len(),
        agreements.len(),
        "an update makes no new item"
    );
    let store = h.store();
    assert!(
        store.errors().unwrap().is_empty() && store.parked().unwrap().is_empty(),
        "nothing in error or parked\n{}",
        h.describe()
    );
    h.stop_engine().await;
}
