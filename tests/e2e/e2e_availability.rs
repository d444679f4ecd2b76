//! End-to-end: item availability and prices visible in Sales. Stock posted in Business Central
//! (item ledger entries: `items.inventory` is a FlowField there, so the item's modified-on
//! and ETag do not move) reaches the coupled product's quantity on hand within a few poll
//! intervals, and a price list line's new price reaches its product price.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;

const IDLE: Duration = Duration::from_secs(120);
/// Several poll intervals of the test engine, and the transform and write.
const WITHIN: Duration = Duration::from_secs(15);

fn number(row: &couplet::event::Fields, field: &str) -> f64 {
    row.get(field).and_then(|v| v.as_f64()).unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_and_price_changes_reach_sales() {
    let mut h = Harness::start_full_catalogue(40, 33).await;
    h.wait_idle(IDLE).await;

    // Two coupled inventory items.
    let items: Vec<_> =
        h.sb.rows(couplet::systems::BC, "items")
            .into_iter()
            .filter(|r| r.get("blocked") == Some(&json!(false)) && text(r, "type") == "Inventory")
            .take(2)
            .collect();
    assert_eq!(
        items.len(),
        2,
        "the sandbox seeds unblocked inventory items"
    );
    let products: Vec<String> = items
        .iter()
        .map(|i| h.coupled_id("ITEM-PRODUCT", couplet::systems::BC, &text(i, "id")))
        .collect();
    for (i, p) in items.iter().zip(&products) {
        let product = h.row(couplet::systems::DATAVERSE, "products", p);
        assert_eq!(
            number(&product, "quantityonhand"),
            number(i, "inventory"),
            "the initial synchronisation carried the stock"
        );
    }
    let ledger_before = h.sb.rows(couplet::systems::BC, "itemLedgerEntries").len();
    assert!(ledger_before > 0, "the sandbox seeds opening entries");

    // A positive adjustment on one item, a sale on the other.
    let posted = Instant::now();
    h.sb.bc_post_item_entry(&text(&items[0], "number"), "Positive Adjmt.", 7.0, "ADJ-1")
        .expect("entry posted");
    h.sb.bc_post_item_entry(&text(&items[1], "number"), "Sale", -2.0, "SHIP-1")
        .expect("entry posted");
    let want = [
        number(&items[0], "inventory") + 7.0,
        number(&items[1], "inventory") - 2.0,
    ];
    // FlowField: the items themselves did not change.
    for i in &items {
        let now = h.row(couplet::systems::BC, "items", &text(i, "id"));
        assert_eq!(
            text(&now, "lastModifiedDateTime"),
            text(i, "lastModifiedDateTime"),
            "posting stock does not modify the item"
        );
        assert_eq!(text(&now, "@odata.etag"), text(i, "@odata.etag"));
    }
    let sb = &h.sb;
    wait_until(WITHIN, "both products show the new stock", || async {
        products.iter().zip(want).all(|(p, q)| {
            sb.row(couplet::systems::DATAVERSE, "products", p)
                .is_some_and(|r| number(&r, "quantityonhand") == q)
        })
    })
    .await;
    eprintln!("stock reached Sales {:?} after posting", posted.elapsed());
    h.wait_idle(IDLE).await;
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());

    // Posting again moves it again; the items nobody posted to were not written.
    let writes_before = h.sb.stats(couplet::systems::DATAVERSE).writes;
    h.sb.bc_post_item_entry(&text(&items[0], "number"), "Negative Adjmt.", -1.5, "ADJ-2")
        .expect("entry posted");
    let (sb, p0) = (&h.sb, products[0].clone());
    wait_until(WITHIN, "the second adjustment reached Sales", || async {
        sb.row(couplet::systems::DATAVERSE, "products", &p0)
            .is_some_and(|r| number(&r, "quantityonhand") == want[0] - 1.5)
    })
    .await;
    h.wait_idle(IDLE).await;
    assert_eq!(
        h.sb.stats(couplet::systems::DATAVERSE).writes - writes_before,
        1,
        "one entry, one product written"
    );

    // A new price on a coupled price list line reaches its product price.
    let line =
        h.sb.rows(couplet::systems::BC, "priceListLines")
            .into_iter()
            .find(|l| {
                h.coupling("PLLINE-PRODPRICE", couplet::systems::BC, &text(l, "id"))
                    .is_some()
            })
            .expect("a coupled price list line");
    let price_id = h.coupled_id("PLLINE-PRODPRICE", couplet::systems::BC, &text(&line, "id"));
    let new_price = ((number(&line, "unitPrice") + 1.25) * 100.0).round() / 100.0;
    h.sb.update_row(
        couplet::systems::BC,
        "priceListLines",
        &text(&line, "id"),
        patch("unitPrice", json!(new_price)),
    )
    .expect("price updated");
    let sb = &h.sb;
    wait_until(WITHIN, "the new price reached Sales", || async {
        sb.row(couplet::systems::DATAVERSE, "productpricelevels", &price_id)
            .is_some_and(|r| number(&r, "amount") == new_price)
    })
    .await;
    h.wait_idle(IDLE).await;
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    assert!(
        h.sb.rows(couplet::systems::BC, "itemLedgerEntries").len() == ledger_before + 3,
        "the ledger holds the three entries posted"
    );
}
