//! Generating the ERP's price lists (extended pricing): sales price lists in proportion to
//! `records`, each with prices of a share of the items, beside a sales discount list and a
//! purchase price list, and lines that a sync of sales item prices leaves out (discounts,
//! purchase prices, quantity prices, a resource price). Codes come from the price list
//! number series (`S00001`, `P00001`), never the customer price groups' codes, so the price
//! levels of the two pricing variants never match each other by name.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::generate::{draw_key, past};
use super::{AmountType, Asset, Item, PriceList, PriceListLine, PriceType, Resource};

/// Currencies of the sales price lists, in turn (blank = local currency).
const LIST_CURRENCIES: &[&str] = &["", "EUR", "", "GBP", "CAD"];

/// The price lists and their lines: one sales price list per hundred records (at least two;
/// the last one a draft), then a sales discount list and a purchase price list. Every second
/// unblocked item has a price in one of the sales price lists; every tenth of those also a
/// quantity price (minimum quantity 10), a line discount and a purchase price; the first
/// resource has a price in the first list.
pub(super) fn price_lists(
    rng: &mut ChaCha8Rng,
    records: usize,
    items: &[Item],
    resources: &[Resource],
    now: DateTime<Utc>,
) -> (Vec<PriceList>, Vec<PriceListLine>) {
    let sales = records.div_ceil(100).max(2);
    let kinds = (0..sales)
        .map(|i| {
            let currency = LIST_CURRENCIES[i % LIST_CURRENCIES.len()];
            let description = format!("Sales prices {} {currency}", i + 1);
            (
                description.trim().to_string(),
                currency,
                PriceType::Sale,
                AmountType::Price,
            )
        })
        .chain([
            (
                "Sales line discounts".to_string(),
                "",
                PriceType::Sale,
                AmountType::Discount,
            ),
            (
                "Vendor prices".to_string(),
                "",
                PriceType::Purchase,
                AmountType::Price,
            ),
        ]);
    let lists: Vec<PriceList> = kinds
        .enumerate()
        .map(|(i, (description, currency, price_type, amount_type))| {
            let starting = (now - Duration::days(rng.random_range(10..200_i64))).date_naive();
            let ending = (i % 2 == 1)
                .then(|| (now + Duration::days(rng.random_range(60..400_i64))).date_naive());
            let code = match price_type {
                PriceType::Sale => format!("S{:05}", i + 1),
                PriceType::Purchase => "P00001".to_string(),
            };
            PriceList {
                code,
                description,
                currency: currency.into(),
                price_type,
                amount_type,
                active: i + 1 != sales,
                starting,
                ending,
                erp_key: draw_key(rng),
                modified: past(rng, now),
            }
        })
        .collect();
    let mut lines = Vec::new();
    let mut line = |rng: &mut ChaCha8Rng,
                    list: usize,
                    asset: Asset,
                    number: &str,
                    unit: &str,
                    min: f64,
                    price: f64| {
        lines.push(PriceListLine {
            list,
            asset,
            number: number.into(),
            unit: unit.into(),
            minimum_quantity: min,
            price: (price * 100.0).round() / 100.0,
            erp_key: draw_key(rng),
            modified: past(rng, now),
        })
    };
    let (discounts, purchases) = (sales, sales + 1);
    let unblocked = items.iter().filter(|i| !i.blocked).enumerate();
    for (k, item) in unblocked.filter(|(k, _)| k % 2 == 1) {
        let (number, unit, price) = (&item.number, &item.unit, item.price);
        let list = (k / 2) % sales;
        line(rng, list, Asset::Item, number, unit, 0.0, price * 0.95);
        if k % 20 == 1 {
            line(rng, list, Asset::Item, number, unit, 10.0, price * 0.85);
            line(rng, discounts, Asset::Item, number, unit, 0.0, 0.0);
            line(rng, purchases, Asset::Item, number, unit, 0.0, price * 0.6);
        }
    }
    if let Some(r) = resources.first() {
        line(rng, 0, Asset::Resource, &r.number, "HOUR", 0.0, 95.0);
    }
    (lists, lines)
}
