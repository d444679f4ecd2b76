//! Sales quotes and won opportunities from Dataverse to Business Central, end to end against
//! the sandbox with the full catalogue: an activated quote becomes one BC sales quote (Quote
//! Valid Until, External Document No.); a revision archives the BC quote's version and
//! rebuilds the same quote; a won quote's submitted order gets Quote No. and the quote is
//! archived; a won quote without an order is released; a won opportunity closes its BC
//! opportunity and its order carries the opportunity number; nothing is made twice when
//! everything is read again.

use std::time::Duration;

use crate::common::{Harness, IDLE_TIMEOUT, text, wait_until};
use crate::orders_support::{coupled_refs, obj, order_number, product_line, submit};
use couplet::event::Fields;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn new_quote(h: &Harness, account: &str, name: &str, extra: Value) -> String {
    let mut body = obj(extra);
    body.insert("name".into(), json!(name));
    body.insert(
        "customerid_account@odata.bind".into(),
        json!(format!("/accounts({account})")),
    );
    h.sb.insert_row(couplet::systems::DATAVERSE, "quotes", body)
        .unwrap()
}

fn add_quote_line(h: &Harness, quote: &str, seq: i64, line: Value) -> String {
    let mut body = obj(line);
    body.insert(
        "quoteid@odata.bind".into(),
        json!(format!("/quotes({quote})")),
    );
    body.insert("sequencenumber".into(), json!(seq));
    h.sb.insert_row(couplet::systems::DATAVERSE, "quotedetails", body)
        .unwrap()
}

fn activate(h: &Harness, quote: &str) {
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "quotes",
        quote,
        obj(json!({"statecode": 1, "statuscode": 2})),
    )
    .unwrap();
}

fn quote_number(h: &Harness, quote: &str) -> String {
    text(
        &h.row(couplet::systems::DATAVERSE, "quotes", quote),
        "quotenumber",
    )
}

fn bc_quotes_with_ref(h: &Harness, reference: &str) -> Vec<Fields> {
    h.sb.rows(couplet::systems::BC, "salesQuotes")
        .into_iter()
        .filter(|q| text(q, "yourReference") == reference)
        .collect()
}

fn children(h: &Harness, set: &str, parent_field: &str, parent: &str) -> Vec<Fields> {
    let mut l: Vec<Fields> =
        h.sb.rows(couplet::systems::BC, set)
            .into_iter()
            .filter(|l| text(l, parent_field) == parent)
            .collect();
    l.sort_by_key(|l| l["sequence"].as_f64().unwrap_or(0.0) as i64);
    l
}

fn archives(h: &Harness, bc_quote: &str) -> Vec<Fields> {
    let mut a: Vec<Fields> =
        h.sb.rows(couplet::systems::BC, "salesQuoteArchives")
            .into_iter()
            .filter(|a| text(a, "quoteId") == bc_quote)
            .collect();
    a.sort_by_key(|a| a["versionNumber"].as_f64().unwrap_or(0.0) as i64);
    a
}

/// How many BC quotes, quote lines, archives, orders and order lines there are.
fn counts(h: &Harness) -> [usize; 5] {
    [
        "salesQuotes",
        "salesQuoteLines",
        "salesQuoteArchives",
        "salesOrders",
        "salesOrderLines",
    ]
    .map(|set| h.sb.rows(couplet::systems::BC, set).len())
}

fn quantities(lines: &[Fields]) -> Vec<f64> {
    lines
        .iter()
        .map(|l| l["quantity"].as_f64().unwrap_or(0.0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotes_are_sent_revised_won_and_linked_to_their_orders_once() {
    let mut h = Harness::start_full_catalogue(3, 71).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (account, customer, product, uom, item_no) = coupled_refs(&h);

    // 1. An activated quote becomes one BC sales quote with its lines.
    let q1 = new_quote(
        &h,
        &account,
        "RFQ 900",
        json!({"effectiveto": "2026-12-31", "shipto_city": "Oslo"}),
    );
    add_quote_line(&h, &q1, 2, product_line(&product, &uom, 1.0, 20.0));
    add_quote_line(&h, &q1, 1, product_line(&product, &uom, 4.0, 10.0));
    let number = quote_number(&h, &q1);
    // A draft is not sent.
    h.wait_idle(IDLE_TIMEOUT).await;
    assert!(bc_quotes_with_ref(&h, &number).is_empty());
    activate(&h, &q1);
    wait_until(WAIT, "the quote is in BC", || {
        let c = h.coupling("QUOTE", couplet::systems::DATAVERSE, &q1);
        async move { c.is_some() }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let quotes = bc_quotes_with_ref(&h, &number);
    assert_eq!(quotes.len(), 1, "{}", h.describe());
    let bq = quotes[0].clone();
    let bq_id = text(&bq, "id");
    assert_eq!(text(&bq, "customerId"), customer);
    assert_eq!(text(&bq, "externalDocumentNumber"), "RFQ 900");
    assert_eq!(text(&bq, "validUntilDate"), "2026-12-31");
    assert_eq!(text(&bq, "shipToCity"), "Oslo");
    assert_eq!(text(&bq, "documentStatus"), "Open");
    let lines = children(&h, "salesQuoteLines", "documentId", &bq_id);
    assert_eq!(quantities(&lines), [4.0, 1.0], "sequencenumber order");
    assert_eq!(text(&lines[0], "lineObjectNumber"), item_no);
    assert_eq!(
        h.coupled_id("QUOTE", couplet::systems::DATAVERSE, &q1),
        bq_id
    );

    // 2. A revision: the previous version is archived with its lines, the same BC quote is
    // rebuilt with the new lines and coupled to the new revision.
    let q2 =
        h.sb.dataverse_action(
            "ReviseQuote",
            json!({"QuoteId": q1, "ColumnSet": {"AllColumns": true}}),
        )
        .unwrap()
        .expect("the new revision");
    let rev = h.row(couplet::systems::DATAVERSE, "quotes", &q2);
    assert_eq!(text(&rev, "quotenumber"), number);
    assert_eq!(rev["revisionnumber"], json!(1));
    add_quote_line(&h, &q2, 3, product_line(&product, &uom, 7.0, 3.0));
    activate(&h, &q2);
    wait_until(WAIT, "the revision is coupled to the same BC quote", || {
        let c = h.coupling("QUOTE", couplet::systems::DATAVERSE, &q2);
        async move { c.is_some() }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        h.coupled_id("QUOTE", couplet::systems::DATAVERSE, &q2),
        bq_id
    );
    assert!(
        h.coupling("QUOTE", couplet::systems::DATAVERSE, &q1)
            .is_none(),
        "the revised quote's coupling moved to the revision"
    );
    assert_eq!(bc_quotes_with_ref(&h, &number).len(), 1, "no second quote");
    let arch = archives(&h, &bq_id);
    assert_eq!(arch.len(), 1, "{arch:?}");
    assert_eq!(arch[0]["versionNumber"], json!(1));
    let arch_lines = children(
        &h,
        "salesQuoteArchiveLines",
        "archiveId",
        &text(&arch[0], "id"),
    );
    assert_eq!(quantities(&arch_lines), [4.0, 1.0], "the archived version");
    let lines = children(&h, "salesQuoteLines", "documentId", &bq_id);
    assert_eq!(quantities(&lines), [4.0, 1.0, 7.0], "the new version");

    // 3. Won and converted to an order; the order, submitted, becomes a BC order with the
    // quote's number, and the quote is archived.
    let order =
        h.sb.dataverse_action(
            "ConvertQuoteToSalesOrder",
            json!({"QuoteId": q2, "ColumnSet": {"AllColumns": true}}),
        )
        .unwrap()
        .expect("the order");
    assert_eq!(
        h.row(couplet::systems::DATAVERSE, "quotes", &q2)["statecode"],
        json!(2),
        "converting wins the quote"
    );
    submit(&h, &order);
    let onum = order_number(&h, &order);
    let bc_quote_no = text(
        &h.row(couplet::systems::BC, "salesQuotes", &bq_id),
        "number",
    );
    wait_until(WAIT, "the BC order carries the quote number", || {
        let linked =
            h.sb.rows(couplet::systems::BC, "salesOrders")
                .iter()
                .any(|o| text(o, "yourReference") == onum && text(o, "quoteNumber") == bc_quote_no);
        async move { linked }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let orders: Vec<Fields> =
        h.sb.rows(couplet::systems::BC, "salesOrders")
            .into_iter()
            .filter(|o| text(o, "yourReference") == onum)
            .collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        quantities(&children(
            &h,
            "salesOrderLines",
            "documentId",
            &text(&orders[0], "id")
        )),
        [4.0, 1.0, 7.0]
    );
    assert_eq!(
        archives(&h, &bq_id).len(),
        2,
        "archived when the order was made"
    );

    // 4. Won without an order: the BC quote is released.
    let q3 = new_quote(
        &h,
        &account,
        "RFQ 901",
        json!({"effectiveto": "2027-01-15"}),
    );
    add_quote_line(&h, &q3, 1, product_line(&product, &uom, 2.0, 9.0));
    activate(&h, &q3);
    let n3 = quote_number(&h, &q3);
    wait_until(WAIT, "the second quote is in BC", || {
        let c = h.coupling("QUOTE", couplet::systems::DATAVERSE, &q3);
        async move { c.is_some() }
    })
    .await;
    h.sb.dataverse_action(
        "WinQuote",
        json!({"QuoteClose": {"subject": "Won", "quoteid@odata.bind": format!("/quotes({q3})")}, "Status": -1}),
    )
    .unwrap();
    wait_until(WAIT, "the won quote is released", || {
        let released = bc_quotes_with_ref(&h, &n3)
            .iter()
            .any(|q| text(q, "documentStatus") == "Released");
        async move { released }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());

    // 5. A quote BC made before a crash (header only, not coupled) is found and completed.
    let q4 = new_quote(&h, &account, "RFQ 902", json!({}));
    add_quote_line(&h, &q4, 1, product_line(&product, &uom, 1.0, 1.0));
    add_quote_line(&h, &q4, 2, product_line(&product, &uom, 2.0, 1.0));
    let n4 = quote_number(&h, &q4);
    let made =
        h.sb.insert_row(
            couplet::systems::BC,
            "salesQuotes",
            obj(json!({"customerId": customer, "yourReference": n4})),
        )
        .unwrap();
    activate(&h, &q4);
    wait_until(WAIT, "the made quote is coupled", || {
        let c = h.coupling("QUOTE", couplet::systems::DATAVERSE, &q4);
        async move { c.is_some() }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        h.coupled_id("QUOTE", couplet::systems::DATAVERSE, &q4),
        made
    );
    assert_eq!(bc_quotes_with_ref(&h, &n4).len(), 1, "no twin");
    assert_eq!(
        children(&h, "salesQuoteLines", "documentId", &made).len(),
        2
    );

    // 6. Everything read again (an expired change-tracking token: a full re-read): nothing is
    // created, archived or released twice.
    let before = counts(&h);
    let versions: Vec<String> =
        h.sb.rows(couplet::systems::BC, "salesQuotes")
            .iter()
            .map(|q| text(q, "@odata.etag"))
            .collect();
    h.stop_engine().await;
    h.sb.expire_change_tracking();
    h.start_engine().await;
    wait_until(WAIT, "every capture read everything again", || {
        let done = h
            .engine()
            .captures()
            .iter()
            .filter(|c| c.name().contains("/dataverse/"))
            .all(|c| c.full_reads() > 0);
        async move { done }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let after = counts(&h);
    assert_eq!(
        before, after,
        "quotes, lines, archives, orders, order lines"
    );
    let versions_after: Vec<String> =
        h.sb.rows(couplet::systems::BC, "salesQuotes")
            .iter()
            .map(|q| text(q, "@odata.etag"))
            .collect();
    assert_eq!(versions, versions_after, "no quote was written again");
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn won_opportunities_close_in_bc_and_their_orders_name_them() {
    let mut h = Harness::start_full_catalogue(3, 72).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (account, _customer, product, uom, _item) = coupled_refs(&h);

    // An open opportunity coupled both ways (OPPORTUNITY stays bidirectional for open
    // opportunities): a seeded one, else one made in BC for a coupled contact.
    let seeded = h
        .store()
        .couplings(Some("OPPORTUNITY"))
        .unwrap()
        .into_iter()
        .map(|c| c.erp_id)
        .next();
    let bc_opp = match seeded {
        Some(id) => id,
        None => {
            let contact = h
                .store()
                .couplings(Some("CONTACT"))
                .unwrap()
                .into_iter()
                .next()
                .expect("a coupled contact");
            let contact_no = text(
                &h.row(couplet::systems::BC, "contacts", &contact.erp_id),
                "number",
            );
            let mut body = obj(
                json!({"description": "Glass for the new hall", "contactNumber": contact_no, "status": "In Progress", "estimatedValue": 5000}),
            );
            if let Some(sp) = h.store().couplings(Some("SALESPEOPLE")).unwrap().first() {
                let code = text(
                    &h.row(couplet::systems::BC, "salespeoplePurchasers", &sp.erp_id),
                    "code",
                );
                body.insert("salespersonCode".into(), json!(code));
            }
            let id =
                h.sb.insert_row(couplet::systems::BC, "opportunities", body)
                    .unwrap();
            wait_until(WAIT, "the opportunity is coupled", || {
                let c = h.coupling("OPPORTUNITY", couplet::systems::BC, &id);
                async move { c.is_some() }
            })
            .await;
            h.wait_idle(IDLE_TIMEOUT).await;
            id
        }
    };
    let opp = h.coupled_id("OPPORTUNITY", couplet::systems::BC, &bc_opp);
    let bc_opp_no = text(
        &h.row(couplet::systems::BC, "opportunities", &bc_opp),
        "number",
    );

    // An order for the opportunity carries its number.
    let order = crate::orders_support::new_order_for(
        &h,
        (
            "customerid_account@odata.bind",
            format!("/accounts({account})"),
        ),
        "PO opportunity",
        json!({"opportunityid@odata.bind": format!("/opportunities({opp})")}),
    );
    crate::orders_support::add_line(&h, &order, 1, product_line(&product, &uom, 1.0, 50.0));
    submit(&h, &order);
    let onum = order_number(&h, &order);

    // Won in Dataverse: the BC opportunity is closed as Won.
    h.sb.dataverse_action(
        "WinOpportunity",
        json!({"OpportunityClose": {"subject": "Won", "opportunityid@odata.bind": format!("/opportunities({opp})"), "actualrevenue": 5000}, "Status": 3}),
    )
    .unwrap();
    let row = h.row(couplet::systems::DATAVERSE, "opportunities", &opp);
    assert_eq!(
        (row["statecode"].clone(), row["statuscode"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(
        h.sb.rows(couplet::systems::DATAVERSE, "opportunitycloses")
            .iter()
            .filter(|c| text(c, "_opportunityid_value") == opp)
            .count(),
        1
    );
    wait_until(WAIT, "the BC opportunity is won", || {
        let won = text(
            &h.row(couplet::systems::BC, "opportunities", &bc_opp),
            "status",
        ) == "Won";
        async move { won }
    })
    .await;
    wait_until(WAIT, "the order is in BC", || {
        let n =
            h.sb.rows(couplet::systems::BC, "salesOrders")
                .iter()
                .filter(|o| text(o, "yourReference") == onum)
                .count();
        async move { n == 1 }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let bc_order =
        h.sb.rows(couplet::systems::BC, "salesOrders")
            .into_iter()
            .find(|o| text(o, "yourReference") == onum)
            .unwrap();
    assert_eq!(text(&bc_order, "opportunityNumber"), bc_opp_no);
    // Still coupled; the closed BC opportunity is outside BC's filter, so nothing flows back.
    assert_eq!(
        h.coupled_id("OPPORTUNITY", couplet::systems::DATAVERSE, &opp),
        bc_opp
    );
    let row = h.row(couplet::systems::DATAVERSE, "opportunities", &opp);
    assert_eq!(row["statecode"], json!(1));

    // A second win is refused by Dataverse; a re-read writes nothing again.
    assert!(
        h.sb.dataverse_action(
            "WinOpportunity",
            json!({"OpportunityClose": {"opportunityid@odata.bind": format!("/opportunities({opp})")}, "Status": 3}),
        )
        .is_err()
    );
    let etag = text(
        &h.row(couplet::systems::BC, "opportunities", &bc_opp),
        "@odata.etag",
    );
    h.stop_engine().await;
    h.sb.expire_change_tracking();
    h.start_engine().await;
    wait_until(WAIT, "every capture read everything again", || {
        let done = h
            .engine()
            .captures()
            .iter()
            .filter(|c| c.name().contains("/dataverse/"))
            .all(|c| c.full_reads() > 0);
        async move { done }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "opportunities", &bc_opp),
            "@odata.etag"
        ),
        etag
    );
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_parks_for_its_customer_and_a_rejected_revision_is_listed() {
    let mut h = Harness::start_full_catalogue(3, 73).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let (_, _, product, uom, _) = coupled_refs(&h);

    // 1. A customer Business Central refuses (name too long): the quote parks naming it, and
    // is sent without anyone asking once the customer is corrected and coupled.
    let long_name = format!("Quote Parked Co {}", "Very Long Name ".repeat(8))
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
    wait_until(WAIT, "the account fails", || {
        let failed = h
            .store()
            .errors()
            .unwrap()
            .iter()
            .any(|e| e.record == account_key);
        async move { failed }
    })
    .await;
    let q = new_quote(
        &h,
        &account,
        "RFQ 950",
        json!({"effectiveto": "2027-02-01"}),
    );
    add_quote_line(&h, &q, 1, product_line(&product, &uom, 3.0, 5.0));
    activate(&h, &q);
    let number = quote_number(&h, &q);
    let key = format!("dataverse/quotes/{q}");
    wait_until(WAIT, "the quote parks", || {
        let parked = h
            .store()
            .parked()
            .unwrap()
            .into_iter()
            .any(|p| p.record == key && p.waiting_for.contains(&account));
        async move { parked }
    })
    .await;
    assert!(bc_quotes_with_ref(&h, &number).is_empty());
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &account,
        obj(json!({"name": "Quote Parked Co"})),
    )
    .unwrap();
    wait_until(WAIT, "the parked quote is sent", || {
        let n = bc_quotes_with_ref(&h, &number).len();
        async move { n == 1 }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let customer = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &account);
    let bq = bc_quotes_with_ref(&h, &number).remove(0);
    assert_eq!(text(&bq, "customerId"), customer);
    assert_eq!(text(&bq, "validUntilDate"), "2027-02-01");

    // 2. A revision BC rejects (a line of quantity 0): listed with BC's message and field;
    // the BC quote keeps the archived version and nothing is half-built into a second quote.
    let q2 =
        h.sb.dataverse_action("ReviseQuote", json!({"QuoteId": q}))
            .unwrap()
            .expect("the new revision");
    let bad_line = add_quote_line(&h, &q2, 2, product_line(&product, &uom, 0.0, 5.0));
    activate(&h, &q2);
    let key2 = format!("dataverse/quotes/{q2}");
    wait_until(WAIT, "the revision fails", || {
        let failed = h.store().errors().unwrap().iter().any(|e| e.record == key2);
        async move { failed }
    })
    .await;
    let err = h
        .store()
        .errors()
        .unwrap()
        .into_iter()
        .find(|e| e.record == key2)
        .unwrap();
    let shown = format!("{err:?}");
    assert!(
        shown.contains("Quantity") && shown.contains("must be positive"),
        "{shown}"
    );
    assert_eq!(bc_quotes_with_ref(&h, &number).len(), 1);
    assert_eq!(archives(&h, &text(&bq, "id")).len(), 1);
    assert_eq!(
        h.coupled_id("QUOTE", couplet::systems::DATAVERSE, &q),
        text(&bq, "id"),
        "the coupling stays with the sent revision until a revision is written"
    );
    let bq_id = text(&bq, "id");
    assert_eq!(
        quantities(&children(&h, "salesQuoteLines", "documentId", &bq_id)),
        [3.0],
        "the previous lines are put back"
    );

    // The line is corrected; `couplet errors retry` revises the quote once, without a second
    // archived version.
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "quotedetails",
        &bad_line,
        obj(json!({"quantity": 2})),
    )
    .unwrap();
    h.stop_engine().await;
    let config = crate::orders_support::config_file(&h, "");
    couplet::cli::inspect::retry(&config, Some(&key2))
        .await
        .unwrap();
    h.start_engine().await;
    wait_until(WAIT, "the retried revision is written", || {
        let c = h.coupling("QUOTE", couplet::systems::DATAVERSE, &q2);
        async move { c.is_some() }
    })
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        h.coupled_id("QUOTE", couplet::systems::DATAVERSE, &q2),
        bq_id
    );
    assert_eq!(
        quantities(&children(&h, "salesQuoteLines", "documentId", &bq_id)),
        [3.0, 2.0]
    );
    assert_eq!(archives(&h, &bq_id).len(), 1, "archived once");
    assert!(h.store().errors().unwrap().iter().all(|e| e.record != key2));
}
