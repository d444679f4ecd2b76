//! Sales orders from Business Central back to Sales, end to end against the sandbox with the
//! full catalogue: an order made in Sales and created in BC by Couplet is released, shipped in
//! two parts and invoiced in BC; the Dataverse order follows with its header values, one post
//! per BC document on its timeline (each once, naming the BC number) and its state (Submitted,
//! Fulfilled, Invoiced). A BC order not from Sales is not synchronised back.

use std::time::Duration;

use crate::common::{Harness, IDLE_TIMEOUT, text, wait_until};
use crate::orders_support::{
    add_line, bc_orders_with_ref, coupled_refs, obj, product_line, submit,
};
use couplet::event::{Fields, OutcomeStatus};
use couplet::orders::back::decide::{INVOICE_TEXT, RELEASED_TEXT, SHIPMENT_TEXT};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(30);

fn posts(h: &Harness, order: &str) -> Vec<String> {
    let mut p: Vec<String> =
        h.sb.rows(couplet::systems::DATAVERSE, "posts")
            .into_iter()
            .filter(|p| text(p, "_regardingobjectid_value") == order)
            .map(|p| text(&p, "text"))
            .collect();
    p.sort();
    p
}

fn state(h: &Harness, order: &str) -> (i64, i64) {
    let o = h.row(couplet::systems::DATAVERSE, "salesorders", order);
    (
        o["statecode"].as_i64().unwrap_or(-1),
        o["statuscode"].as_i64().unwrap_or(-1),
    )
}

fn dv_order(h: &Harness, order: &str) -> Fields {
    h.row(couplet::systems::DATAVERSE, "salesorders", order)
}

/// The outcomes of a BC order, for failure messages.
async fn trail(h: &Harness, bc_id: &str) -> String {
    h.outcomes()
        .await
        .iter()
        .filter(|o| o.source.id == bc_id)
        .map(|o| format!("{:?} {}\n", o.status, o.reason.as_deref().unwrap_or("")))
        .collect()
}

async fn wait_posts(h: &Harness, order: &str, bc_id: &str, n: usize, what: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    while posts(h, order).len() < n {
        if std::time::Instant::now() > deadline {
            panic!(
                "timed out after {WAIT:?}: {what}; posts {:?}; outcomes:\n{}{}",
                posts(h, order),
                trail(h, bc_id).await,
                h.describe()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_shipments_and_invoice_flow_back_to_sales() {
    let mut h = Harness::start_full_catalogue(3, 67).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (account, _customer, product, uom, _item) = coupled_refs(&h);

    // An order made in Sales, submitted, created in BC by Couplet.
    let order = crate::orders_support::new_order_for(
        &h,
        (
            "customerid_account@odata.bind",
            format!("/accounts({account})"),
        ),
        "PO 8100",
        json!({"requestdeliveryby": "2027-01-15"}),
    );
    add_line(&h, &order, 1, product_line(&product, &uom, 3.0, 10.0));
    add_line(&h, &order, 2, product_line(&product, &uom, 2.0, 5.0));
    submit(&h, &order);
    let number = crate::orders_support::order_number(&h, &order);
    // The header appears before its lines: wait for the whole order (the coupling is recorded
    // once every line is in).
    wait_until(WAIT, "the order is created in BC", || {
        let n = bc_orders_with_ref(&h, &number).len();
        let coupled = h
            .coupling("SALESORDER", couplet::systems::DATAVERSE, &order)
            .is_some();
        async move { n == 1 && coupled }
    })
    .await;
    let bc = bc_orders_with_ref(&h, &number).remove(0);
    let (bc_id, bc_no) = (text(&bc, "id"), text(&bc, "number"));
    assert_eq!(bc["totalAmountExcludingTax"], json!(40.0));
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(state(&h, &order), (1, 3), "still Submitted");
    assert!(
        posts(&h, &order).is_empty(),
        "nothing posted before release"
    );

    // 1. Release: one post naming the BC order; released header values flow back while the
    // order stays Submitted.
    h.sb.release_sales_order(&bc_id).unwrap();
    wait_posts(&h, &order, &bc_id, 1, "the release post").await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let p = posts(&h, &order);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(RELEASED_TEXT) && p[0].contains(&bc_no),
        "{p:?}"
    );
    let o = dv_order(&h, &order);
    assert_eq!(o["totalamount"], json!(40.0), "{}", trail(&h, &bc_id).await);
    assert_eq!(o["totalamountlessfreight"], json!(40.0));
    assert_eq!(text(&o, "requestdeliveryby"), "2027-01-15");
    assert!(o["datefulfilled"].is_null());
    assert_eq!(state(&h, &order), (1, 3));

    // A new requested delivery date in BC flows back (the Submitted order set Active for the
    // edit, then Submitted again).
    h.sb.update_row(
        couplet::systems::BC,
        "salesOrders",
        &bc_id,
        obj(json!({"requestedDeliveryDate": "2027-02-01"})),
    )
    .unwrap();
    wait_until(WAIT, "the requested delivery date flows back", || {
        let d = text(&dv_order(&h, &order), "requestdeliveryby");
        async move { d == "2027-02-01" }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(state(&h, &order), (1, 3));
    assert_eq!(posts(&h, &order).len(), 1);

    // 2. A partial shipment: its post, the last shipment date; still Submitted.
    let s1 = h.sb.ship_sales_order(&bc_id, &[(10000, 1.0)]).unwrap();
    wait_posts(&h, &order, &bc_id, 2, "the first shipment's post").await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let p = posts(&h, &order);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter()
            .any(|t| t.starts_with(SHIPMENT_TEXT) && t.contains(&s1) && t.contains(&bc_no)),
        "{p:?}"
    );
    let bc = h.row(couplet::systems::BC, "salesOrders", &bc_id);
    assert_eq!(bc["fullyShipped"], json!(false));
    let shipped_on = text(&bc, "lastShipmentDate");
    assert_eq!(text(&dv_order(&h, &order), "datefulfilled"), shipped_on);
    assert_eq!(
        state(&h, &order),
        (1, 3),
        "partly shipped is still Submitted"
    );

    // 3. The shipped unit invoiced: the invoice's post; still Submitted.
    let i1 = h.sb.invoice_sales_order(&bc_id, &[]).unwrap();
    wait_posts(&h, &order, &bc_id, 3, "the first invoice's post").await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let p = posts(&h, &order);
    assert!(
        p.iter()
            .any(|t| t.starts_with(INVOICE_TEXT) && t.contains(&i1.number) && t.contains(&bc_no)),
        "{p:?}"
    );
    assert_eq!(
        state(&h, &order),
        (1, 3),
        "partly invoiced is still Submitted"
    );

    // 4. The rest shipped: Fulfilled (Complete).
    let s2 = h.sb.ship_sales_order(&bc_id, &[]).unwrap();
    assert_ne!(s1, s2);
    wait_until(WAIT, "the order is Fulfilled", || {
        let s = state(&h, &order);
        async move { s == (3, 100001) }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let p = posts(&h, &order);
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(p.iter().any(|t| t.contains(&s2)), "{p:?}");

    // 5. A change of the BC order that brings nothing new posts nothing twice.
    h.sb.update_row(
        couplet::systems::BC,
        "salesOrders",
        &bc_id,
        obj(json!({"externalDocumentNumber": "PO 8100 (rev)"})),
    )
    .unwrap();
    let before = h
        .outcomes()
        .await
        .iter()
        .filter(|o| o.source.id == bc_id && o.target_system == couplet::systems::DATAVERSE)
        .count();
    wait_until(WAIT, "the BC change is handled", || {
        let h = &h;
        let id = bc_id.clone();
        async move {
            h.outcomes()
                .await
                .iter()
                .filter(|o| o.source.id == id && o.target_system == couplet::systems::DATAVERSE)
                .count()
                > before
        }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(posts(&h, &order).len(), 4, "no post written twice");
    assert_eq!(state(&h, &order), (3, 100001));
    let last = h
        .outcomes()
        .await
        .into_iter()
        .rfind(|o| o.source.id == bc_id && o.target_system == couplet::systems::DATAVERSE)
        .unwrap();
    assert_eq!(last.status, OutcomeStatus::Unchanged, "{last:?}");

    // 6. The rest invoiced through the API's bound action: BC deletes the order after
    // posting; its posted invoice brings the last post and Invoiced.
    let bc_client = h
        .engine()
        .parts()
        .targets
        .erp
        .client::<couplet::systems::BcClient>()
        .unwrap()
        .clone();
    let url = format!(
        "{}companies({})/salesOrders({bc_id})/Microsoft.NAV.shipAndInvoice",
        h.sb.bc_api_url(),
        h.sb.bc_company_id()
    );
    let resp = bc_client
        .api()
        .send("action", |c| {
            c.post(&url)
                .header("content-type", "application/json")
                .body("{}")
        })
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert!(
        h.sb.row(couplet::systems::BC, "salesOrders", &bc_id)
            .is_none(),
        "deleted after posting"
    );
    let i2 =
        h.sb.rows(couplet::systems::BC, "salesInvoices")
            .into_iter()
            .filter(|i| text(i, "orderNumber") == bc_no)
            .map(|i| text(&i, "number"))
            .find(|n| *n != i1.number)
            .expect("the second posted invoice of the order");
    wait_until(WAIT, "the order is Invoiced", || {
        let s = state(&h, &order);
        async move { s == (4, 100003) }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let p = posts(&h, &order);
    assert_eq!(p.len(), 5, "{p:?}");
    assert!(
        p.iter()
            .any(|t| t.starts_with(INVOICE_TEXT) && t.contains(&i2)),
        "{p:?}"
    );
    let mut unique = p.clone();
    unique.dedup();
    assert_eq!(unique, p, "each post once");
    // The account's wall: "Order '…' has been posted in Business Central", once per posted
    // invoice.
    let on_account: Vec<String> =
        h.sb.rows(couplet::systems::DATAVERSE, "posts")
            .into_iter()
            .filter(|r| text(r, "_regardingobjectid_value") == account)
            .map(|r| text(&r, "text"))
            .collect();
    assert_eq!(on_account.len(), 2, "{on_account:?}");
    for inv in [&i1.number, &i2] {
        assert!(
            on_account
                .iter()
                .any(|t| t.contains("has been posted in Business Central")
                    && t.contains(inv.as_str())),
            "{on_account:?}"
        );
    }
    // Couplet's own writes to the Dataverse order never went back to Business Central: the
    // order was created there once, and nothing else was written to BC for it.
    let to_bc: Vec<OutcomeStatus> = h
        .outcomes()
        .await
        .into_iter()
        .filter(|o| o.source.id == order && o.target_system == couplet::systems::BC)
        .map(|o| o.status)
        .filter(|s| !matches!(s, OutcomeStatus::Filtered | OutcomeStatus::Unchanged))
        .collect();
    assert_eq!(to_bc, vec![OutcomeStatus::Created], "no echo to BC");
    // Dataverse edits only Active orders (why Couplet sets the order Active to write).
    let e = h
        .engine()
        .parts()
        .targets
        .crm
        .update(
            "salesorders",
            &order,
            &obj(json!({"description": "late edit"})),
            None,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Read-Only"), "{e}");

    // 7. A BC order not from Sales is not synchronised back.
    let cust = h.store().couplings(Some("CUSTOMER")).unwrap().remove(0);
    let customer_no = text(
        &h.row(couplet::systems::BC, "customers", &cust.erp_id),
        "number",
    );
    let native =
        h.sb.insert_row(
            couplet::systems::BC,
            "salesOrders",
            obj(json!({"customerNumber": customer_no})),
        )
        .unwrap();
    let line = obj(json!({"sequence": 10000, "lineType": "Account",
        "lineObjectNumber": "6120", "quantity": 1, "unitPrice": 9}));
    h.engine()
        .parts()
        .targets
        .erp
        .create(&format!("salesOrders({native})/salesOrderLines"), &line)
        .await
        .unwrap();
    h.sb.ship_and_invoice_sales_order(&native).unwrap();
    wait_until(WAIT, "the BC-only order is seen and filtered", || {
        let h = &h;
        let id = native.clone();
        async move {
            h.outcomes().await.iter().any(|o| {
                o.source.id == id
                    && o.status == OutcomeStatus::Filtered
                    && o.reason
                        .as_deref()
                        .unwrap_or("")
                        .contains("did not come from Sales")
            })
        }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert!(
        h.outcomes()
            .await
            .iter()
            .filter(|o| o.source.id == native)
            .all(|o| o.status == OutcomeStatus::Filtered),
        "nothing written for the BC-only order"
    );
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
}
