//! Generating the documents: sales orders and quotes in the CRM, posted sales invoices and
//! opening stock in the ERP. Each kind draws from its own stream, so adding one left the
//! records before it as they were.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::generate::{draw_key, pick};
use super::names::{PRODUCT_FIRST, PRODUCT_SECOND};
use super::{
    Company, Invoice, InvoiceLine, InvoiceLineKind, Item, Key, OpeningStock, Order, OrderLine,
    Payment, Quote,
};

/// What the documents refer to.
pub(super) struct Inputs<'a> {
    /// The number of customer companies asked for.
    pub records: usize,
    /// The number of users (owners).
    pub users: usize,
    /// The customer companies.
    pub customers: &'a [Company],
    /// The items.
    pub items: &'a [Item],
    /// The seeding time.
    pub now: DateTime<Utc>,
}

/// Indices of the companies with a record on one side, in the order of that side's keys.
fn by_key(customers: &[Company], key: impl Fn(&Company) -> Option<Key>) -> Vec<usize> {
    let mut v: Vec<(Key, usize)> = customers
        .iter()
        .enumerate()
        .filter_map(|(i, c)| key(c).map(|k| (k, i)))
        .collect();
    v.sort_unstable();
    v.into_iter().map(|(_, i)| i).collect()
}

/// A tenth of `records` orders (at least two when the CRM has customers), for the CRM's
/// customers in turn: even ones submitted, odd ones drafts with one to three write-in lines.
pub(super) fn orders(rng: &mut ChaCha8Rng, d: &Inputs<'_>, currency: &str) -> Vec<Order> {
    let customers = by_key(d.customers, |c| c.crm.as_ref().map(|r| r.key));
    if customers.is_empty() {
        return Vec::new();
    }
    let n = d.records.div_ceil(10).max(2);
    (0..n)
        .map(|k| {
            let customer = customers[(k * 7) % customers.len()];
            let submitted = k % 2 == 0;
            let crm_key = draw_key(rng);
            let owner = rng.random_range(0..d.users);
            let created = d.now - Duration::seconds(rng.random_range(3_600_i64..10 * 86_400));
            let requested_delivery =
                (d.now + Duration::days(rng.random_range(7..60_i64))).date_naive();
            let lines = if submitted {
                Vec::new()
            } else {
                (1..=rng.random_range(1..4_i64))
                    .map(|sequence| OrderLine {
                        sequence,
                        crm_key: draw_key(rng),
                        description: format!(
                            "{} {}",
                            pick(rng, PRODUCT_FIRST),
                            pick(rng, PRODUCT_SECOND)
                        ),
                        quantity: rng.random_range(1..20_i32) as f64,
                        unit_price: (rng.random_range(500..50_000_i32) as f64) / 100.0,
                    })
                    .collect()
            };
            Order {
                name: format!("PO {}", 4000 + k),
                customer,
                owner,
                submitted,
                created,
                requested_delivery,
                currency: currency.into(),
                lines,
                crm_key,
            }
        })
        .collect()
}

/// A twentieth of `records` quotes (at least two when the CRM has customers), for the CRM's
/// customers in turn: even ones active, odd ones drafts.
pub(super) fn quotes(rng: &mut ChaCha8Rng, d: &Inputs<'_>, currency: &str) -> Vec<Quote> {
    let customers = by_key(d.customers, |c| c.crm.as_ref().map(|r| r.key));
    if customers.is_empty() {
        return Vec::new();
    }
    let n = d.records.div_ceil(20).max(2);
    (0..n)
        .map(|k| {
            let crm_key = draw_key(rng);
            let owner = rng.random_range(0..d.users);
            let created = d.now - Duration::seconds(rng.random_range(3_600_i64..10 * 86_400));
            let valid_until = (d.now + Duration::days(rng.random_range(14..90_i64))).date_naive();
            Quote {
                name: format!("RFQ {}", 5000 + k),
                customer: customers[(k * 11) % customers.len()],
                owner,
                active: k % 2 == 0,
                created,
                valid_until,
                currency: currency.into(),
                crm_key,
            }
        })
        .collect()
}

/// A twentieth of `records` posted invoices (at least one when the ERP has customers and
/// unblocked items), for the ERP's customers in turn: one or two item lines, and a freight
/// line on a G/L account for every third; a third of them partly paid, a third paid in full.
pub(super) fn invoices(rng: &mut ChaCha8Rng, d: &Inputs<'_>) -> Vec<Invoice> {
    let customers = by_key(d.customers, |c| c.erp.as_ref().map(|r| r.key));
    let mut items: Vec<(Key, usize)> = d
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.blocked)
        .map(|(k, i)| (i.erp_key, k))
        .collect();
    items.sort_unstable();
    if customers.is_empty() || items.is_empty() {
        return Vec::new();
    }
    let n = d.records.div_ceil(20).max(1);
    (0..n)
        .map(|k| {
            let item = |n: usize| InvoiceLineKind::Item(items[n % items.len()].1);
            let mut lines = vec![(
                item(k * 5),
                rng.random_range(1..10_i32) as f64,
                rng.random_range(500..20_000_i32) as f64 / 100.0,
            )];
            if k % 2 == 1 {
                let price = rng.random_range(500..5_000_i32) as f64 / 100.0;
                lines.push((item(k * 5 + 3), 1.0, price));
            }
            if k % 3 == 0 {
                let freight = InvoiceLineKind::Account {
                    number: "6120".into(),
                    description: "Freight".into(),
                };
                lines.push((freight, 1.0, 25.0));
            }
            let posting_date = (d.now - Duration::days(rng.random_range(1..60_i64))).date_naive();
            let erp_key = draw_key(rng);
            let lines = lines
                .into_iter()
                .map(|(kind, quantity, unit_price)| InvoiceLine {
                    kind,
                    quantity,
                    unit_price,
                    erp_key: draw_key(rng),
                })
                .collect();
            Invoice {
                customer: customers[(k * 11) % customers.len()],
                external_document_number: format!("PO {}", 7000 + k),
                posting_date,
                lines,
                payment: match k % 3 {
                    1 => Payment::Half,
                    2 => Payment::Full,
                    _ => Payment::None,
                },
                erp_key,
            }
        })
        .collect()
}

/// Opening stock of every item with stock, in item number order.
pub(super) fn opening_stock(rng: &mut ChaCha8Rng, items: &[Item]) -> Vec<OpeningStock> {
    let mut with_stock: Vec<(&str, usize)> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.stock != 0.0)
        .map(|(k, i)| (i.number.as_str(), k))
        .collect();
    with_stock.sort_unstable();
    with_stock
        .into_iter()
        .map(|(_, item)| OpeningStock {
            item,
            erp_key: draw_key(rng),
        })
        .collect()
}
