//! Shared by the sales order tests: coupled references, Dataverse orders and lines made in
//! the sandbox, and the Business Central orders and lines read back.

use couplet::event::Fields;
use serde_json::{Value, json};

use crate::common::{Harness, text};

pub fn obj(v: Value) -> Fields {
    v.as_object().cloned().unwrap()
}

/// A coupled (account, BC customer) and a coupled (product, uom, BC item number).
pub fn coupled_refs(h: &Harness) -> (String, String, String, String, String) {
    let cust = h
        .store()
        .couplings(Some("CUSTOMER"))
        .unwrap()
        .into_iter()
        .next()
        .expect("a coupled customer");
    let prod = h
        .store()
        .couplings(Some("ITEM-PRODUCT"))
        .unwrap()
        .into_iter()
        .next()
        .expect("a coupled product");
    let product = h.row(couplet::systems::DATAVERSE, "products", &prod.crm_id);
    let uom = text(&product, "_defaultuomid_value");
    let item = h.row(couplet::systems::BC, "items", &prod.erp_id);
    (
        cust.crm_id,
        cust.erp_id,
        prod.crm_id,
        uom,
        text(&item, "number"),
    )
}

pub fn new_order(h: &Harness, account: &str, name: &str) -> String {
    h.sb.insert_row(
        couplet::systems::DATAVERSE,
        "salesorders",
        obj(json!({
            "name": name,
            "customerid_account@odata.bind": format!("/accounts({account})"),
            "shipto_city": "Seattle",
        })),
    )
    .unwrap()
}

pub fn add_line(h: &Harness, order: &str, seq: i64, line: Value) {
    let mut body = obj(line);
    body.insert(
        "salesorderid@odata.bind".into(),
        json!(format!("/salesorders({order})")),
    );
    body.insert("sequencenumber".into(), json!(seq));
    h.sb.insert_row(couplet::systems::DATAVERSE, "salesorderdetails", body)
        .unwrap();
}

pub fn submit(h: &Harness, order: &str) {
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "salesorders",
        order,
        obj(json!({"statecode": 1, "statuscode": 3})),
    )
    .unwrap();
}

pub fn bc_orders_with_ref(h: &Harness, reference: &str) -> Vec<Fields> {
    h.sb.rows(couplet::systems::BC, "salesOrders")
        .into_iter()
        .filter(|o| text(o, "yourReference") == reference)
        .collect()
}

pub fn bc_lines(h: &Harness, order_id: &str) -> Vec<Fields> {
    let mut l: Vec<Fields> =
        h.sb.rows(couplet::systems::BC, "salesOrderLines")
            .into_iter()
            .filter(|l| text(l, "documentId") == order_id)
            .collect();
    l.sort_by_key(|l| l["sequence"].as_f64().unwrap() as i64);
    l
}

/// A Dataverse order for the customer `bind` (`customerid_account@odata.bind` or
/// `customerid_contact@odata.bind` = `/accounts(..)` or `/contacts(..)`) with `extra` header
/// fields.
pub fn new_order_for(h: &Harness, bind: (&str, String), name: &str, extra: Value) -> String {
    let mut body = obj(extra);
    body.insert("name".into(), json!(name));
    body.insert(bind.0.into(), json!(bind.1));
    h.sb.insert_row(couplet::systems::DATAVERSE, "salesorders", body)
        .unwrap()
}

/// A product line: `quantity` of `product` in `uom` at `price`.
pub fn product_line(product: &str, uom: &str, quantity: f64, price: f64) -> Value {
    json!({
        "productid@odata.bind": format!("/products({product})"),
        "uomid@odata.bind": format!("/uoms({uom})"),
        "quantity": quantity, "priceperunit": price,
    })
}

/// The order number Dataverse gave `order`.
pub fn order_number(h: &Harness, order: &str) -> String {
    text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", order),
        "ordernumber",
    )
}

/// The errors-list entry of `record`, shown with `{:?}`.
pub fn error_of(h: &Harness, record: &str) -> Option<String> {
    h.store()
        .errors()
        .unwrap()
        .into_iter()
        .find(|e| e.record == record)
        .map(|e| format!("{e:?}"))
}

/// A config file for the commands, pointing at the harness's sandbox and data directory,
/// running every default mapping, with `orders` as its `[orders]` section.
pub fn config_file(h: &Harness, orders: &str) -> std::path::PathBuf {
    let path = h.dir.path().join("orders.toml");
    let mut text = couplet::cli::build::sandbox_config_text(&h.sb, h.dir.path());
    let names: Vec<String> = couplet::mapping::Catalogue::defaults()
        .unwrap()
        .ordered()
        .iter()
        .map(|m| format!("\"{}\"", m.name))
        .collect();
    text.push_str(&format!(
        "\n[sync]\nmappings = [{}]\n\n[orders]\n{orders}\n",
        names.join(", ")
    ));
    std::fs::write(&path, text).unwrap();
    path
}
