//! The rest of the sales order flow, end to end against the sandbox with the full catalogue:
//! `couplet orders create-in-erp` with automatic creation off (nothing before it runs, once
//! however often it runs), an order parked until its customer is coupled, an order Business
//! Central rejects retried after the cause is fixed, a contact customer resolved to its
//! parent account, and freight and the header discount carried over.

use std::time::Duration;

use crate::common::{Harness, IDLE_TIMEOUT, text, wait_until};
use crate::orders_support::{
    add_line, bc_lines, bc_orders_with_ref, config_file, coupled_refs, error_of, new_order,
    new_order_for, obj, order_number, product_line, submit,
};
use couplet::cli::args::CreateInErpArgs;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_in_erp_creates_an_order_once_when_automatic_creation_is_off() {
    let mut h = Harness::start_full_catalogue(3, 63).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.stop_engine().await;
    h.orders.auto_create = false;
    h.start_engine().await;
    let (account, customer, product, uom, item_no) = coupled_refs(&h);

    let order = new_order(&h, &account, "PO 5001");
    add_line(&h, &order, 1, product_line(&product, &uom, 2.0, 7.5));
    add_line(
        &h,
        &order,
        2,
        json!({"isproductoverridden": true, "productdescription": "Setup", "quantity": 1, "priceperunit": 30}),
    );
    submit(&h, &order);
    let number = order_number(&h, &order);
    let key = format!("dataverse/salesorders/{order}");
    wait_until(
        Duration::from_secs(30),
        "the submitted order is seen",
        || {
            let seen = h.audit(&key).iter().any(|a| a.contains("auto_create"));
            async move { seen }
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert!(
        bc_orders_with_ref(&h, &number).is_empty(),
        "created without the command"
    );
    assert!(
        h.coupling("SALESORDER", couplet::systems::DATAVERSE, &order)
            .is_none()
    );

    // The command (no running instance: it runs the stages itself) creates it.
    h.stop_engine().await;
    let config = config_file(
        &h,
        &format!("auto_create = false\nwrite_in_product = \"{item_no}\""),
    );
    let args = |order: &str| CreateInErpArgs {
        order: order.to_string(),
        config: config.clone(),
        timeout_secs: 60,
    };
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(["orders", "create-in-erp", &order, "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made = bc_orders_with_ref(&h, &number);
    assert_eq!(made.len(), 1);
    let bc_id = text(&made[0], "id");
    assert_eq!(text(&made[0], "customerId"), customer);
    let lines = bc_lines(&h, &bc_id);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["quantity"], json!(2.0));
    assert_eq!(text(&lines[1], "description"), "Setup");
    // What was created, as printed.
    assert!(shown.contains(": created"), "{shown}");
    assert!(
        shown.contains(&format!(
            "Business Central sales order {}",
            text(&made[0], "number")
        )),
        "{shown}"
    );
    assert!(
        shown.contains("2 line(s); lines excl. tax 45.00"),
        "{shown}"
    );

    // Again, by its order number: nothing new.
    assert!(
        couplet::cli::orders::create_in_erp(&args(&number))
            .await
            .unwrap()
    );
    assert_eq!(bc_orders_with_ref(&h, &number).len(), 1);
    assert_eq!(bc_lines(&h, &bc_id).len(), 2);

    // The engine, restarted, carries on from there: still one order, coupled, audited.
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(bc_orders_with_ref(&h, &number).len(), 1);
    assert_eq!(
        h.coupled_id("SALESORDER", couplet::systems::DATAVERSE, &order),
        bc_id
    );
    let audit = h.audit(&key);
    assert!(audit.iter().any(|a| a.contains("created")), "{audit:?}");

    // An order not submitted is refused, saying so.
    let draft = new_order(&h, &account, "PO 5002");
    h.stop_engine().await;
    let e = couplet::cli::orders::create_in_erp(&args(&draft))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not submitted"), "{e}");
    let e = couplet::cli::orders::create_in_erp(&args("ORD-NOPE"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no Dataverse sales order"), "{e}");

    // Requested while its customer is not coupled yet: parked, and created when the customer
    // couples, though automatic creation is off (the request is kept by order id).
    let account =
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            obj(json!({"name": "Late Customer Inc", "customertypecode": 3})),
        )
        .unwrap();
    let late = new_order(&h, &account, "PO 5003");
    add_line(&h, &late, 1, product_line(&product, &uom, 1.0, 3.0));
    submit(&h, &late);
    let late_number = order_number(&h, &late);
    assert!(
        !couplet::cli::orders::create_in_erp(&args(&late))
            .await
            .unwrap(),
        "parked, not created"
    );
    assert!(bc_orders_with_ref(&h, &late_number).is_empty());
    h.start_engine().await;
    wait_until(
        Duration::from_secs(30),
        "the requested order is created",
        || {
            let n = bc_orders_with_ref(&h, &late_number).len();
            async move { n == 1 }
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let made = bc_orders_with_ref(&h, &late_number);
    assert_eq!(made.len(), 1);
    assert_eq!(
        text(&made[0], "customerId"),
        h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &account)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_waits_for_its_customer_and_a_rejected_order_is_retried() {
    let mut h = Harness::start_full_catalogue(3, 64).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (_, _, product, uom, _) = coupled_refs(&h);

    // 1. A customer Business Central refuses (name too long): the order parks naming it.
    let long_name = format!("Parked Co {}", "Very Long Name ".repeat(8))
        .trim()
        .to_string();
    let account =
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            obj(json!({"name": long_name, "customertypecode": 3})),
        )
        .unwrap();
    let account_key = format!("dataverse/accounts/{account}");
    wait_until(Duration::from_secs(30), "the account fails", || {
        let failed = error_of(&h, &account_key).is_some();
        async move { failed }
    })
    .await;
    let order = new_order(&h, &account, "PO 6001");
    add_line(&h, &order, 1, product_line(&product, &uom, 1.0, 9.0));
    submit(&h, &order);
    let number = order_number(&h, &order);
    let key = format!("dataverse/salesorders/{order}");
    wait_until(Duration::from_secs(30), "the order parks", || {
        let parked = h
            .store()
            .parked()
            .unwrap()
            .into_iter()
            .find(|p| p.record == key);
        async move { parked.is_some() }
    })
    .await;
    let parked = h
        .store()
        .parked()
        .unwrap()
        .into_iter()
        .find(|p| p.record == key)
        .unwrap();
    assert!(
        parked.reason.contains(&account) && parked.waiting_for.contains(&account),
        "{parked:?}"
    );
    assert!(bc_orders_with_ref(&h, &number).is_empty());

    // The customer is corrected and coupled: the order is created without anyone asking.
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &account,
        obj(json!({"name": "Parked Co"})),
    )
    .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the parked order is created",
        || {
            let n = bc_orders_with_ref(&h, &number).len();
            async move { n == 1 }
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let customer = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &account);
    let made = bc_orders_with_ref(&h, &number);
    assert_eq!(made.len(), 1);
    assert_eq!(text(&made[0], "customerId"), customer);
    assert!(h.store().parked().unwrap().iter().all(|p| p.record != key));

    // 2. A line of quantity 0: Business Central rejects it; the errors list has its message
    // and field, and no half order is left in Business Central.
    let order = new_order(&h, &account, "PO 6002");
    add_line(&h, &order, 1, product_line(&product, &uom, 2.0, 4.0));
    let bad_line =
        h.sb.insert_row(couplet::systems::DATAVERSE, "salesorderdetails", {
            let mut l = obj(product_line(&product, &uom, 0.0, 4.0));
            l.insert(
                "salesorderid@odata.bind".into(),
                json!(format!("/salesorders({order})")),
            );
            l.insert("sequencenumber".into(), json!(2));
            l
        })
        .unwrap();
    submit(&h, &order);
    let number = order_number(&h, &order);
    let key = format!("dataverse/salesorders/{order}");
    wait_until(Duration::from_secs(30), "the order is rejected", || {
        let failed = error_of(&h, &key).is_some();
        async move { failed }
    })
    .await;
    let err = h
        .store()
        .errors()
        .unwrap()
        .into_iter()
        .find(|e| e.record == key)
        .unwrap();
    assert!(err.reason.contains("must be positive"), "{err:?}");
    assert!(err.reason.contains("Business Central rejected"), "{err:?}");
    assert!(
        err.field
            .as_deref()
            .is_some_and(|f| f.to_lowercase().contains("quantity")),
        "{err:?}"
    );
    assert!(bc_orders_with_ref(&h, &number).is_empty());

    // The line is corrected; `couplet errors retry` creates the order once.
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "salesorderdetails",
        &bad_line,
        obj(json!({"quantity": 3})),
    )
    .unwrap();
    h.stop_engine().await;
    let config = config_file(&h, "");
    couplet::cli::inspect::retry(&config, Some(&key))
        .await
        .unwrap();
    h.start_engine().await;
    wait_until(
        Duration::from_secs(30),
        "the retried order is created",
        || {
            let n = bc_orders_with_ref(&h, &number).len();
            async move { n == 1 }
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let made = bc_orders_with_ref(&h, &number);
    assert_eq!(made.len(), 1);
    let lines = bc_lines(&h, &text(&made[0], "id"));
    let qty: Vec<f64> = lines
        .iter()
        .map(|l| l["quantity"].as_f64().unwrap())
        .collect();
    assert_eq!(qty, [2.0, 3.0]);
    assert!(error_of(&h, &key).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_customer_resolves_to_its_account_with_freight_and_discount() {
    let mut h = Harness::start_full_catalogue(3, 65).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.stop_engine().await;
    h.orders.freight_account = Some("6120".into());
    h.start_engine().await;
    let (account, customer, product, uom, item_no) = coupled_refs(&h);
    let contact =
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "contacts",
            obj(json!({
                "firstname": "Dana", "lastname": "Buyer",
                "parentcustomerid_account@odata.bind": format!("/accounts({account})"),
            })),
        )
        .unwrap();
    let order = new_order_for(
        &h,
        (
            "customerid_contact@odata.bind",
            format!("/contacts({contact})"),
        ),
        "PO 7001",
        json!({"freightamount": 15, "discountamount": 5, "discountpercentage": 10}),
    );
    add_line(&h, &order, 1, product_line(&product, &uom, 2.0, 50.0));
    submit(&h, &order);
    let number = order_number(&h, &order);
    wait_until(Duration::from_secs(30), "the order is created", || {
        let n = bc_orders_with_ref(&h, &number).len();
        async move { n == 1 }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let made = bc_orders_with_ref(&h, &number);
    assert_eq!(
        text(&made[0], "customerId"),
        customer,
        "the contact's account"
    );
    let bc_id = text(&made[0], "id");
    // 5 + 10 % of the line total 100.
    assert_eq!(made[0]["discountAmount"], json!(15.0), "{:?}", made[0]);
    let lines = bc_lines(&h, &bc_id);
    let kinds: Vec<(String, String)> = lines
        .iter()
        .map(|l| (text(l, "lineType"), text(l, "lineObjectNumber")))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Item".to_string(), item_no.clone()),
            ("Account".to_string(), "6120".to_string())
        ],
        "{lines:?}"
    );
    assert_eq!(lines[1]["unitPrice"].as_f64(), Some(15.0));
    assert_eq!(lines[1]["quantity"].as_f64(), Some(1.0));
}
