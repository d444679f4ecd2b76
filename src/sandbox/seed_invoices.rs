//! Seeded posted sales invoices in Business Central, in proportion to `records`: one for every
//! twentieth unblocked customer (at least one), with one or two item lines and sometimes a
//! freight line on a G/L account (a write-in line in Dataverse); a third are partly paid, a
//! third paid in full, and some are overdue. Business Central's POSTEDSALESINV-INV creates them
//! in Dataverse and keeps their payment state.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use super::bc::write_invoices::{pay, post_with_ids};
use super::invoices::{InvoiceLine, InvoiceToPost};
use super::seed::guid;
use super::table::Store;

fn text(f: &crate::event::Fields, k: &str) -> String {
    f.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Posts the seeded invoices (and payments) into `bc`.
pub(crate) fn seed(rng: &mut ChaCha8Rng, records: usize, now: DateTime<Utc>, bc: &mut Store) {
    let rows = |set: &str, keep: &dyn Fn(&crate::event::Fields) -> bool| -> Vec<String> {
        bc.table(set)
            .map(|t| {
                t.live()
                    .into_iter()
                    .filter(|(_, r)| keep(&r.fields))
                    .map(|(_, r)| text(&r.fields, "number"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let customers = rows("customers", &|f| text(f, "blocked").trim().is_empty());
    let items = rows("items", &|f| f.get("blocked") != Some(&Value::Bool(true)));
    if customers.is_empty() || items.is_empty() {
        return;
    }
    let n = records.div_ceil(20).max(1);
    for k in 0..n {
        let customer = &customers[(k * 11) % customers.len()];
        let mut lines = vec![InvoiceLine::item(
            &items[(k * 5) % items.len()],
            rng.random_range(1..10) as f64,
            rng.random_range(500..20_000) as f64 / 100.0,
        )];
        if k % 2 == 1 {
            lines.push(InvoiceLine::item(
                &items[(k * 5 + 3) % items.len()],
                1.0,
                rng.random_range(500..5_000) as f64 / 100.0,
            ));
        }
        if k % 3 == 0 {
            lines.push(InvoiceLine::other("Account", "6120", "Freight", 1.0, 25.0));
        }
        let posted = now - Duration::days(rng.random_range(1..60));
        let inv = InvoiceToPost {
            customer_number: customer.clone(),
            lines,
            external_document_number: format!("PO {}", 7000 + k),
            posting_date: Some(posted.date_naive()),
            ..Default::default()
        };
        let Ok(p) = post_with_ids(bc, &inv, now, &mut || guid(rng)) else {
            continue;
        };
        let total = bc
            .table(super::bc::write_invoices::INVOICES)
            .and_then(|t| t.get(&p.id))
            .and_then(|r| r.fields.get("totalAmountIncludingTax"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let paid = match k % 3 {
            1 => (total / 2.0 * 100.0).round() / 100.0,
            2 => total,
            _ => 0.0,
        };
        if paid > 0.0 {
            let _ = pay(bc, &p.id, paid, now);
        }
    }
}
