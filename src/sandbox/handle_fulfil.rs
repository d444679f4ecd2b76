//! Fulfilling Business Central sales orders through [`Sandbox`], as a clerk would on the Sales
//! Order page: release, post shipments of full or partial quantities, post invoices of shipped
//! quantities (an order completely shipped and invoiced is then deleted), or ship and invoice
//! at once. Used by the tests and the demo; each returns Business Central's error (code and
//! message) when BC would refuse.

use chrono::Utc;

use super::bc::{BcError, fulfil};
use super::error::SandboxError;
use super::handle::Sandbox;
use super::invoices::PostedInvoice;

fn rejected(id: &str, e: BcError) -> SandboxError {
    SandboxError::Rejected {
        system: crate::systems::BC,
        entity_set: "salesOrders".into(),
        id: id.into(),
        code: e.code.into(),
        message: e.message,
    }
}

impl Sandbox {
    /// Releases the Business Central sales order `order` (its id): status `Released`.
    pub fn release_sales_order(&self, order: &str) -> Result<(), SandboxError> {
        let order = order.to_ascii_lowercase();
        let mut store = self.shared.bc.store.lock();
        fulfil::release(&mut store, &order, Utc::now()).map_err(|e| rejected(&order, e))
    }

    /// Posts a shipment of the Business Central sales order `order`: `lines` as `(sequence,
    /// quantity)`, or every line's remaining quantity when empty. Returns the posted shipment's
    /// number (`salesShipments`).
    pub fn ship_sales_order(
        &self,
        order: &str,
        lines: &[(i64, f64)],
    ) -> Result<String, SandboxError> {
        let order = order.to_ascii_lowercase();
        let mut store = self.shared.bc.store.lock();
        let id =
            fulfil::ship(&mut store, &order, lines, Utc::now()).map_err(|e| rejected(&order, e))?;
        Ok(store
            .table("salesShipments")
            .and_then(|t| t.get(&id))
            .and_then(|r| r.fields.get("number"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string())
    }

    /// Posts an invoice of the Business Central sales order `order`'s shipped, not yet
    /// invoiced quantities: `lines` as `(sequence, quantity)`, or all of them when empty.
    /// Returns the posted invoice (`salesInvoices`). An order then completely shipped and
    /// invoiced is deleted, as Business Central does after posting.
    pub fn invoice_sales_order(
        &self,
        order: &str,
        lines: &[(i64, f64)],
    ) -> Result<PostedInvoice, SandboxError> {
        let order = order.to_ascii_lowercase();
        let mut store = self.shared.bc.store.lock();
        fulfil::invoice(&mut store, &order, lines, Utc::now()).map_err(|e| rejected(&order, e))
    }

    /// Ships every remaining quantity and invoices the order (API v2.0's `shipAndInvoice`);
    /// the order is then deleted. Returns the posted invoice.
    pub fn ship_and_invoice_sales_order(&self, order: &str) -> Result<PostedInvoice, SandboxError> {
        let order = order.to_ascii_lowercase();
        let mut store = self.shared.bc.store.lock();
        fulfil::ship_and_invoice(&mut store, &order, Utc::now()).map_err(|e| rejected(&order, e))
    }
}
