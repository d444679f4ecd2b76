//! When the account statistics are refreshed besides an invoice write: after Couplet created
//! a sales order in the ERP (SALESORDER), when an ERP sales order change is captured
//! (SALESORDER's ERP side), and when an ERP customer change is captured (CUSTOMER's ERP side:
//! a new credit limit, a balance moved by a payment). Only
//! when the posted-invoice mapping is configured (the statistics belong to it), and only for
//! coupled customers.

use super::build::CUSTOMER_MAPPING;
use super::statistics::refresh_logged;
use crate::apply::Targets;
use crate::event::Side;
use crate::event::{ChangeEvent, ChangeOp, Fields, Outcome, OutcomeStatus, WriteCommand};
use crate::mapping::Catalogue;
use crate::store::Store;
use crate::transform::CurrencyTable;

/// True when the catalogue runs the posted-invoice mapping.
pub fn enabled(catalogue: &Catalogue) -> bool {
    catalogue
        .ordered()
        .iter()
        .any(|m| m.runs(crate::mapping::model::FlowKind::SalesInvoice))
}

/// The ERP customer of an ERP sales order (as captured, or as its builder built it), read by
/// the ERP's documents.
fn order_customer(targets: &Targets, order: &Fields) -> Option<String> {
    targets
        .erp
        .documents()
        .and_then(|erp| erp.interpret_order(order).customer_id)
}

/// Refreshes ERP customer `customer`'s statistics when it is coupled.
async fn for_customer(
    targets: &Targets,
    store: &Store,
    currencies: &CurrencyTable,
    mapping: &str,
    customer: &str,
) {
    match store.coupling(CUSTOMER_MAPPING, Side::Erp, customer) {
        Ok(Some(c)) => refresh_logged(targets, currencies, mapping, customer, &c.crm_id).await,
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, customer, "Could not read the customer's coupling; its statistics are refreshed with its next change.")
        }
    }
}

/// After a sales order was created in the ERP (SALESORDER).
pub async fn after_order_created(
    catalogue: &Catalogue,
    targets: &Targets,
    store: &Store,
    currencies: &CurrencyTable,
    cmd: &WriteCommand,
    o: &Outcome,
) {
    if !enabled(catalogue) || !matches!(o.status, OutcomeStatus::Created | OutcomeStatus::Coupled) {
        return;
    }
    if let Some(customer) = order_customer(targets, &cmd.fields) {
        for_customer(targets, store, currencies, &cmd.mapping, &customer).await;
    }
}

/// After an ERP sales order change of a sales-order mapping was captured.
pub async fn after_erp_order_change(
    catalogue: &Catalogue,
    targets: &Targets,
    store: &Store,
    currencies: &CurrencyTable,
    ev: &ChangeEvent,
) {
    if ev.source.system.side() != Side::Erp || ev.op != ChangeOp::Upsert || !enabled(catalogue) {
        return;
    }
    if let Some(customer) = order_customer(targets, &ev.fields) {
        for_customer(targets, store, currencies, &ev.mapping, &customer).await;
    }
}

/// After an ERP customer change of the customer mapping was captured.
pub async fn after_erp_customer_change(
    catalogue: &Catalogue,
    targets: &Targets,
    store: &Store,
    currencies: &CurrencyTable,
    ev: &ChangeEvent,
) {
    if ev.source.system.side() != Side::Erp
        || ev.op != ChangeOp::Upsert
        || ev.mapping != CUSTOMER_MAPPING
        || !enabled(catalogue)
    {
        return;
    }
    for_customer(targets, store, currencies, &ev.mapping, &ev.source.id).await;
}
