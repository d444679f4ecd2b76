//! `couplet demo`'s lead-to-cash story: on a small sandbox running every default mapping, a
//! rep's quote is activated and revised, the opportunity won, the quote turned into an order
//! and submitted; Business Central ships, invoices and is paid. Each hop is one change on one
//! side, and the story waits until Couplet's write shows on the other side, printing the
//! change-to-write latency (measured from the moment the change was made, by reading the
//! target system every few milliseconds).

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use serde_json::{Value, json};

use super::story_run::HOP_TIMEOUT;
use crate::event::{Fields, System};
use crate::mapping::Catalogue;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::store::Store;

/// Companies seeded for the story: enough for every mapping to have records, small enough to
/// settle in seconds.
const STORY_RECORDS: usize = 12;

/// One hop of the story and how long it took.
struct Hop {
    what: String,
    latency: Duration,
}

fn text(row: &Fields, field: &str) -> String {
    row.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn obj(v: Value) -> Fields {
    v.as_object().cloned().unwrap_or_default()
}

fn rows_where(sb: &Sandbox, system: System, set: &str, field: &str, value: &str) -> Vec<Fields> {
    sb.rows(system, set)
        .into_iter()
        .filter(|r| text(r, field) == value)
        .collect()
}

/// The Business Central document (`header_set`) made from the Sales document numbered
/// `your_ref`, once it has `lines` lines in `lines_set`.
fn bc_document(
    sb: &Sandbox,
    header_set: &str,
    lines_set: &str,
    your_ref: &str,
    lines: usize,
) -> Option<Fields> {
    rows_where(
        sb,
        crate::systems::BC,
        header_set,
        "yourReference",
        your_ref,
    )
    .into_iter()
    .next()
    .filter(|h| {
        rows_where(
            sb,
            crate::systems::BC,
            lines_set,
            "documentId",
            &text(h, "id"),
        )
        .len()
            == lines
    })
}

/// Waits until `done` holds (checked every 5 ms), returning the time since `since`.
async fn until<F, Fut>(what: &str, since: Instant, mut done: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    loop {
        if done().await? {
            return Ok(since.elapsed());
        }
        if since.elapsed() > HOP_TIMEOUT {
            return Err(anyhow!("{what}: not seen within {HOP_TIMEOUT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The first coupling of `mapping`, as (CRM id, ERP id).
fn coupled(store: &Store, mapping: &str) -> anyhow::Result<(String, String)> {
    store
        .couplings(Some(mapping))?
        .into_iter()
        .next()
        .map(|c| (c.crm_id, c.erp_id))
        .ok_or_else(|| {
            anyhow!("no record of mapping {mapping} is coupled after the initial synchronisation")
        })
}

/// Runs the story with its own sandbox and engine; `configure` makes the engine's config
/// (the log the demo was asked for). Returns whether every hop happened.
pub async fn run(
    seed: u64,
    dir: &Path,
    configure: impl Fn(&Sandbox, &Path) -> anyhow::Result<crate::config::Config>,
) -> anyhow::Result<bool> {
    println!();
    println!("Lead to cash (every default mapping, {STORY_RECORDS} companies):");
    let sb = Sandbox::start(SandboxConfig {
        records: STORY_RECORDS,
        seed,
        ..Default::default()
    })
    .await?;
    let mut cfg = configure(&sb, dir)?;
    cfg.sync.mappings = Catalogue::defaults()?
        .ordered()
        .iter()
        .map(|m| m.name.clone())
        .collect();
    super::story_run::run(sb, cfg, |sb, store| {
        Box::pin(async move {
            let hops = play(sb, store).await?;
            let slowest = hops.iter().map(|h| h.latency).max().unwrap_or_default();
            Ok((hops.len(), slowest))
        })
    })
    .await
}

fn print_hop(n: usize, h: &Hop) {
    println!("  {n}. {:<92} {:>6} ms", h.what, h.latency.as_millis());
}

async fn play(sb: &Sandbox, store: &Store) -> anyhow::Result<Vec<Hop>> {
    let mut hops = Vec::new();
    let mut push = |h: Hop| {
        print_hop(hops.len() + 1, &h);
        hops.push(h);
    };
    let (account, _) = coupled(store, "CUSTOMER")?;
    let (product, item) = coupled(store, "ITEM-PRODUCT")?;
    let uom = sb
        .row(crate::systems::DATAVERSE, "products", &product)
        .map(|p| text(&p, "_defaultuomid_value"))
        .filter(|u| !u.is_empty())
        .ok_or_else(|| anyhow!("product {product} has no default unit"))?;
    let (opportunity, bc_opportunity) = coupled(store, "OPPORTUNITY")?;
    let line = |qty: f64, price: f64| {
        json!({
            "productid@odata.bind": format!("/products({product})"),
            "uomid@odata.bind": format!("/uoms({uom})"),
            "quantity": qty, "priceperunit": price,
        })
    };

    // 1. A quote for the opportunity, activated.
    let quote = sb.insert_row(
        crate::systems::DATAVERSE,
        "quotes",
        obj(json!({
            "name": "Lead to cash RFQ",
            "customerid_account@odata.bind": format!("/accounts({account})"),
            "opportunityid@odata.bind": format!("/opportunities({opportunity})"),
            "effectiveto": "2027-01-31",
        })),
    )?;
    for (seq, (q, p)) in [(4.0, 12.5), (1.0, 30.0)].into_iter().enumerate() {
        let mut body = obj(line(q, p));
        body.insert(
            "quoteid@odata.bind".into(),
            json!(format!("/quotes({quote})")),
        );
        body.insert("sequencenumber".into(), json!(seq as i64 + 1));
        sb.insert_row(crate::systems::DATAVERSE, "quotedetails", body)?;
    }
    let number = sb
        .row(crate::systems::DATAVERSE, "quotes", &quote)
        .map(|q| text(&q, "quotenumber"))
        .context("the quote just made")?;
    let t = Instant::now();
    sb.update_row(
        crate::systems::DATAVERSE,
        "quotes",
        &quote,
        obj(json!({"statecode": 1, "statuscode": 2})),
    )?;
    let latency = until("the quote in Business Central", t, || async {
        Ok(bc_document(sb, "salesQuotes", "salesQuoteLines", &number, 2).is_some())
    })
    .await?;
    let bc_quote = rows_where(
        sb,
        crate::systems::BC,
        "salesQuotes",
        "yourReference",
        &number,
    )
    .first()
    .map(|q| (text(q, "id"), text(q, "number")))
    .context("the BC quote")?;
    push(Hop {
        what: format!(
            "quote {number} activated in Sales -> BC sales quote {} (2 lines)",
            bc_quote.1
        ),
        latency,
    });

    // 2. Revised: the BC quote is archived and rebuilt with the revision's lines.
    let revision = sb
        .dataverse_action(
            "ReviseQuote",
            json!({"QuoteId": quote, "ColumnSet": {"AllColumns": true}}),
        )?
        .context("ReviseQuote returns the new revision")?;
    let mut body = obj(line(6.0, 11.0));
    body.insert(
        "quoteid@odata.bind".into(),
        json!(format!("/quotes({revision})")),
    );
    body.insert("sequencenumber".into(), json!(3));
    sb.insert_row(crate::systems::DATAVERSE, "quotedetails", body)?;
    let t = Instant::now();
    sb.update_row(
        crate::systems::DATAVERSE,
        "quotes",
        &revision,
        obj(json!({"statecode": 1, "statuscode": 2})),
    )?;
    let latency = until("the revision in Business Central", t, || async {
        Ok(rows_where(
            sb,
            crate::systems::BC,
            "salesQuoteLines",
            "documentId",
            &bc_quote.0,
        )
        .len()
            == 3
            && !rows_where(
                sb,
                crate::systems::BC,
                "salesQuoteArchives",
                "quoteId",
                &bc_quote.0,
            )
            .is_empty())
    })
    .await?;
    push(Hop {
        what: format!(
            "quote revised in Sales -> BC quote {} archived and updated (3 lines)",
            bc_quote.1
        ),
        latency,
    });

    // 3. The opportunity is won.
    let t = Instant::now();
    sb.dataverse_action(
        "WinOpportunity",
        json!({"OpportunityClose": {"subject": "Won", "opportunityid@odata.bind": format!("/opportunities({opportunity})"), "actualrevenue": 146}, "Status": 3}),
    )?;
    let latency = until("the won opportunity in Business Central", t, || async {
        Ok(sb
            .row(crate::systems::BC, "opportunities", &bc_opportunity)
            .is_some_and(|o| text(&o, "status") == "Won"))
    })
    .await?;
    push(Hop {
        what: "opportunity won in Sales -> BC opportunity Won".into(),
        latency,
    });

    // 4. The quote becomes an order, which the rep submits.
    let order = sb
        .dataverse_action(
            "ConvertQuoteToSalesOrder",
            json!({"QuoteId": revision, "ColumnSet": {"AllColumns": true}}),
        )?
        .context("ConvertQuoteToSalesOrder returns the order")?;
    let order_no = sb
        .row(crate::systems::DATAVERSE, "salesorders", &order)
        .map(|o| text(&o, "ordernumber"))
        .context("the order just made")?;
    let t = Instant::now();
    sb.update_row(
        crate::systems::DATAVERSE,
        "salesorders",
        &order,
        obj(json!({"statecode": 1, "statuscode": 3})),
    )?;
    let latency = until("the order in Business Central", t, || async {
        Ok(bc_document(sb, "salesOrders", "salesOrderLines", &order_no, 3).is_some())
    })
    .await?;
    let bc_order = rows_where(
        sb,
        crate::systems::BC,
        "salesOrders",
        "yourReference",
        &order_no,
    )
    .first()
    .map(|o| (text(o, "id"), text(o, "number"), text(o, "quoteNumber")))
    .context("the BC order")?;
    push(Hop {
        what: format!(
            "order {order_no} submitted in Sales -> BC sales order {} (quote {})",
            bc_order.1, bc_order.2
        ),
        latency,
    });

    // 5. Shipped in Business Central: the order is Fulfilled with a timeline post, and the
    // product's stock follows.
    let t = Instant::now();
    let shipment = sb.ship_sales_order(&bc_order.0, &[])?;
    let latency = until("the shipment in Sales", t, || async {
        let fulfilled = sb
            .row(crate::systems::DATAVERSE, "salesorders", &order)
            .is_some_and(|o| o.get("statecode") == Some(&json!(3)));
        let posted = sb
            .rows(crate::systems::DATAVERSE, "posts")
            .iter()
            .any(|p| text(p, "text").contains(&shipment));
        Ok(fulfilled && posted)
    })
    .await?;
    push(Hop {
        what: format!(
            "shipment {shipment} posted in BC -> Sales order Fulfilled, shipment on its timeline"
        ),
        latency,
    });
    let on_hand = sb
        .row(crate::systems::BC, "items", &item)
        .and_then(|i| i.get("inventory").and_then(Value::as_f64))
        .context("the shipped item")?;
    let latency = until("the stock in Sales", t, || async {
        Ok(sb
            .row(crate::systems::DATAVERSE, "products", &product)
            .and_then(|p| p.get("quantityonhand").and_then(Value::as_f64))
            == Some(on_hand))
    })
    .await?;
    push(Hop {
        what: format!("stock moved by the shipment -> product quantity on hand {on_hand}"),
        latency,
    });

    // 6. Invoiced: a Billed invoice in Sales, linked to the order, which becomes Invoiced.
    let t = Instant::now();
    let invoice = sb.invoice_sales_order(&bc_order.0, &[])?;
    let latency = until("the invoice in Sales", t, || async {
        let billed = rows_where(
            sb,
            crate::systems::DATAVERSE,
            "invoices",
            "invoicenumber",
            &invoice.number,
        )
        .first()
        .is_some_and(|i| text(i, "_salesorderid_value") == order);
        let invoiced = sb
            .row(crate::systems::DATAVERSE, "salesorders", &order)
            .is_some_and(|o| o.get("statecode") == Some(&json!(4)));
        Ok(billed && invoiced)
    })
    .await?;
    push(Hop {
        what: format!(
            "invoice {} posted in BC -> Sales invoice (Billed), order Invoiced",
            invoice.number
        ),
        latency,
    });

    // 7. Paid.
    let amount = sb
        .row(crate::systems::BC, "salesInvoices", &invoice.id)
        .and_then(|i| i.get("remainingAmount").and_then(Value::as_f64))
        .context("the posted invoice")?;
    let t = Instant::now();
    sb.record_customer_payment(&invoice.id, amount)?;
    let latency = until("the payment in Sales", t, || async {
        Ok(rows_where(
            sb,
            crate::systems::DATAVERSE,
            "invoices",
            "invoicenumber",
            &invoice.number,
        )
        .first()
        .is_some_and(|i| {
            i.get("statecode") == Some(&json!(2)) && i.get("statuscode") == Some(&json!(100001))
        }))
    })
    .await?;
    push(Hop {
        what: format!("payment of {amount:.2} recorded in BC -> Sales invoice Paid / Complete"),
        latency,
    });
    Ok(hops)
}
