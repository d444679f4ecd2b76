//! Seeded Dataverse quotes, in proportion to `records`, for seeded customer accounts: half
//! Active (Business Central receives them through QUOTE) and half Drafts (never sent). Like
//! the seeded orders they carry a header only (customer, currency, name, Quote Valid Until,
//! ship-to): Dataverse has no products when the sandbox is seeded. Quotes with lines,
//! revisions and won quotes are made by the tests (`tests/e2e/e2e_quotes.rs`).

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::dataverse::LOGICAL_NAME;
use super::dataverse::schema_quotes::QUOTE;
use super::dataverse::write::{Stamp, create};
use super::seed::{guid, obj, pick};
use super::table::{Row, Store};

fn is_customer(row: &Row) -> bool {
    let kind = row.fields.get("customertypecode");
    row.fields.get("statecode").and_then(Value::as_i64) == Some(0)
        && (matches!(kind, None | Some(Value::Null)) || kind.and_then(Value::as_i64) == Some(3))
}

/// Seeds a twentieth of `records` quotes (at least one of each state when there are
/// customers).
pub(crate) fn seed(
    rng: &mut ChaCha8Rng,
    records: usize,
    humans: &[String],
    usd: Option<&String>,
    now: DateTime<Utc>,
    dv: &mut Store,
) {
    let mut customers: Vec<(String, String)> = dv
        .table("accounts")
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| is_customer(r))
                .map(|(id, r)| {
                    let city = r
                        .fields
                        .get("address1_city")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    (id.to_string(), city)
                })
                .collect()
        })
        .unwrap_or_default();
    if customers.is_empty() {
        return;
    }
    customers.sort();
    let n = records.div_ceil(20).max(2);
    for k in 0..n {
        let (account, city) = &customers[(k * 11) % customers.len()];
        let active = k % 2 == 0;
        let id = guid(rng);
        let user = pick(rng, humans).clone();
        let at = now - Duration::seconds(rng.random_range(3_600..10 * 86_400));
        let until = (now + Duration::days(rng.random_range(14..90)))
            .format("%Y-%m-%d")
            .to_string();
        let mut f = obj(json!({
            "name": format!("RFQ {}", 5000 + k),
            "_customerid_value": account,
            "effectiveto": until,
            "shipto_city": city,
            "_ownerid_value": user,
            "statecode": if active { 1 } else { 0 },
            "statuscode": if active { 2 } else { 1 },
        }));
        f.insert(format!("_customerid_value{LOGICAL_NAME}"), json!("account"));
        if let Some(usd) = usd {
            f.insert("_transactioncurrencyid_value".into(), json!(usd));
            f.insert(
                format!("_transactioncurrencyid_value{LOGICAL_NAME}"),
                json!("transactioncurrency"),
            );
        }
        create(dv, &QUOTE, &id, f, &Stamp { user, at });
    }
}

#[cfg(test)]
mod tests {
    use crate::sandbox::config::SandboxConfig;
    use crate::sandbox::table::Store;

    #[test]
    fn quotes_are_seeded_half_active_with_numbers() {
        let cfg = SandboxConfig {
            records: 40,
            seed: 3,
            ..Default::default()
        };
        let (mut dv, mut bc) = (Store::default(), Store::default());
        crate::sandbox::seed::seed(
            &cfg,
            &crate::sandbox::seed::credentials(cfg.seed),
            &mut dv,
            &mut bc,
        );
        let quotes: Vec<_> = dv
            .table("quotes")
            .map(|t| {
                t.live()
                    .into_iter()
                    .map(|(_, r)| r.fields.clone())
                    .collect()
            })
            .unwrap_or_else(Vec::new);
        assert_eq!(quotes.len(), 2);
        let active = quotes.iter().filter(|q| q["statecode"] == 1).count();
        assert_eq!(active, 1);
        assert!(
            quotes
                .iter()
                .all(|q| q["quotenumber"].as_str().unwrap().starts_with("QUO-")
                    && q["revisionnumber"] == 0)
        );
    }
}
