//! Posting, paying and cancelling Business Central sales invoices in the sandbox, as BC's
//! posting routine, a customer payment journal and "Cancel" on a posted invoice would. The
//! results are visible through the read-only API pages `salesInvoices` and
//! `salesInvoiceLines` (see `bc/schema_invoices.rs`), with `lastModifiedDateTime` bumped, so
//! polling captures them.
//!
//! The entry point for other features (e.g. an order invoiced in BC) is
//! [`Sandbox::post_sales_invoice`]: a customer number, lines, and optionally the order the
//! invoice comes from. Its signature is kept stable; options beyond it go through
//! [`Sandbox::post_sales_invoice_with`] and [`InvoiceToPost`].

use chrono::{NaiveDate, Utc};

use super::Sandbox;
use super::bc::write_invoices;
use super::error::SandboxError;

/// One line of an invoice to post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvoiceLine {
    /// `Item` (the default when empty), `Account`, `Resource`, `Charge`, `Fixed Asset` or
    /// `Comment`.
    pub line_type: String,
    /// The item, G/L account or resource number (`lineObjectNumber`); empty for a comment. An
    /// item must exist.
    pub number: String,
    /// The description; empty takes the item's name.
    pub description: String,
    /// The unit of measure code; empty takes the item's base unit.
    pub unit_of_measure: String,
    /// Must be positive (except on a comment line).
    pub quantity: f64,
    /// Unit price excluding tax.
    pub unit_price: f64,
    /// Line discount amount.
    pub discount_amount: f64,
    /// Tax (VAT / sales tax) percentage on the line amount; 0 by default.
    pub tax_percent: f64,
}

impl InvoiceLine {
    /// An item line: `quantity` × `unit_price`, the item's name and base unit.
    pub fn item(number: &str, quantity: f64, unit_price: f64) -> Self {
        InvoiceLine {
            line_type: "Item".into(),
            number: number.into(),
            quantity,
            unit_price,
            ..Default::default()
        }
    }

    /// A line of another type (`Account`, `Resource`, `Charge`, …) with its description.
    pub fn other(
        line_type: &str,
        number: &str,
        description: &str,
        quantity: f64,
        unit_price: f64,
    ) -> Self {
        InvoiceLine {
            line_type: line_type.into(),
            number: number.into(),
            description: description.into(),
            quantity,
            unit_price,
            ..Default::default()
        }
    }
}

/// The order an invoice was posted from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceOrder {
    /// The BC sales order's id (`orderId` on the invoice).
    pub id: String,
    /// The BC sales order's number (`orderNumber`).
    pub number: String,
    /// The order's Your Reference (for an order made from Dataverse: the Dataverse order
    /// number), copied to the invoice's `yourReference`.
    pub your_reference: String,
}

/// Everything about an invoice to post.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvoiceToPost {
    /// The sell-to customer's number; it must exist and not be blocked (`All`, `Invoice`).
    pub customer_number: String,
    /// The lines, numbered 10000, 20000, … in this order. At least one must not be a comment.
    pub lines: Vec<InvoiceLine>,
    /// The order the invoice comes from, if any.
    pub order: Option<SourceOrder>,
    /// External Document No. (also `customerPurchaseOrderReference`).
    pub external_document_number: String,
    /// Posting and invoice date; today (UTC) when not given.
    pub posting_date: Option<NaiveDate>,
    /// Due date; 30 days after the posting date when not given.
    pub due_date: Option<NaiveDate>,
}

/// A posted invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedInvoice {
    /// Its API id (`salesInvoices({id})`).
    pub id: String,
    /// Its number from the posted-invoice series, e.g. `PS-INV000001`.
    pub number: String,
}

fn rejected(id: &str, e: super::bc::BcError) -> SandboxError {
    SandboxError::Rejected {
        system: crate::systems::BC,
        entity_set: write_invoices::INVOICES.into(),
        id: id.into(),
        code: e.code.into(),
        message: e.message,
    }
}

impl Sandbox {
    /// Posts a sales invoice in Business Central for customer `customer_number` with `lines`
    /// (dated today, due in 30 days, in the customer's currency), optionally from `order`.
    /// Returns its id and number. Fails as BC would: an unknown or blocked customer, nothing to
    /// post, an unknown item, a quantity not positive.
    pub fn post_sales_invoice(
        &self,
        customer_number: &str,
        lines: &[InvoiceLine],
        order: Option<&SourceOrder>,
    ) -> Result<PostedInvoice, SandboxError> {
        self.post_sales_invoice_with(&InvoiceToPost {
            customer_number: customer_number.into(),
            lines: lines.to_vec(),
            order: order.cloned(),
            ..Default::default()
        })
    }

    /// [`Sandbox::post_sales_invoice`] with every option (dates, external document number).
    pub fn post_sales_invoice_with(
        &self,
        invoice: &InvoiceToPost,
    ) -> Result<PostedInvoice, SandboxError> {
        let mut store = self.shared.bc.store.lock();
        write_invoices::post(&mut store, invoice, Utc::now()).map_err(|e| rejected("new", e))
    }

    /// Records a customer payment of `amount` applied to the posted invoice `invoice_id`
    /// (partial or full). The invoice's `remainingAmount` goes down, its status becomes `Paid`
    /// when nothing remains, its `lastModifiedDateTime` moves, and the customer's `balanceDue`
    /// follows. Returns the remaining amount.
    pub fn record_customer_payment(
        &self,
        invoice_id: &str,
        amount: f64,
    ) -> Result<f64, SandboxError> {
        let id = invoice_id.to_ascii_lowercase();
        let mut store = self.shared.bc.store.lock();
        write_invoices::pay(&mut store, &id, amount, Utc::now()).map_err(|e| rejected(&id, e))
    }

    /// Cancels the unpaid posted invoice `invoice_id` (BC posts a corrective credit memo):
    /// status `Canceled`, nothing remaining, `lastModifiedDateTime` moves. A paid or partly
    /// paid invoice cannot be cancelled.
    pub fn cancel_sales_invoice(&self, invoice_id: &str) -> Result<(), SandboxError> {
        let id = invoice_id.to_ascii_lowercase();
        let mut store = self.shared.bc.store.lock();
        write_invoices::cancel(&mut store, &id, Utc::now()).map_err(|e| rejected(&id, e))
    }
}
