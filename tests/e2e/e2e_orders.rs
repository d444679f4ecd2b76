//! Sales orders from Dataverse to Business Central, end to end against the sandbox with the
//! full catalogue: a submitted order becomes one BC order with its lines in order, write-in
//! lines and long descriptions, an order BC made before a crash is found (no twin), and an
//! order BC rejects is listed in the errors list with BC's message.

use std::time::Duration;

use crate::common::{Harness, IDLE_TIMEOUT, text, wait_until};
use crate::orders_support::{
    add_line, bc_lines, bc_orders_with_ref, coupled_refs, new_order, obj, submit,
};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submitted_orders_become_bc_orders_once() {
    let mut h = Harness::start_full_catalogue(3, 61).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (account, customer, product, uom, item_no) = coupled_refs(&h);

    // 1. Without a write-in item configured, an order with a write-in line fails, saying so.
    let o1 = new_order(&h, &account, "PO 4711");
    add_line(
        &h,
        &o1,
        2,
        json!({"isproductoverridden": true, "productdescription": "Installation", "quantity": 1, "priceperunit": 80}),
    );
    add_line(
        &h,
        &o1,
        1,
        json!({
            "productid@odata.bind": format!("/products({product})"),
            "uomid@odata.bind": format!("/uoms({uom})"),
            "quantity": 3, "priceperunit": 10, "manualdiscountamount": 2,
            "description": format!("{}\nsecond line", "long text ".repeat(15)),
        }),
    );
    submit(&h, &o1);
    let key1 = format!("dataverse/salesorders/{o1}");
    wait_until(Duration::from_secs(30), "the write-in order fails", || {
        let found = h.store().errors().unwrap().iter().any(|e| e.record == key1);
        async move { found }
    })
    .await;
    let err = h
        .store()
        .errors()
        .unwrap()
        .into_iter()
        .find(|e| e.record == format!("dataverse/salesorders/{o1}"))
        .unwrap();
    assert!(format!("{err:?}").contains("write_in_product"), "{err:?}");
    let ordernumber = text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", &o1),
        "ordernumber",
    );
    assert!(bc_orders_with_ref(&h, &ordernumber).is_empty());

    // 2. With one configured, the order (re-read by a restart's full read) is created whole:
    // lines in sequencenumber order, the long description on comment lines.
    h.stop_engine().await;
    h.orders.write_in_product = Some(item_no.clone());
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "salesorders",
        &o1,
        obj(json!({"description": "retry"})),
    )
    .unwrap();
    h.start_engine().await;
    wait_until(
        Duration::from_secs(30),
        "the order is created in BC",
        || {
            let n = bc_orders_with_ref(&h, &ordernumber).len();
            async move { n == 1 }
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let orders = bc_orders_with_ref(&h, &ordernumber);
    assert_eq!(orders.len(), 1);
    let bc = &orders[0];
    assert_eq!(text(bc, "customerId"), customer);
    assert_eq!(text(bc, "externalDocumentNumber"), "PO 4711");
    assert_eq!(text(bc, "shipToCity"), "Seattle");
    let lines = bc_lines(&h, &text(bc, "id"));
    let kinds: Vec<String> = lines.iter().map(|l| text(l, "lineType")).collect();
    assert_eq!(
        kinds,
        ["Item", "Comment", "Comment", "Comment", "Item"],
        "{lines:?}"
    );
    assert_eq!(lines[0]["quantity"], json!(3.0));
    assert_eq!(lines[0]["discountAmount"], json!(2.0));
    assert!(
        lines[1..4]
            .iter()
            .all(|l| text(l, "description").chars().count() <= 100)
    );
    assert_eq!(text(&lines[3], "description"), "second line");
    assert_eq!(text(&lines[4], "description"), "Installation");
    assert_eq!(text(&lines[4], "lineObjectNumber"), item_no);
    assert_eq!(
        h.coupled_id("SALESORDER", couplet::systems::DATAVERSE, &o1),
        text(bc, "id")
    );

    // 3. A crash after BC made the order but before the coupling was recorded: the order is
    // in BC (header only), not coupled. Submitting finds and completes it.
    let o2 = new_order(&h, &account, "PO 4712");
    add_line(
        &h,
        &o2,
        1,
        json!({"productid@odata.bind": format!("/products({product})"), "quantity": 1, "priceperunit": 5}),
    );
    add_line(
        &h,
        &o2,
        2,
        json!({"productid@odata.bind": format!("/products({product})"), "quantity": 2, "priceperunit": 5}),
    );
    let n2 = text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", &o2),
        "ordernumber",
    );
    let made = h
        .sb
        .insert_row(
            couplet::systems::BC,
            "salesOrders",
            obj(json!({"customerId": customer, "yourReference": n2, "externalDocumentNumber": "PO 4712"})),
        )
        .unwrap();
    submit(&h, &o2);
    wait_until(Duration::from_secs(30), "the made order is coupled", || {
        let c = h.coupling("SALESORDER", couplet::systems::DATAVERSE, &o2);
        async move { c.is_some() }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(bc_orders_with_ref(&h, &n2).len(), 1, "no twin");
    assert_eq!(
        h.coupled_id("SALESORDER", couplet::systems::DATAVERSE, &o2),
        made
    );
    assert_eq!(bc_lines(&h, &made).len(), 2);

    // 4. BC rejects an order of a blocked customer: in the errors list with BC's message.
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &customer,
        obj(json!({"blocked": "All"})),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    let o3 = new_order(&h, &account, "PO 4713");
    add_line(
        &h,
        &o3,
        1,
        json!({"productid@odata.bind": format!("/products({product})"), "quantity": 1, "priceperunit": 5}),
    );
    submit(&h, &o3);
    let key3 = format!("dataverse/salesorders/{o3}");
    wait_until(Duration::from_secs(30), "the blocked order fails", || {
        let found = h.store().errors().unwrap().iter().any(|e| e.record == key3);
        async move { found }
    })
    .await;
    let err = h
        .store()
        .errors()
        .unwrap()
        .into_iter()
        .find(|e| e.record == format!("dataverse/salesorders/{o3}"))
        .unwrap();
    let shown = format!("{err:?}");
    assert!(shown.contains("is blocked with type All"), "{shown}");
    let n3 = text(
        &h.row(couplet::systems::DATAVERSE, "salesorders", &o3),
        "ordernumber",
    );
    assert!(bc_orders_with_ref(&h, &n3).is_empty());
}
