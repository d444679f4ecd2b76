//! Account statistics of coupled customers, as Business Central's CRM Statistics Job writes
//! them to `nav_accountstatistics` (linked through `account.nav_accountstatisticsid`), but
//! refreshed whenever Couplet writes one of the customer's invoices (posting, payment,
//! cancellation) or creates one of its orders, seconds after the change instead of every 30
//! minutes.
//!
//! The figures are the ERP's (`ErpDocuments::customer_statistics`); Business Central's are
//! computed from its API (`src/systems/bc/documents/statistics.rs`), as BC's FlowFields
//! compute them:
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

use serde_json::{Value, json};

use crate::apply::Targets;
use crate::apply::locks::KeyLocks;
use crate::event::Fields;
use crate::metrics::metrics;
use crate::systems::connector::ErpDocuments;
use crate::systems::{DataverseClient, SystemError};
use crate::transform::CurrencyTable;

/// The Dataverse entity set of the statistics.
pub const SET: &str = "nav_accountstatisticses";
/// The account's lookup to its statistics.
pub const ACCOUNT_LINK: &str = "nav_accountstatisticsid";

/// One refresh at a time per customer in this process (so two invoices of one customer do
/// not both create its statistics row).
static LOCKS: LazyLock<KeyLocks> = LazyLock::new(KeyLocks::default);

/// Recomputes customer `customer_id`'s statistics and writes them to the statistics row of
/// account `account_id`, creating the row and linking the account when it has none. Returns
/// whether a row was created.
pub async fn refresh(
    erp: &dyn ErpDocuments,
    dv: &DataverseClient,
    currencies: &CurrencyTable,
    customer_id: &str,
    account_id: &str,
) -> Result<bool, SystemError> {
    let _guard = LOCKS.lock(customer_id).await;
    let Some(stats) = erp.customer_statistics(customer_id).await? else {
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
    let (Some(erp), Some(dv)) = (
        targets.erp.documents(),
        targets.crm.client::<crate::systems::DataverseClient>(),
    ) else {
        return;
    };
    let span =
        tracing::info_span!("account_statistics", customer = %customer_id, account = %account_id);
    let _e = span.enter();
    let result = refresh(erp, dv, currencies, customer_id, account_id).await;
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
