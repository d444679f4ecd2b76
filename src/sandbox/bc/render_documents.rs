//! Rendering the world's price lists, posted invoices and opening stock into the Business
//! Central emulator: price list headers and lines, invoices posted (and paid) through the
//! emulator's own posting routine, and one opening item ledger entry per item with stock.

use serde_json::{Value, json};

use super::render::{guid, put};
use super::timestamp;
use super::write_invoices::{INVOICES, pay, post_with_ids};
use crate::sandbox::invoices::{InvoiceLine, InvoiceToPost};
use crate::sandbox::table::Store;
use crate::sandbox::world::{
    self, AmountType, Asset, InvoiceLineKind, Payment, PriceList, PriceListLine, PriceType, World,
};

/// Business Central's blank date, as API pages show it.
const BLANK_DATE: &str = "0001-01-01";

/// Price lists, posted invoices and opening stock.
pub(super) fn render(world: &World, bc: &mut Store) {
    price_lists(&world.price_lists, &world.price_list_lines, bc);
    for inv in &world.invoices {
        invoice(world, inv, bc);
    }
    for (n, o) in world.opening_stock.iter().enumerate() {
        if let Some(item) = world.items.get(o.item) {
            let entry = super::inventory::Opening {
                entry_number: n as i64 + 1,
                item_number: &item.number,
                quantity: item.stock,
                unit_cost: item.cost,
                at: &timestamp(item.modified),
            };
            super::inventory::put_opening(bc, &guid(o.erp_key), &entry);
        }
    }
}

fn price_type(l: &PriceList) -> &'static str {
    match l.price_type {
        PriceType::Sale => "Sale",
        PriceType::Purchase => "Purchase",
    }
}

fn amount_type(l: &PriceList) -> &'static str {
    match l.amount_type {
        AmountType::Price => "Price",
        AmountType::Discount => "Discount",
    }
}

/// Price list headers and their lines.
pub(crate) fn price_lists(lists: &[PriceList], lines: &[PriceListLine], bc: &mut Store) {
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    for l in lists {
        let id = guid(l.erp_key);
        let ending = l.ending.map_or(BLANK_DATE.to_string(), day);
        let f = json!({
            "id": id, "code": l.code, "description": l.description, "currencyCode": l.currency,
            "status": if l.active { "Active" } else { "Draft" }, "priceType": price_type(l),
            "amountType": amount_type(l), "startingDate": day(l.starting), "endingDate": ending,
            "lastModifiedDateTime": timestamp(l.modified),
        });
        put(bc, "priceListHeaders", &id, f);
    }
    for line in lines {
        let Some(h) = lists.get(line.list) else {
            continue;
        };
        let id = guid(line.erp_key);
        let asset = match line.asset {
            Asset::Item => "Item",
            Asset::Resource => "Resource",
        };
        let f = json!({
            "id": id, "priceListCode": h.code, "priceType": price_type(h), "amountType": amount_type(h),
            "assetType": asset, "assetNo": line.number, "productNo": line.number, "currencyCode": h.currency,
            "unitOfMeasureCode": line.unit, "minimumQuantity": line.minimum_quantity,
            "unitPrice": line.price, "lastModifiedDateTime": timestamp(line.modified),
        });
        put(bc, "priceListLines", &id, f);
    }
}

/// Posts `inv` as of the world's time, then applies its payment.
fn invoice(world: &World, inv: &world::Invoice, bc: &mut Store) {
    let Some(customer) = world
        .customers
        .get(inv.customer)
        .and_then(|c| c.number.clone())
    else {
        return;
    };
    let lines = inv
        .lines
        .iter()
        .map(|l| match &l.kind {
            InvoiceLineKind::Item(i) => {
                let number = world.items.get(*i).map_or("", |i| i.number.as_str());
                InvoiceLine::item(number, l.quantity, l.unit_price)
            }
            InvoiceLineKind::Account {
                number,
                description,
            } => InvoiceLine::other("Account", number, description, l.quantity, l.unit_price),
        })
        .collect();
    let to_post = InvoiceToPost {
        customer_number: customer,
        lines,
        external_document_number: inv.external_document_number.clone(),
        posting_date: Some(inv.posting_date),
        ..Default::default()
    };
    // The header's id, then the lines' in order, as the posting routine asks for them.
    let mut keys = std::iter::once(inv.erp_key).chain(inv.lines.iter().map(|l| l.erp_key));
    let mut new_id = || {
        keys.next()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), guid)
    };
    let Ok(p) = post_with_ids(bc, &to_post, world.now, &mut new_id) else {
        return;
    };
    let total = bc
        .table(INVOICES)
        .and_then(|t| t.get(&p.id))
        .and_then(|r| r.fields.get("totalAmountIncludingTax"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let paid = match inv.payment {
        Payment::Half => (total / 2.0 * 100.0).round() / 100.0,
        Payment::Full => total,
        Payment::None => 0.0,
    };
    if paid > 0.0 {
        let _ = pay(bc, &p.id, paid, world.now);
    }
}
