//! One customer's account statistics, as the CRM stores them (`nav_accountstatistics`): the
//! figures an ERP computes for it (Business Central's in
//! `src/systems/bc/documents/statistics.rs`).

use chrono::NaiveDate;
use serde_json::json;

use crate::event::Fields;

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
