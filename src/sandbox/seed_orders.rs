//! Seeded Dataverse sales orders, in proportion to `records`, for seeded customer accounts:
//! half Submitted (Business Central creates them through SALESORDER) and half Active drafts
//! (never sent). Dataverse holds no products at seeding time (Business Central's items become
//! products through ITEM-PRODUCT), so a submitted seeded order carries its header (customer,
//! currency, external document no., requested delivery date, payment terms, ship-to) and no
//! product lines; drafts carry write-in lines. Orders with product lines are made by the tests
//! once products are coupled (`tests/e2e/e2e_orders*.rs`).

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::dataverse::LOGICAL_NAME;
use super::dataverse::schema_orders::{SALESORDER, SALESORDERDETAIL};
use super::dataverse::write::{Stamp, create};
use super::names::*;
use super::seed::{guid, obj, pick};
use super::table::{Row, Store};

fn text<'a>(row: &'a Row, k: &str) -> &'a str {
    row.fields.get(k).and_then(Value::as_str).unwrap_or("")
}

/// True for an active customer account (inside CUSTOMER's Dataverse filter).
fn is_customer(row: &Row) -> bool {
    let kind = row.fields.get("customertypecode");
    row.fields.get("statecode").and_then(Value::as_i64) == Some(0)
        && (matches!(kind, None | Some(Value::Null)) || kind.and_then(Value::as_i64) == Some(3))
}

/// Seeds a tenth of `records` orders (at least one of each state when there are customers).
pub(crate) fn seed(
    rng: &mut ChaCha8Rng,
    records: usize,
    humans: &[String],
    usd: Option<&String>,
    now: DateTime<Utc>,
    dv: &mut Store,
) {
    let customers: Vec<(String, Value, String)> = dv
        .table("accounts")
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| is_customer(r))
                .map(|(id, r)| {
                    (
                        id.to_string(),
                        r.fields
                            .get("paymenttermscode")
                            .cloned()
                            .unwrap_or(Value::Null),
                        text(r, "address1_city").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if customers.is_empty() {
        return;
    }
    let n = records.div_ceil(10).max(2);
    for k in 0..n {
        let (account, terms, city) = &customers[(k * 7) % customers.len()];
        let submitted = k % 2 == 0;
        let id = guid(rng);
        let user = pick(rng, humans).clone();
        let at = now - Duration::seconds(rng.random_range(3_600..10 * 86_400));
        let delivery = (now + Duration::days(rng.random_range(7..60)))
            .format("%Y-%m-%d")
            .to_string();
        let mut f = obj(json!({
            "name": format!("PO {}", 4000 + k),
            "_customerid_value": account,
            "requestdeliveryby": delivery,
            "paymenttermscode": terms,
            "shipto_city": city,
            "_ownerid_value": user,
            "statecode": if submitted { 1 } else { 0 },
            "statuscode": if submitted { 3 } else { 1 },
        }));
        f.insert(format!("_customerid_value{LOGICAL_NAME}"), json!("account"));
        if let Some(usd) = usd {
            f.insert("_transactioncurrencyid_value".into(), json!(usd));
            f.insert(
                format!("_transactioncurrencyid_value{LOGICAL_NAME}"),
                json!("transactioncurrency"),
            );
        }
        create(
            dv,
            &SALESORDER,
            &id,
            f,
            &Stamp {
                user: user.clone(),
                at,
            },
        );
        if submitted {
            continue;
        }
        for seq in 1..=rng.random_range(1..4_i64) {
            let line = guid(rng);
            let mut l = obj(json!({
                "_salesorderid_value": id,
                "sequencenumber": seq,
                "isproductoverridden": true,
                "productdescription": format!("{} {}", pick(rng, PRODUCT_FIRST), pick(rng, PRODUCT_SECOND)),
                "quantity": rng.random_range(1..20) as f64,
                "priceperunit": (rng.random_range(500..50_000) as f64) / 100.0,
            }));
            l.insert(
                format!("_salesorderid_value{LOGICAL_NAME}"),
                json!("salesorder"),
            );
            create(
                dv,
                &SALESORDERDETAIL,
                &line,
                l,
                &Stamp {
                    user: user.clone(),
                    at,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::sandbox::SandboxConfig;

    #[test]
    fn orders_are_seeded_for_customers_half_submitted_with_drafts_carrying_lines() {
        let cfg = SandboxConfig {
            records: 200,
            ..Default::default()
        };
        let (mut dv, mut bc) = (Store::default(), Store::default());
        crate::sandbox::seed::seed(
            &cfg,
            &crate::sandbox::seed::credentials(cfg.seed),
            &mut dv,
            &mut bc,
        );
        let orders = dv.table("salesorders").unwrap().live();
        assert_eq!(orders.len(), 20);
        let submitted: Vec<_> = orders
            .iter()
            .filter(|(_, r)| r.fields["statecode"] == json!(1))
            .collect();
        assert_eq!(submitted.len(), 10);
        let accounts = dv.table("accounts").unwrap();
        for (_, o) in &orders {
            let account = accounts.get(text(o, "_customerid_value")).unwrap();
            assert!(is_customer(account));
            assert!(text(o, "ordernumber").starts_with("ORD-"));
        }
        let lines = dv.table("salesorderdetails").unwrap().live();
        let parents: std::collections::HashSet<&str> = lines
            .iter()
            .map(|(_, l)| text(l, "_salesorderid_value"))
            .collect();
        assert_eq!(parents.len(), 10, "every draft has lines");
        assert!(submitted.iter().all(|(id, _)| !parents.contains(id)));
        // No customers, no orders.
        let mut empty = Store::default();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        seed(&mut rng, 50, &["u".into()], None, Utc::now(), &mut empty);
        assert!(empty.table("salesorders").is_none());
    }
}
