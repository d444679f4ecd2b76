//! End-to-end: Sales orders become F&O sales orders: in the customer's legal entity, once, an
//! order waiting for a product that is not in F&O yet is created when it arrives, and a crash
//! between the F&O create and the coupling completes the order instead of making a twin.

use std::time::Duration;

use couplet::event::{Fields, OutcomeStatus};
use couplet::sandbox::SandboxConfig;
use couplet::systems::fo::SYSTEM as FO;
use serde_json::json;

use crate::common::*;
use crate::orders_support::{add_line, new_order, obj, submit};

fn fo_orders(h: &Harness, reference: &str) -> Vec<Fields> {
    h.sb.fo_rows("SalesOrderHeadersV2")
        .into_iter()
        .filter(|o| o["CustomersOrderReference"] == json!(reference))
        .collect()
}

fn fo_lines(h: &Harness, company: &str, number: &str) -> Vec<Fields> {
    let mut l: Vec<Fields> =
        h.sb.fo_rows("SalesOrderLines")
            .into_iter()
            .filter(|l| l["dataAreaId"] == json!(company) && l["SalesOrderNumber"] == json!(number))
            .collect();
    l.sort_by(|a, b| {
        a["LineNumber"]
            .as_f64()
            .unwrap()
            .total_cmp(&b["LineNumber"].as_f64().unwrap())
    });
    l
}

/// A coupled account, and two coupled products with their item numbers, and a unit.
fn refs(h: &Harness) -> (String, Vec<(String, String)>, String) {
    let account = h
        .store()
        .couplings(Some("CUSTOMER"))
        .unwrap()
        .into_iter()
        .next()
        .expect("a coupled customer")
        .crm_id;
    let products = h
        .store()
        .couplings(Some("ITEM-PRODUCT"))
        .unwrap()
        .into_iter()
        .take(2)
        .map(|c| {
            let item = FO.decode_id("ReleasedProductsV2", &c.erp_id).unwrap();
            let n = item.value("ItemNumber").unwrap().to_json();
            (c.crm_id, n.as_str().unwrap().to_string())
        })
        .collect();
    // F&O's units are not mapped: the lines carry no Sales unit, and F&O takes the item's.
    (account, products, String::new())
}

fn item_line(product: &str, uom: &str, qty: f64, price: f64) -> serde_json::Value {
    let _ = uom;
    json!({
        "productid@odata.bind": format!("/products({product})"),
        "quantity": qty, "priceperunit": price, "description": "as agreed",
    })
}

async fn fo_harness(seed: u64) -> Harness {
    let mut h = Harness::start_erp(
        "fo",
        SandboxConfig {
            records: 12,
            seed,
            ..Default::default()
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_order_becomes_one_fo_sales_order_in_its_company() {
    let mut h = fo_harness(31).await;
    let (account, products, uom) = refs(&h);
    let order = new_order(&h, &account, "Won: 2 items");
    add_line(&h, &order, 1, item_line(&products[0].0, &uom, 3.0, 12.5));
    add_line(&h, &order, 2, item_line(&products[1].0, &uom, 1.0, 99.0));
    submit(&h, &order);
    let number = text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", &order),
        "ordernumber",
    );
    let header = wait_for(Duration::from_secs(30), || {
        fo_orders(&h, &number).into_iter().next()
    })
    .await
    .unwrap_or_else(|| panic!("the order did not reach F&O\n{}", h.describe()));
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(fo_orders(&h, &number).len(), 1, "one order");
    let customer = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &account);
    assert_eq!(
        format!(
            "dataAreaId={},CustomerAccount={}",
            text(&header, "dataAreaId"),
            text(&header, "OrderingCustomerAccountNumber")
        ),
        customer,
        "the customer's own company and account"
    );
    assert_eq!(header["SalesOrderName"], json!("Won: 2 items"));
    let lines = fo_lines(
        &h,
        &text(&header, "dataAreaId"),
        &text(&header, "SalesOrderNumber"),
    );
    let got: Vec<(String, f64, f64)> = lines
        .iter()
        .map(|l| {
            (
                text(l, "ItemNumber"),
                l["OrderedSalesQuantity"].as_f64().unwrap(),
                l["SalesPrice"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (products[0].1.clone(), 3.0, 12.5),
            (products[1].1.clone(), 1.0, 99.0)
        ]
    );
    let created = h
        .outcomes()
        .await
        .into_iter()
        .filter(|o| {
            o.mapping == "SALESORDER" && o.source.id == order && o.status == OutcomeStatus::Created
        })
        .count();
    assert_eq!(created, 1);
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_waits_for_a_product_f_and_o_does_not_have_yet() {
    let mut h = fo_harness(32).await;
    let (account, products, uom) = refs(&h);
    // A product sold in Sales that F&O has not released yet.
    let product =
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "products",
            obj(json!({"name": "Cable kit", "productnumber": "CK-100", "producttypecode": 1})),
        )
        .unwrap();
    let order = new_order(&h, &account, "Needs a new item");
    add_line(&h, &order, 1, item_line(&products[0].0, &uom, 1.0, 5.0));
    add_line(&h, &order, 2, item_line(&product, &uom, 2.0, 30.0));
    submit(&h, &order);
    let record = format!("dataverse/salesorders/{order}");
    wait_for(Duration::from_secs(30), || {
        h.store()
            .parked()
            .unwrap()
            .into_iter()
            .find(|p| p.record == record)
    })
    .await
    .unwrap_or_else(|| panic!("the order is not parked\n{}", h.describe()));
    let number = text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", &order),
        "ordernumber",
    );
    assert!(fo_orders(&h, &number).is_empty());

    // F&O releases the item: it is coupled to the Sales product by its number, and the order
    // is re-driven and created whole.
    h.sb.fo_insert_row(
        "ReleasedProductsV2",
        obj(json!({"dataAreaId": "usmf", "ItemNumber": "CK-100", "ProductName": "Cable kit",
            "ProductType": "Item", "SalesPrice": 30.0, "SalesUnitSymbol": "ea", "InventoryUnitSymbol": "ea"})),
    )
    .unwrap();
    let header = wait_for(Duration::from_secs(40), || {
        fo_orders(&h, &number).into_iter().next()
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "the order was not created after the item arrived\n{}",
            h.describe()
        )
    });
    h.wait_idle(IDLE_TIMEOUT).await;
    let lines = fo_lines(&h, "usmf", &text(&header, "SalesOrderNumber"));
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["ItemNumber"], json!("CK-100"));
    assert!(h.store().parked().unwrap().is_empty(), "{}", h.describe());
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_created_before_a_crash_is_completed_not_twinned() {
    let mut h = fo_harness(33).await;
    let (account, products, uom) = refs(&h);
    let customer = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &account);
    let key = FO.decode_id("CustomersV3", &customer).unwrap();
    let company = key
        .value("dataAreaId")
        .unwrap()
        .to_json()
        .as_str()
        .unwrap()
        .to_string();
    let account_no = key
        .value("CustomerAccount")
        .unwrap()
        .to_json()
        .as_str()
        .unwrap()
        .to_string();
    let order = new_order(&h, &account, "Crash in the middle");
    add_line(&h, &order, 1, item_line(&products[0].0, &uom, 4.0, 10.0));
    add_line(&h, &order, 2, item_line(&products[1].0, &uom, 2.0, 20.0));
    let number = text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", &order),
        "ordernumber",
    );
    // What an attempt that crashed after the header and its first line left in F&O.
    h.stop_engine().await;
    let header =
        h.sb.fo_insert_row(
            "SalesOrderHeadersV2",
            obj(
                json!({"dataAreaId": company, "OrderingCustomerAccountNumber": account_no,
                "CustomersOrderReference": number, "CurrencyCode": "USD"}),
            ),
        )
        .unwrap();
    let so = text(&header, "SalesOrderNumber");
    h.sb.fo_insert_row(
        "SalesOrderLines",
        obj(
            json!({"dataAreaId": company, "SalesOrderNumber": so, "LineNumber": 1.0,
            "ItemNumber": products[0].1, "OrderedSalesQuantity": 4.0, "SalesPrice": 10.0}),
        ),
    )
    .unwrap();
    h.start_engine().await;
    submit(&h, &order);
    wait_for(Duration::from_secs(30), || {
        h.coupling("SALESORDER", couplet::systems::DATAVERSE, &order)
    })
    .await
    .unwrap_or_else(|| panic!("the order was not coupled\n{}", h.describe()));
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(fo_orders(&h, &number).len(), 1, "no twin");
    let lines = fo_lines(&h, &company, &so);
    assert_eq!(lines.len(), 2, "the missing line was added");
    assert_eq!(lines[1]["ItemNumber"], json!(products[1].1));
    let coupled = h
        .outcomes()
        .await
        .into_iter()
        .filter(|o| {
            o.mapping == "SALESORDER" && o.source.id == order && o.status == OutcomeStatus::Coupled
        })
        .count();
    assert_eq!(coupled, 1, "found and completed");
    h.stop_engine().await;
}
