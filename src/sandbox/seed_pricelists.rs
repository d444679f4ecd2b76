//! Seed data of Business Central's price lists (extended pricing): sales price lists in
//! proportion to `records`, each with prices of a share of the items, beside a sales discount
//! list and a purchase price list and lines that Business Central's PLHEADER-PRICE /
//! PLLINE-PRODPRICE filters leave out. Codes come from the price list number series (`S00001`,
//! `P00001`), never the customer price groups' codes, so the price levels of the two pricing
//! variants never match each other by name.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::bc::timestamp as bc_time;
use super::seed::{guid, obj};
use super::table::Store;

/// Business Central's blank date, as API pages show it.
pub(crate) const BLANK_DATE: &str = "0001-01-01";

/// Currencies of the sales price lists, in turn (blank = local currency).
const LIST_CURRENCIES: &[&str] = &["", "EUR", "", "GBP", "CAD"];

fn put(bc: &mut Store, set: &str, f: Value) {
    let v = bc.next_version();
    let id = f
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    bc.table_mut(set).put(&id, obj(f), v);
}

struct Header {
    code: String,
    currency: &'static str,
    price_type: &'static str,
    amount_type: &'static str,
}

/// Seeds `priceListHeaders` and `priceListLines`; `items` are the unblocked items as
/// (number, base unit, unit price), `resources` the resource numbers.
pub(crate) fn seed(
    rng: &mut ChaCha8Rng,
    records: usize,
    items: &[(String, &str, f64)],
    resources: &[String],
    now: DateTime<Utc>,
    bc: &mut Store,
) {
    let past = |rng: &mut ChaCha8Rng| now - Duration::seconds(rng.random_range(3_600..40 * 86_400));
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();

    // One sales price list per hundred records (at least two), then a sales discount list and
    // a purchase price list.
    let sales = records.div_ceil(100).max(2);
    let mut headers: Vec<Header> = (0..sales)
        .map(|i| Header {
            code: format!("S{:05}", i + 1),
            currency: LIST_CURRENCIES[i % LIST_CURRENCIES.len()],
            price_type: "Sale",
            amount_type: "Price",
        })
        .collect();
    headers.push(Header {
        code: format!("S{:05}", sales + 1),
        currency: "",
        price_type: "Sale",
        amount_type: "Discount",
    });
    headers.push(Header {
        code: "P00001".into(),
        currency: "",
        price_type: "Purchase",
        amount_type: "Price",
    });
    for (i, h) in headers.iter().enumerate() {
        let starting = day(now - Duration::days(rng.random_range(10..200)));
        let ending = if i % 2 == 0 {
            BLANK_DATE.to_string()
        } else {
            day(now + Duration::days(rng.random_range(60..400)))
        };
        let description = match (h.price_type, h.amount_type) {
            ("Sale", "Price") => format!("Sales prices {} {}", i + 1, h.currency)
                .trim()
                .to_string(),
            ("Sale", _) => "Sales line discounts".to_string(),
            _ => "Vendor prices".to_string(),
        };
        let status = if i + 1 == sales { "Draft" } else { "Active" };
        put(
            bc,
            "priceListHeaders",
            json!({
                "id": guid(rng), "code": h.code, "description": description, "currencyCode": h.currency,
                "status": status, "priceType": h.price_type, "amountType": h.amount_type,
                "startingDate": starting, "endingDate": ending, "lastModifiedDateTime": bc_time(past(rng)),
            }),
        );
    }

    // Every second item has a price in one of the sales price lists; every tenth of those also
    // a quantity price (minimum quantity 10), a line discount and a purchase price.
    let line = |rng: &mut ChaCha8Rng,
                h: &Header,
                asset: (&str, &str, &str),
                min_qty: f64,
                price: f64| {
        let (asset_type, number, unit) = asset;
        json!({
            "id": guid(rng), "priceListCode": h.code, "priceType": h.price_type, "amountType": h.amount_type,
            "assetType": asset_type, "assetNo": number, "productNo": number, "currencyCode": h.currency,
            "unitOfMeasureCode": unit, "minimumQuantity": min_qty,
            "unitPrice": (price * 100.0).round() / 100.0, "lastModifiedDateTime": bc_time(past(rng)),
        })
    };
    let (discounts, purchases) = (&headers[sales], &headers[sales + 1]);
    for (k, (number, unit, price)) in items.iter().enumerate().filter(|(k, _)| k % 2 == 1) {
        let h = &headers[(k / 2) % sales];
        let f = line(rng, h, ("Item", number, unit), 0.0, price * 0.95);
        put(bc, "priceListLines", f);
        if k % 20 == 1 {
            let f = line(rng, h, ("Item", number, unit), 10.0, price * 0.85);
            put(bc, "priceListLines", f);
            let f = line(rng, discounts, ("Item", number, unit), 0.0, 0.0);
            put(bc, "priceListLines", f);
            let f = line(rng, purchases, ("Item", number, unit), 0.0, price * 0.6);
            put(bc, "priceListLines", f);
        }
    }
    // A resource price (PLLINE-PRODPRICE carries item prices only, see the README).
    if let Some(r) = resources.first() {
        let f = line(rng, &headers[0], ("Resource", r, "HOUR"), 0.0, 95.0);
        put(bc, "priceListLines", f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rows(bc: &Store, set: &str) -> Vec<crate::event::Fields> {
        bc.table(set)
            .map(|t| t.live().iter().map(|(_, r)| r.fields.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn price_lists_grow_with_records_and_hold_lines_the_filters_leave_out() {
        let items: Vec<(String, &str, f64)> = (1..=100)
            .map(|i| (format!("I{i:05}"), "PCS", 10.0 * i as f64))
            .collect();
        let mut bc = Store::default();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        seed(
            &mut rng,
            1000,
            &items,
            &["R00001".into()],
            Utc::now(),
            &mut bc,
        );
        let headers = rows(&bc, "priceListHeaders");
        let sale_price =
            |r: &crate::event::Fields| r["priceType"] == "Sale" && r["amountType"] == "Price";
        assert_eq!(headers.iter().filter(|r| sale_price(r)).count(), 10);
        assert_eq!(headers.len(), 12);
        for h in &headers {
            let code = h["code"].as_str().unwrap();
            assert!(code.starts_with('S') || code.starts_with('P'), "{code}");
            assert!(!["RETAIL", "WHOLESALE", "EXPORT"].contains(&code));
        }
        let lines = rows(&bc, "priceListLines");
        let carried = lines
            .iter()
            .filter(|r| sale_price(r) && r["assetType"] == "Item" && r["minimumQuantity"] == 0.0)
            .count();
        assert_eq!(carried, 50);
        assert!(lines.len() > carried + 10);
        // Every line's price list exists.
        for l in &lines {
            assert!(headers.iter().any(|h| h["code"] == l["priceListCode"]));
        }
    }
}
