//! `couplet demo --erp fo`'s lead-to-cash story: on a small sandbox running F&O's default
//! mappings, a new account in Sales becomes an F&O customer in its legal entity (and gets F&O's
//! number back), the rep's opportunity is won and its quote turned into a submitted order,
//! which becomes an F&O sales order with its lines in the customer's company; then F&O changes
//! a released product's price, a customer's credit limit and a customer-group price agreement,
//! and each reaches Sales (the product's price, the account, the price list item). Each hop is
//! one change on one side, timed until Couplet's write shows on the other side.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use serde_json::{Value, json};

use super::story_run::HOP_TIMEOUT;
use crate::event::Fields;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::store::Store;
use crate::systems::fo::SYSTEM as FO;

/// Companies seeded for the story.
const STORY_RECORDS: usize = 12;
/// The legal entity of the story.
const COMPANY: &str = "usmf";

fn text(row: &Fields, field: &str) -> String {
    row.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn obj(v: Value) -> Fields {
    v.as_object().cloned().unwrap_or_default()
}

/// Waits until `found` gives something (checked every 5 ms); returns it and the time since
/// `since`.
async fn until<T>(
    what: &str,
    since: Instant,
    mut found: impl FnMut() -> Option<T>,
) -> anyhow::Result<(T, Duration)> {
    loop {
        if let Some(t) = found() {
            return Ok((t, since.elapsed()));
        }
        if since.elapsed() > HOP_TIMEOUT {
            return Err(anyhow!("{what}: not seen within {HOP_TIMEOUT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn fo_row(sb: &Sandbox, set: &str, field: &str, value: &str) -> Option<Fields> {
    sb.fo_rows(set)
        .into_iter()
        .find(|r| text(r, "dataAreaId") == COMPANY && text(r, field) == value)
}

/// Runs the story with its own sandbox and engine; `configure` makes the engine's config.
/// Returns whether every hop happened.
pub async fn run(
    seed: u64,
    dir: &Path,
    configure: impl Fn(&Sandbox, &Path) -> anyhow::Result<crate::config::Config>,
) -> anyhow::Result<bool> {
    println!();
    println!(
        "Lead to cash with Finance & Operations (F&O's default mappings, {STORY_RECORDS} companies):"
    );
    let sb = Sandbox::start(SandboxConfig {
        records: STORY_RECORDS,
        seed,
        ..Default::default()
    })
    .await?;
    let mut cfg = configure(&sb, dir)?;
    // F&O's defaults, with the price tables (no `ModifiedDateTime`: read on a schedule) read
    // every 2 s instead of every 15 minutes, so a price change shows within the story.
    std::fs::create_dir_all(dir)?;
    let file = dir.join("fo-story-mappings.toml");
    std::fs::write(
        &file,
        crate::systems::fo::system::MAPPINGS.replace(
            "schedule = { every = \"15m\" }",
            "schedule = { every = \"2s\" }",
        ),
    )?;
    cfg.sync.mapping_file = Some(file);
    super::story_run::run(sb, cfg, |sb, store| Box::pin(play(sb, store))).await
}

/// Prints the hops as they happen; returns how many and the slowest.
struct Hops(Vec<Duration>);

impl Hops {
    fn push(&mut self, what: String, latency: Duration) {
        self.0.push(latency);
        println!(
            "  {}. {what:<92} {:>6} ms",
            self.0.len(),
            latency.as_millis()
        );
    }
}

async fn play(sb: &Sandbox, store: &Store) -> anyhow::Result<(usize, Duration)> {
    let mut hops = Hops(Vec::new());
    let products: Vec<(String, String)> = store
        .couplings(Some("ITEM-PRODUCT"))?
        .into_iter()
        .take(2)
        .map(|c| (c.crm_id, c.erp_id))
        .collect();
    if products.len() < 2 {
        return Err(anyhow!(
            "fewer than two released products are coupled to Sales products"
        ));
    }

    // 1. A new account in Sales becomes an F&O customer of the legal entity, numbered by F&O.
    let t = Instant::now();
    let account = sb.insert_row(
        crate::systems::DATAVERSE,
        "accounts",
        obj(json!({"name": "Lead to Cash Retail", "address1_city": "Bellevue", "customertypecode": 3})),
    )?;
    let (customer, latency) = until("the customer in F&O", t, || {
        fo_row(sb, "CustomersV3", "OrganizationName", "Lead to Cash Retail")
    })
    .await?;
    let number = text(&customer, "CustomerAccount");
    hops.push(
        format!("account created in Sales -> F&O customer {number} in {COMPANY}"),
        latency,
    );
    let (_, latency) = until("F&O's number on the account", t, || {
        sb.row(crate::systems::DATAVERSE, "accounts", &account)
            .filter(|a| text(a, "accountnumber") == number)
    })
    .await?;
    hops.push(
        format!("F&O's customer number {number} -> the account's number"),
        latency,
    );

    // 2. The opportunity is won; its quote becomes an order, which the rep submits.
    let opportunity = sb.insert_row(
        crate::systems::DATAVERSE,
        "opportunities",
        obj(json!({"name": "Store fit-out", "parentaccountid@odata.bind": format!("/accounts({account})")})),
    )?;
    let quote = sb.insert_row(
        crate::systems::DATAVERSE,
        "quotes",
        obj(json!({
            "name": "Store fit-out quote",
            "customerid_account@odata.bind": format!("/accounts({account})"),
            "opportunityid@odata.bind": format!("/opportunities({opportunity})"),
            "effectiveto": "2027-01-31",
        })),
    )?;
    for (seq, ((product, _), (q, p))) in products.iter().zip([(4.0, 12.5), (1.0, 30.0)]).enumerate()
    {
        sb.insert_row(
            crate::systems::DATAVERSE,
            "quotedetails",
            obj(json!({
                "quoteid@odata.bind": format!("/quotes({quote})"),
                "productid@odata.bind": format!("/products({product})"),
                "quantity": q, "priceperunit": p, "sequencenumber": seq as i64 + 1,
            })),
        )?;
    }
    sb.update_row(
        crate::systems::DATAVERSE,
        "quotes",
        &quote,
        obj(json!({"statecode": 1, "statuscode": 2})),
    )?;
    sb.dataverse_action(
        "WinOpportunity",
        json!({"OpportunityClose": {"subject": "Won", "opportunityid@odata.bind": format!("/opportunities({opportunity})"), "actualrevenue": 80}, "Status": 3}),
    )?;
    let order = sb
        .dataverse_action(
            "ConvertQuoteToSalesOrder",
            json!({"QuoteId": quote, "ColumnSet": {"AllColumns": true}}),
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
    let (header, latency) = until("the order in F&O", t, || {
        let h = fo_row(
            sb,
            "SalesOrderHeadersV2",
            "CustomersOrderReference",
            &order_no,
        )?;
        let so = text(&h, "SalesOrderNumber");
        let lines = sb
            .fo_rows("SalesOrderLines")
            .into_iter()
            .filter(|l| text(l, "dataAreaId") == COMPANY && text(l, "SalesOrderNumber") == so)
            .count();
        (lines == 2).then_some(h)
    })
    .await?;
    if text(&header, "OrderingCustomerAccountNumber") != number {
        return Err(anyhow!(
            "the F&O order is not for customer {number}: {header:?}"
        ));
    }
    hops.push(
        format!(
            "opportunity won, order {order_no} submitted in Sales -> F&O sales order {} in {COMPANY} (2 lines)",
            text(&header, "SalesOrderNumber")
        ),
        latency,
    );

    // 3. A released product's new base price reaches the Sales product.
    let (product, item_id) = &products[0];
    let item = FO.decode_id("ReleasedProductsV2", item_id)?;
    let item_no = item
        .value("ItemNumber")
        .map(|v| v.to_json())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let t = Instant::now();
    sb.fo_update_row(
        "ReleasedProductsV2",
        &format!("dataAreaId='{COMPANY}',ItemNumber='{item_no}'"),
        obj(json!({"SalesPrice": 149.95})),
    )?;
    let (_, latency) = until("the new price in Sales", t, || {
        sb.row(crate::systems::DATAVERSE, "products", product)
            .filter(|p| p.get("price").and_then(Value::as_f64) == Some(149.95))
    })
    .await?;
    hops.push(
        format!("price of item {item_no} changed in F&O -> Sales product price 149.95"),
        latency,
    );

    // 4. A customer master change in F&O reaches the account.
    let t = Instant::now();
    sb.fo_update_row(
        "CustomersV3",
        &format!("dataAreaId='{COMPANY}',CustomerAccount='{number}'"),
        obj(json!({"CreditLimit": 25000.0})),
    )?;
    let (_, latency) = until("the credit limit in Sales", t, || {
        sb.row(crate::systems::DATAVERSE, "accounts", &account)
            .filter(|a| a.get("creditlimit").and_then(Value::as_f64) == Some(25000.0))
    })
    .await?;
    hops.push(
        format!("credit limit of customer {number} set in F&O -> the account's credit limit"),
        latency,
    );

    // 5. A customer-group price agreement changes: its price list item in Sales follows (read
    // on the price tables' schedule).
    let price = store
        .couplings(Some("SALESPRC-PRODPRICE"))?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no price agreement is coupled to a price list item"))?;
    let key = FO.decode_id("SalesPriceAgreements", &price.erp_id)?;
    let record = key
        .value("RecordId")
        .map(|v| v.to_json().to_string())
        .unwrap_or_default();
    let t = Instant::now();
    sb.fo_update_row(
        "SalesPriceAgreements",
        &format!("dataAreaId='{COMPANY}',RecordId={record}"),
        obj(json!({"Price": 77.5})),
    )?;
    let (_, latency) = until("the new price on the Sales price list", t, || {
        sb.row(
            crate::systems::DATAVERSE,
            "productpricelevels",
            &price.crm_id,
        )
        .filter(|p| p.get("amount").and_then(Value::as_f64) == Some(77.5))
    })
    .await?;
    hops.push(
        format!("price agreement {record} set to 77.50 in F&O -> the Sales price list item"),
        latency,
    );
    let slowest = hops.0.iter().max().copied().unwrap_or_default();
    Ok((hops.0.len(), slowest))
}
