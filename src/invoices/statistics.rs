//! Account statistics of coupled customers, as Business Central's CRM Statistics Job writes
//! them to `nav_accountstatistics` (linked through `account.nav_accountstatisticsid`), but
//! refreshed whenever Couplet writes one of the customer's invoices (posting, payment,
//! cancellation) or creates one of its orders, seconds after the change instead of every 30
//! minutes.
//!
//! The figures are computed from Business Central's API, as BC's FlowFields compute them:
//! - Balance (LCY): the customer's `balanceDue`.
//! - Outstanding Orders (LCY): the not yet shipped part of the customer's open order lines
//!   (`quantity − shippedQuantity` at the line's net price).
//! - Shipped Not Invoiced (LCY): `shippedQuantity − invoicedQuantity` at the net price (0
//!   while the order lines carry no shipped quantity).
//! - Outstanding Invoices (LCY): unposted invoices (`Draft`, `In Review`), incl. tax.
//! - Total (LCY): the sum of the four above.
//! - Credit Limit (LCY): the customer's `creditLimit`.
//! - Overdue Amounts (LCY): the remaining amount of open posted invoices due before today, as
//!   of today.
//! - Total Sales (LCY): the amount excluding tax of posted invoices not cancelled.
//!
//! Amounts are summed as Business Central returns them: documents in a foreign currency are
//! not converted to the local currency (the sandbox has no exchange rates).

use std::sync::LazyLock;

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::apply::Targets;
use crate::apply::locks::KeyLocks;
use crate::event::Fields;
use crate::metrics::metrics;
use crate::systems::http::urls::odata_literal;
use crate::systems::{BcClient, DataverseClient, SystemError};
use crate::transform::CurrencyTable;

/// The Dataverse entity set of the statistics.
pub const SET: &str = "nav_accountstatisticses";
/// The account's lookup to its statistics.
pub const ACCOUNT_LINK: &str = "nav_accountstatisticsid";

/// One customer's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// The customer's name.
    pub name: String,
    /// The customer's number.
    pub customer_no: String,
    /// Balance (LCY).
    pub balance: f64,
    /// Outstanding Orders (LCY).
    pub outstanding_orders: f64,
    /// Shipped Not Invoiced (LCY).
    pub shipped_not_invoiced: f64,
    /// Outstanding Invoices (LCY).
    pub outstanding_invoices: f64,
    /// Total (LCY).
    pub total: f64,
    /// Credit Limit (LCY).
    pub credit_limit: f64,
    /// Overdue Amounts (LCY).
    pub overdue: f64,
    /// The date the overdue amounts are measured at.
    pub overdue_as_of: NaiveDate,
    /// Total Sales (LCY).
    pub total_sales: f64,
}

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

impl Statistics {
    /// The `nav_accountstatistics` columns; `lcy` is the local currency's transactioncurrency.
    pub fn to_dataverse(&self, lcy: Option<&str>) -> Fields {
        let mut f = Fields::new();
        f.insert("nav_name".into(), json!(self.name));
        f.insert("nav_customerno".into(), json!(self.customer_no));
        f.insert("nav_balancelcy".into(), json!(self.balance));
        f.insert(
            "nav_outstandingorderslcy".into(),
            json!(self.outstanding_orders),
        );
        f.insert(
            "nav_shippednotinvoicedlcy".into(),
            json!(self.shipped_not_invoiced),
        );
        f.insert(
            "nav_outstandinginvoiceslcy".into(),
            json!(self.outstanding_invoices),
        );
        f.insert("nav_totallcy".into(), json!(self.total));
        f.insert("nav_creditlimitlcy".into(), json!(self.credit_limit));
        f.insert("nav_overdueamountslcy".into(), json!(self.overdue));
        f.insert(
            "nav_overdueamountsasof".into(),
            json!(self.overdue_as_of.format("%Y-%m-%d").to_string()),
        );
        f.insert("nav_totalsaleslcy".into(), json!(self.total_sales));
        if let Some(c) = lcy {
            f.insert(
                "transactioncurrencyid@odata.bind".into(),
                json!(format!("/transactioncurrencies({c})")),
            );
        }
        f
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

/// One refresh at a time per customer in this process (so two invoices of one customer do
/// not both create its statistics row).
static LOCKS: LazyLock<KeyLocks> = LazyLock::new(KeyLocks::default);

/// Recomputes customer `customer_id`'s statistics and writes them to the statistics row of
/// account `account_id`, creating the row and linking the account when it has none. Returns
/// whether a row was created.
pub async fn refresh(
    bc: &BcClient,
    dv: &DataverseClient,
    currencies: &CurrencyTable,
    customer_id: &str,
    account_id: &str,
) -> Result<bool, SystemError> {
    let _guard = LOCKS.lock(customer_id).await;
    let Some(stats) = read(bc, customer_id).await? else {
        return Ok(false);
    };
    let Some(account) = dv
        .get(
            "accounts",
            account_id,
            &["accountid", "_nav_accountstatisticsid_value"],
        )
        .await?
    else {
        return Ok(false);
    };
    let fields = stats.to_dataverse(currencies.id_for_erp_code("").as_deref());
    let linked = account
        .get("_nav_accountstatisticsid_value")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if let Some(id) = linked {
        match dv.update(SET, &id, &fields, None).await {
            Ok(_) => return Ok(false),
            Err(e) if e.is_not_found() => {
                tracing::info!(statistics = %id, "The account's statistics row was deleted; creating a new one.");
            }
            Err(e) => return Err(e),
        }
    }
    let w = dv.create(SET, &fields).await?;
    let mut link = Fields::new();
    link.insert(
        format!("{ACCOUNT_LINK}@odata.bind"),
        json!(format!("/{SET}({})", w.id)),
    );
    dv.update("accounts", account_id, &link, None).await?;
    Ok(true)
}

/// [`refresh`] for the apply stage: a failure is logged and counted (the next change of the
/// customer's invoices or orders refreshes the statistics again), never an invoice failure.
pub async fn refresh_logged(
    targets: &Targets,
    currencies: &CurrencyTable,
    mapping: &str,
    customer_id: &str,
    account_id: &str,
) {
    let (Some(bc), Some(dv)) = (
        targets.erp.client::<crate::systems::BcClient>(),
        targets.crm.client::<crate::systems::DataverseClient>(),
    ) else {
        return;
    };
    let span =
        tracing::info_span!("account_statistics", customer = %customer_id, account = %account_id);
    let _e = span.enter();
    let result = refresh(bc, dv, currencies, customer_id, account_id).await;
    let outcome = match &result {
        Ok(true) => "created",
        Ok(false) => "updated",
        Err(_) => "failed",
    };
    metrics()
        .records
        .with_label_values(&[mapping, "statistics", outcome])
        .inc();
    if let Err(e) = result {
        metrics()
            .failures
            .with_label_values(&[mapping, "statistics", crate::error::Classify::class(&e)])
            .inc();
        tracing::warn!(error = %e, "Could not refresh the account statistics; the next change of the customer's invoices or orders tries again.");
    }
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
