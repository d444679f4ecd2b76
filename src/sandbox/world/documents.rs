//! Documents: sales orders and quotes entered in the CRM, sales invoices posted in the ERP,
//! and the ERP's opening stock.

use chrono::{DateTime, NaiveDate, Utc};

use super::Key;

/// A sales order entered in the CRM for a customer there: submitted (for the ERP to take
/// over) with its header only, or a draft with write-in lines. The CRM has no products when
/// the sandbox is seeded, so no order has product lines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Order {
    /// Name (`PO 4000`, …), the customer's purchase order number.
    pub name: String,
    /// Index in [`World::customers`](super::World::customers).
    pub customer: usize,
    /// Index in [`World::users`](super::World::users) of its owner.
    pub owner: usize,
    /// Submitted; else an active draft.
    pub submitted: bool,
    /// When it was entered.
    pub created: DateTime<Utc>,
    /// Requested delivery date.
    pub requested_delivery: NaiveDate,
    /// ISO code of its currency.
    pub currency: String,
    /// Write-in lines (drafts only).
    pub lines: Vec<OrderLine>,
    /// The CRM record's key.
    pub crm_key: Key,
}

/// A write-in line of an order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrderLine {
    /// 1, 2, … within the order.
    pub sequence: i64,
    /// Description of what is sold.
    pub description: String,
    /// Quantity.
    pub quantity: f64,
    /// Unit price.
    pub unit_price: f64,
    /// The CRM record's key.
    pub crm_key: Key,
}

/// A quote entered in the CRM for a customer there, header only: active (for the ERP to
/// receive) or a draft.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quote {
    /// Name (`RFQ 5000`, …).
    pub name: String,
    /// Index in [`World::customers`](super::World::customers).
    pub customer: usize,
    /// Index in [`World::users`](super::World::users) of its owner.
    pub owner: usize,
    /// Active; else a draft.
    pub active: bool,
    /// When it was entered.
    pub created: DateTime<Utc>,
    /// Valid until.
    pub valid_until: NaiveDate,
    /// ISO code of its currency.
    pub currency: String,
    /// The CRM record's key.
    pub crm_key: Key,
}

/// A sales invoice posted in the ERP, numbered by the ERP's series in this order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Invoice {
    /// Index in [`World::customers`](super::World::customers) (a customer in the ERP).
    pub customer: usize,
    /// The customer's purchase order number.
    pub external_document_number: String,
    /// Posting (and invoice) date; due 30 days later.
    pub posting_date: NaiveDate,
    /// Its lines, numbered in this order.
    pub lines: Vec<InvoiceLine>,
    /// How much of it is paid.
    pub payment: Payment,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// A line of a posted invoice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvoiceLine {
    /// What is billed.
    pub kind: InvoiceLineKind,
    /// Quantity.
    pub quantity: f64,
    /// Unit price, without tax.
    pub unit_price: f64,
    /// The ERP record's key.
    pub erp_key: Key,
}

/// What an invoice line bills.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InvoiceLineKind {
    /// An item, by index in [`World::items`](super::World::items), with its name and unit.
    Item(usize),
    /// A general ledger account (e.g. freight), a write-in line on the CRM side.
    Account {
        /// The account number.
        number: String,
        /// Description.
        description: String,
    },
}

/// How much of an invoice is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payment {
    /// Nothing.
    None,
    /// Half the total (rounded to cents).
    Half,
    /// All of it.
    Full,
}

/// An item's opening stock in the ERP: its [`Item::stock`](super::Item::stock), posted as a
/// positive adjustment on the day the item last changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpeningStock {
    /// Index in [`World::items`](super::World::items).
    pub item: usize,
    /// The ERP record's key.
    pub erp_key: Key,
}
