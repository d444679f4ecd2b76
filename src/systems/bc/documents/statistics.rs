//! A coupled customer's account statistics from Business Central's API, as BC's FlowFields
//! compute them (see `src/invoices/statistics.rs` for each figure).

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::event::Fields;
use crate::invoices::figures::Statistics;
use crate::systems::http::urls::odata_literal;
use crate::systems::{BcClient, SystemError};

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn text<'a>(f: &'a Fields, k: &str) -> &'a str {
    f.get(k).and_then(Value::as_str).unwrap_or("").trim()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn date(f: &Fields, k: &str) -> Option<NaiveDate> {
    let s = text(f, k);
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").ok()
}

/// Computes the statistics of `customer` from its invoices (posted and unposted) and the
/// lines of its open orders, on `today`.
pub fn compute(
    customer: &Fields,
    invoices: &[Fields],
    order_lines: &[Fields],
    today: NaiveDate,
) -> Statistics {
    let mut outstanding_orders = 0.0;
    let mut shipped_not_invoiced = 0.0;
    for l in order_lines {
        let qty = num(l, "quantity");
        if qty <= 0.0 || text(l, "lineType") == "Comment" {
            continue;
        }
        let net = num(l, "amountExcludingTax") / qty;
        let shipped = num(l, "shippedQuantity").clamp(0.0, qty);
        let invoiced = num(l, "invoicedQuantity").clamp(0.0, shipped);
        outstanding_orders += (qty - shipped) * net;
        shipped_not_invoiced += (shipped - invoiced) * net;
    }
    let mut outstanding_invoices = 0.0;
    let mut overdue = 0.0;
    let mut total_sales = 0.0;
    for inv in invoices {
        match text(inv, "status") {
            "Draft" | "In Review" | "" => {
                outstanding_invoices += num(inv, "totalAmountIncludingTax");
            }
            "Canceled" => {}
            status => {
                total_sales += num(inv, "totalAmountExcludingTax");
                if status == "Open" && date(inv, "dueDate").is_some_and(|d| d < today) {
                    overdue += num(inv, "remainingAmount");
                }
            }
        }
    }
    let balance = num(customer, "balanceDue");
    let (outstanding_orders, shipped_not_invoiced, outstanding_invoices) = (
        round2(outstanding_orders),
        round2(shipped_not_invoiced),
        round2(outstanding_invoices),
    );
    Statistics {
        name: text(customer, "displayName").to_string(),
        customer_no: text(customer, "number").to_string(),
        balance,
        outstanding_orders,
        shipped_not_invoiced,
        outstanding_invoices,
        total: round2(balance + outstanding_orders + shipped_not_invoiced + outstanding_invoices),
        credit_limit: num(customer, "creditLimit"),
        overdue: round2(overdue),
        overdue_as_of: today,
        total_sales: round2(total_sales),
    }
}

/// Reads Business Central's figures for customer `customer_id`.
pub async fn read(bc: &BcClient, customer_id: &str) -> Result<Option<Statistics>, SystemError> {
    let Some(customer) = bc.get("customers", customer_id).await? else {
        return Ok(None);
    };
    let by_customer = format!(
        "customerNumber eq {}",
        odata_literal(&json!(text(&customer, "number")))
    );
    let invoices = bc.query("salesInvoices", &by_customer).await?;
    let mut lines = Vec::new();
    for order in bc.query("salesOrders", &by_customer).await? {
        let id = text(&order, "id");
        if id.is_empty() {
            continue;
        }
        lines.extend(
            bc.query(
                &format!("salesOrders({id})/salesOrderLines"),
                "sequence ge 0",
            )
            .await?,
        );
    }
    let today = chrono::Utc::now().date_naive();
    Ok(Some(compute(&customer, &invoices, &lines, today)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn statistics_as_bc_computes_them() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let customer = obj(
            json!({"number":"C1","displayName":"Adatum","balanceDue":250.0,"creditLimit":1000.0}),
        );
        let invoices = vec![
            obj(
                json!({"status":"Open","totalAmountExcludingTax":100.0,"totalAmountIncludingTax":110.0,"remainingAmount":60.0,"dueDate":"2026-05-01"}),
            ),
            obj(
                json!({"status":"Open","totalAmountExcludingTax":200.0,"totalAmountIncludingTax":200.0,"remainingAmount":200.0,"dueDate":"2026-07-01"}),
            ),
            obj(
                json!({"status":"Paid","totalAmountExcludingTax":50.0,"totalAmountIncludingTax":50.0,"remainingAmount":0.0,"dueDate":"2026-01-01"}),
            ),
            obj(
                json!({"status":"Canceled","totalAmountExcludingTax":70.0,"totalAmountIncludingTax":70.0,"remainingAmount":0.0}),
            ),
            obj(json!({"status":"Draft","totalAmountIncludingTax":30.0})),
        ];
        let lines = vec![
            obj(json!({"lineType":"Item","quantity":4.0,"amountExcludingTax":40.0})),
            obj(
                json!({"lineType":"Item","quantity":2.0,"amountExcludingTax":20.0,"shippedQuantity":2.0,"invoicedQuantity":1.0}),
            ),
            obj(json!({"lineType":"Comment","quantity":0.0})),
        ];
        let s = compute(&customer, &invoices, &lines, today);
        assert_eq!(s.balance, 250.0);
        assert_eq!(s.outstanding_orders, 40.0);
        assert_eq!(s.shipped_not_invoiced, 10.0);
        assert_eq!(s.outstanding_invoices, 30.0);
        assert_eq!(s.total, 330.0);
        assert_eq!(s.overdue, 60.0);
        assert_eq!(s.total_sales, 350.0);
        assert_eq!(s.credit_limit, 1000.0);
        let f = s.to_dataverse(Some("c1"));
        assert_eq!(f["nav_customerno"], json!("C1"));
        assert_eq!(f["nav_overdueamountsasof"], json!("2026-06-01"));
        assert_eq!(
            f["transactioncurrencyid@odata.bind"],
            json!("/transactioncurrencies(c1)")
        );
    }
}
