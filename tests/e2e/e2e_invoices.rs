//! Posted sales invoices from Business Central to Dataverse, end to end against the sandbox
//! with the full catalogue: an invoice posted from an order becomes one Dataverse invoice
//! linked to the order and the account, with a product line and a write-in line, Active /
//! Billed; payments make it Paid / Partial then Paid / Complete; a cancelled invoice becomes
//! Canceled; the account statistics match Business Central's figures; an invoice of a customer
//! not coupled yet is parked, then created; a replayed (stale or current) event and a crash
//! before the coupling make no twin.

use std::time::Duration;

use crate::common::{Harness, IDLE_TIMEOUT, text, wait_until};
use crate::orders_support::{
    bc_orders_with_ref, coupled_refs, new_order, obj, order_number, submit,
};
use couplet::event::{Fields, RecordKey};
use couplet::sandbox::{InvoiceLine, SourceOrder};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn int(f: &Fields, k: &str) -> i64 {
    f.get(k).and_then(Value::as_i64).unwrap_or(-1)
}

fn dv_invoices(h: &Harness, number: &str) -> Vec<Fields> {
    h.sb.rows(couplet::systems::DATAVERSE, "invoices")
        .into_iter()
        .filter(|i| text(i, "invoicenumber") == number)
        .collect()
}

fn dv_lines(h: &Harness, invoice: &str) -> Vec<Fields> {
    let mut l: Vec<Fields> =
        h.sb.rows(couplet::systems::DATAVERSE, "invoicedetails")
            .into_iter()
            .filter(|l| text(l, "_invoiceid_value") == invoice)
            .collect();
    l.sort_by_key(|l| int(l, "lineitemnumber"));
    l
}

async fn wait_coupled(h: &Harness, bc_id: &str) {
    wait_until(WAIT, "the invoice is coupled", || {
        let c = h.coupling("POSTEDSALESINV-INV", couplet::systems::BC, bc_id);
        async move { c.is_some() }
    })
    .await;
}

async fn wait_state(h: &Harness, number: &str, state: (i64, i64)) {
    wait_until(WAIT, &format!("invoice {number} becomes {state:?}"), || {
        let rows = dv_invoices(h, number);
        let ok =
            rows.len() == 1 && (int(&rows[0], "statecode"), int(&rows[0], "statuscode")) == state;
        async move { ok }
    })
    .await;
}

/// Business Central's figures for customer `number`, computed here from its rows.
fn bc_figures(h: &Harness, customer_id: &str) -> (f64, f64, f64, f64) {
    let customer = h.row(couplet::systems::BC, "customers", customer_id);
    let number = text(&customer, "number");
    let sales: f64 =
        h.sb.rows(couplet::systems::BC, "salesInvoices")
            .iter()
            .filter(|i| text(i, "customerNumber") == number && text(i, "status") != "Canceled")
            .map(|i| num(i, "totalAmountExcludingTax"))
            .sum();
    let orders: Vec<String> =
        h.sb.rows(couplet::systems::BC, "salesOrders")
            .iter()
            .filter(|o| text(o, "customerNumber") == number)
            .map(|o| text(o, "id"))
            .collect();
    let outstanding: f64 =
        h.sb.rows(couplet::systems::BC, "salesOrderLines")
            .iter()
            .filter(|l| orders.contains(&text(l, "documentId")))
            .map(|l| num(l, "amountExcludingTax"))
            .sum();
    (
        num(&customer, "balanceDue"),
        (sales * 100.0).round() / 100.0,
        (outstanding * 100.0).round() / 100.0,
        num(&customer, "creditLimit"),
    )
}

/// The account's statistics row, once it shows `balance`.
async fn wait_statistics(h: &Harness, account: &str, balance: f64) -> Fields {
    wait_statistic(h, account, "nav_balancelcy", balance).await
}

/// The account's statistics row, once its `field` is `value`.
async fn wait_statistic(h: &Harness, account: &str, field: &str, value: f64) -> Fields {
    wait_until(
        WAIT,
        &format!("the account statistics show {field} = {value}"),
        || {
            let acc = h.row(couplet::systems::DATAVERSE, "accounts", account);
            let sid = text(&acc, "_nav_accountstatisticsid_value");
            let ok = !sid.is_empty()
                && h.sb
                    .row(couplet::systems::DATAVERSE, "nav_accountstatisticses", &sid)
                    .is_some_and(|s| num(&s, field) == value);
            async move { ok }
        },
    )
    .await;
    let acc = h.row(couplet::systems::DATAVERSE, "accounts", account);
    h.row(
        couplet::systems::DATAVERSE,
        "nav_accountstatisticses",
        &text(&acc, "_nav_accountstatisticsid_value"),
    )
}

async fn replay(h: &Harness, row: Fields) {
    let id = text(&row, "id");
    let ev = couplet::capture::emit::upsert_event(
        "POSTEDSALESINV-INV",
        RecordKey::new(couplet::systems::BC, "salesInvoices", id.clone()),
        row,
    );
    let bytes = couplet::event::avro::encode_change(&ev).unwrap();
    h.bus()
        .produce(
            &h.topics().changes,
            &format!("bc/salesInvoices/{id}"),
            Some(&bytes),
            &[],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posted_invoices_payments_and_statistics() {
    let started = std::time::Instant::now();
    let mut h = Harness::start_full_catalogue(3, 63).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    eprintln!("catalogue idle after {:?}", started.elapsed());
    let (account, customer, product, _uom, item_no) = coupled_refs(&h);
    let customer_no = text(
        &h.row(couplet::systems::BC, "customers", &customer),
        "number",
    );

    // The seeded posted invoices are in Dataverse already, each once and coupled.
    let seeded = h.sb.rows(couplet::systems::BC, "salesInvoices");
    assert!(!seeded.is_empty());
    for inv in &seeded {
        let rows = dv_invoices(&h, &text(inv, "number"));
        assert_eq!(rows.len(), 1, "seeded invoice {}", text(inv, "number"));
        h.coupled_id("POSTEDSALESINV-INV", couplet::systems::BC, &text(inv, "id"));
    }

    // 1. An order made in Dataverse, created in BC, then invoiced in BC: one Dataverse
    // invoice linked to the order and account, a product line and a write-in line, Billed.
    let order = new_order(&h, &account, "PO 9001");
    crate::orders_support::add_line(
        &h,
        &order,
        1,
        json!({"productid@odata.bind": format!("/products({product})"), "quantity": 2, "priceperunit": 10}),
    );
    let owner = text(
        &h.sb.rows(couplet::systems::DATAVERSE, "systemusers")[0],
        "systemuserid",
    );
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "salesorders",
        &order,
        obj(json!({"ownerid@odata.bind": format!("/systemusers({owner})")})),
    )
    .unwrap();
    submit(&h, &order);
    let ordernumber = order_number(&h, &order);
    wait_until(WAIT, "the order is created in BC", || {
        let n = bc_orders_with_ref(&h, &ordernumber).len();
        async move { n == 1 }
    })
    .await;
    let bc_order = bc_orders_with_ref(&h, &ordernumber).remove(0);
    let t0 = std::time::Instant::now();
    let posted =
        h.sb.post_sales_invoice(
            &customer_no,
            &[
                InvoiceLine::item(&item_no, 2.0, 10.0),
                InvoiceLine::other("Account", "6120", "Freight", 1.0, 25.0),
            ],
            Some(&SourceOrder {
                id: text(&bc_order, "id"),
                number: text(&bc_order, "number"),
                your_reference: ordernumber.clone(),
            }),
        )
        .unwrap();
    let bc_snapshot = h.row(couplet::systems::BC, "salesInvoices", &posted.id);
    wait_state(&h, &posted.number, (0, 4)).await;
    eprintln!("posted invoice in Dataverse after {:?}", t0.elapsed());
    wait_coupled(&h, &posted.id).await;
    let inv = dv_invoices(&h, &posted.number).remove(0);
    let inv_id = text(&inv, "invoiceid");
    assert_eq!(text(&inv, "_salesorderid_value"), order);
    assert_eq!(text(&inv, "name"), "PO 9001", "named after its order");
    assert_eq!(
        text(&inv, "_ownerid_value"),
        owner,
        "owner copied from its order"
    );
    assert_eq!(text(&inv, "_customerid_value"), account);
    assert_eq!(num(&inv, "totalamount"), 45.0);
    assert_eq!(
        h.coupled_id("POSTEDSALESINV-INV", couplet::systems::BC, &posted.id),
        inv_id
    );
    let lines = dv_lines(&h, &inv_id);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(text(&lines[0], "_productid_value"), product);
    assert_eq!(lines[0]["isproductoverridden"], json!(false));
    assert_eq!(num(&lines[0], "quantity"), 2.0);
    assert_eq!(num(&lines[0], "extendedamount"), 20.0);
    assert_eq!(lines[1]["isproductoverridden"], json!(true));
    assert_eq!(text(&lines[1], "productdescription"), "6120 Freight");
    assert_eq!(num(&lines[1], "priceperunit"), 25.0);

    // 2. Statistics on the account match Business Central's figures.
    h.wait_idle(IDLE_TIMEOUT).await;
    let (balance, sales, outstanding, credit) = bc_figures(&h, &customer);
    let stats = wait_statistics(&h, &account, balance).await;
    assert_eq!(text(&stats, "nav_customerno"), customer_no);
    assert_eq!(num(&stats, "nav_totalsaleslcy"), sales);
    assert_eq!(num(&stats, "nav_outstandingorderslcy"), outstanding);
    assert_eq!(num(&stats, "nav_creditlimitlcy"), credit);
    assert!(
        sales >= 45.0 && outstanding >= 20.0,
        "{sales} {outstanding}"
    );

    // An order changed in Business Central (a line's quantity, then its header): the
    // outstanding orders follow within seconds.
    let bc_order_id = text(&bc_order, "id");
    let line = crate::orders_support::bc_lines(&h, &bc_order_id).remove(0);
    h.sb.update_row(
        couplet::systems::BC,
        "salesOrderLines",
        &text(&line, "id"),
        obj(json!({"quantity": 5})),
    )
    .unwrap();
    h.sb.update_row(
        couplet::systems::BC,
        "salesOrders",
        &bc_order_id,
        obj(json!({"externalDocumentNumber": "PO 9001-B"})),
    )
    .unwrap();
    let (_, _, outstanding_now, _) = bc_figures(&h, &customer);
    assert_eq!(outstanding_now, outstanding + 30.0);
    let t = std::time::Instant::now();
    wait_statistic(&h, &account, "nav_outstandingorderslcy", outstanding_now).await;
    eprintln!("order change in the statistics after {:?}", t.elapsed());

    // A new credit limit on the customer in Business Central: the statistics follow.
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &customer,
        obj(json!({"creditLimit": credit + 5000.0})),
    )
    .unwrap();
    let t = std::time::Instant::now();
    wait_statistic(&h, &account, "nav_creditlimitlcy", credit + 5000.0).await;
    eprintln!("credit limit in the statistics after {:?}", t.elapsed());

    // 3. A partial payment: Paid / Partial; the statistics follow within seconds.
    let t1 = std::time::Instant::now();
    assert_eq!(
        h.sb.record_customer_payment(&posted.id, 15.0).unwrap(),
        30.0
    );
    wait_state(&h, &posted.number, (2, 100002)).await;
    eprintln!("partial payment in Dataverse after {:?}", t1.elapsed());
    let (balance, ..) = bc_figures(&h, &customer);
    wait_statistics(&h, &account, balance).await;

    // 4. A replayed stale event (the invoice as posted, unpaid) does not set it back.
    replay(&h, bc_snapshot).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    wait_state(&h, &posted.number, (2, 100002)).await;

    // 5. The rest paid: Paid / Complete (from Paid / Partial, through Active as BC does).
    h.sb.record_customer_payment(&posted.id, 30.0).unwrap();
    wait_state(&h, &posted.number, (2, 100001)).await;
    let (balance, ..) = bc_figures(&h, &customer);
    wait_statistics(&h, &account, balance).await;
    // A replay of the current version changes nothing and makes no twin.
    replay(&h, h.row(couplet::systems::BC, "salesInvoices", &posted.id)).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(dv_invoices(&h, &posted.number).len(), 1);
    assert_eq!(dv_lines(&h, &inv_id).len(), 2);
    wait_state(&h, &posted.number, (2, 100001)).await;

    // 6. A cancelled invoice: Canceled / Canceled.
    let second =
        h.sb.post_sales_invoice(&customer_no, &[InvoiceLine::item(&item_no, 1.0, 7.5)], None)
            .unwrap();
    wait_state(&h, &second.number, (0, 4)).await;
    let inv2 = dv_invoices(&h, &second.number).remove(0);
    assert_eq!(
        text(&inv2, "name"),
        second.number,
        "no order: named by number"
    );
    assert!(text(&inv2, "_salesorderid_value").is_empty());
    h.sb.cancel_sales_invoice(&second.id).unwrap();
    wait_state(&h, &second.number, (3, 100003)).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (balance, sales, ..) = bc_figures(&h, &customer);
    let stats = wait_statistics(&h, &account, balance).await;
    assert_eq!(num(&stats, "nav_totalsaleslcy"), sales);

    // An invoice whose order is not coupled is linked by Your Reference = ordernumber, when
    // that order sells to the invoice's customer; never to another customer's order.
    let draft = new_order(&h, &account, "PO 9002");
    let draft_no = order_number(&h, &draft);
    let by_ref =
        h.sb.post_sales_invoice(
            &customer_no,
            &[InvoiceLine::item(&item_no, 1.0, 4.0)],
            Some(&SourceOrder {
                your_reference: draft_no.clone(),
                ..Default::default()
            }),
        )
        .unwrap();
    wait_state(&h, &by_ref.number, (0, 4)).await;
    let inv_ref = dv_invoices(&h, &by_ref.number).remove(0);
    assert_eq!(text(&inv_ref, "_salesorderid_value"), draft);
    assert_eq!(text(&inv_ref, "name"), "PO 9002");
    let other_account = h
        .store()
        .couplings(Some("CUSTOMER"))
        .unwrap()
        .into_iter()
        .map(|c| c.crm_id)
        .find(|a| *a != account)
        .expect("a second coupled account");
    let foreign = new_order(&h, &other_account, "PO 9003");
    let foreign_ref =
        h.sb.post_sales_invoice(
            &customer_no,
            &[InvoiceLine::item(&item_no, 1.0, 4.0)],
            Some(&SourceOrder {
                your_reference: order_number(&h, &foreign),
                ..Default::default()
            }),
        )
        .unwrap();
    wait_state(&h, &foreign_ref.number, (0, 4)).await;
    let inv_foreign = dv_invoices(&h, &foreign_ref.number).remove(0);
    assert!(text(&inv_foreign, "_salesorderid_value").is_empty());
    assert_eq!(text(&inv_foreign, "_customerid_value"), account);

    // 7. A customer not coupled (blocked for shipping: outside CUSTOMER's filter): its invoice
    // is parked naming the customer, and created once the customer is coupled.
    let new_customer =
        h.sb.insert_row(
            couplet::systems::BC,
            "customers",
            obj(json!({"displayName": "Invoice Only Ltd", "blocked": "Ship"})),
        )
        .unwrap();
    let new_no = text(
        &h.row(couplet::systems::BC, "customers", &new_customer),
        "number",
    );
    let third =
        h.sb.post_sales_invoice(&new_no, &[InvoiceLine::item(&item_no, 3.0, 2.0)], None)
            .unwrap();
    let key = format!("bc/salesInvoices/{}", third.id);
    wait_until(WAIT, "the invoice is parked on its customer", || {
        let p = h
            .store()
            .parked()
            .unwrap()
            .into_iter()
            .find(|p| p.record == key);
        async move { p.is_some() }
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
        parked.reason.contains(&new_no) && parked.waiting_for.starts_with("CUSTOMER/"),
        "{parked:?}"
    );
    assert!(dv_invoices(&h, &third.number).is_empty());
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &new_customer,
        obj(json!({"blocked": " "})),
    )
    .unwrap();
    wait_state(&h, &third.number, (0, 4)).await;
    let new_account = h.coupled_id("CUSTOMER", couplet::systems::BC, &new_customer);
    let inv3 = dv_invoices(&h, &third.number).remove(0);
    assert_eq!(text(&inv3, "_customerid_value"), new_account);

    // 8. A crash after Dataverse made the invoice (header only) but before the coupling: the
    // next attempt finds it by its number, adds its lines and couples it; no twin.
    h.stop_engine().await;
    let fourth =
        h.sb.post_sales_invoice(
            &customer_no,
            &[
                InvoiceLine::item(&item_no, 1.0, 3.0),
                InvoiceLine::other("Resource", "R-INSTALL", "Installation", 2.0, 40.0),
            ],
            None,
        )
        .unwrap();
    let made =
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "invoices",
            obj(json!({
                "invoicenumber": fourth.number,
                "name": fourth.number,
                "customerid_account@odata.bind": format!("/accounts({account})"),
                "statuscode": 4,
            })),
        )
        .unwrap();
    h.start_engine().await;
    wait_until(WAIT, "the made invoice is coupled", || {
        let c = h.coupling("POSTEDSALESINV-INV", couplet::systems::BC, &fourth.id);
        async move { c.is_some() }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(dv_invoices(&h, &fourth.number).len(), 1, "no twin");
    assert_eq!(
        h.coupled_id("POSTEDSALESINV-INV", couplet::systems::BC, &fourth.id),
        made
    );
    let lines = dv_lines(&h, &made);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        text(&lines[1], "productdescription"),
        "R-INSTALL Installation"
    );

    // Every BC posted invoice is in Dataverse once; nothing failed or is parked.
    for inv in h.sb.rows(couplet::systems::BC, "salesInvoices") {
        assert_eq!(dv_invoices(&h, &text(&inv, "number")).len(), 1);
    }
    let errors = h.store().errors().unwrap();
    assert!(errors.is_empty(), "{}", h.describe());
    assert!(h.store().parked().unwrap().is_empty(), "{}", h.describe());
    eprintln!("whole test {:?}", started.elapsed());
}

async fn bearer(c: &reqwest::Client, sb: &couplet::sandbox::Sandbox, resource: &str) -> String {
    let cr = sb.credentials();
    let body = format!(
        "client_id={}&scope={}&client_secret={}&grant_type=client_credentials",
        cr.client_id,
        urlencoding::encode(&format!("{resource}/.default")),
        urlencoding::encode(&cr.client_secret)
    );
    let r = c
        .post(format!(
            "{}{}/oauth2/v2.0/token",
            sb.entra_authority(),
            cr.tenant_id
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

/// The sandbox's posted invoices over HTTP: listed with ETags, lines under their invoice,
/// read-only as in Business Central; Dataverse refuses a state/status pair that does not go
/// together and any edit of a paid invoice.
#[tokio::test]
async fn posted_invoice_pages_over_http() {
    use reqwest::StatusCode;
    let sb = couplet::sandbox::Sandbox::start(couplet::sandbox::SandboxConfig {
        records: 40,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = reqwest::Client::new();
    let bc = format!("{}companies({})/", sb.bc_api_url(), sb.bc_company_id());
    let tok = bearer(&c, &sb, &sb.bc_resource()).await;
    let r = c
        .get(format!("{bc}salesInvoices?$filter=status eq 'Open'"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let open: Value = r.json().await.unwrap();
    let open = open["value"].as_array().unwrap().clone();
    assert!(!open.is_empty(), "seeded open invoices");
    let inv = &open[0];
    assert!(inv["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert!(inv["number"].as_str().unwrap().starts_with("PS-INV"));
    let id = inv["id"].as_str().unwrap();
    let r = c
        .get(format!("{bc}salesInvoices({id})/salesInvoiceLines"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    let lines: Value = r.json().await.unwrap();
    let lines = lines["value"].as_array().unwrap();
    assert!(!lines.is_empty() && lines.iter().all(|l| l["documentId"] == inv["id"]));
    let total: f64 = lines
        .iter()
        .map(|l| l["amountIncludingTax"].as_f64().unwrap())
        .sum();
    assert!((total - inv["totalAmountIncludingTax"].as_f64().unwrap()).abs() < 0.005);
    let r = c
        .patch(format!("{bc}salesInvoices({id})"))
        .bearer_auth(&tok)
        .header("if-match", "*")
        .json(&json!({"externalDocumentNumber": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has been posted"),
        "{e}"
    );

    let dv = format!("{}api/data/v9.2/", sb.dataverse_url());
    let dtok = bearer(&c, &sb, sb.dataverse_url().trim_end_matches('/')).await;
    let r = c
        .post(format!("{dv}invoices"))
        .bearer_auth(&dtok)
        .header("prefer", "return=representation")
        .json(&json!({"name": "I", "invoicenumber": "I-1", "statuscode": 4}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let made: Value = r.json().await.unwrap();
    let iid = made["invoiceid"].as_str().unwrap().to_string();
    let patch = |body: Value| {
        let (c, dtok, url) = (c.clone(), dtok.clone(), format!("{dv}invoices({iid})"));
        async move {
            c.patch(url)
                .bearer_auth(&dtok)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        patch(json!({"statecode": 2, "statuscode": 4})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        patch(json!({"statecode": 2, "statuscode": 100002})).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        patch(json!({"name": "changed"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        patch(json!({"statecode": 0, "statuscode": 4})).await,
        StatusCode::NO_CONTENT
    );
}
