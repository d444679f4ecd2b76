//! The ERP's sales documents as the generic flows read them on their way back to the CRM: an
//! ERP sales order with its posted documents ([`ErpOrder`]) and a posted invoice with its lines
//! and payment state ([`PostedInvoice`]). Each ERP translates its own records into these
//! (`ErpDocuments::interpret_order`, `ErpDocuments::interpret_posted_invoice`; Business
//! Central's in `src/systems/bc/documents/interpret.rs`), at the point where a flow interprets
//! a captured event: the events on the log keep the ERP's own fields.
//!
//! A leaf: it names nothing else in the crate.

use serde_json::Number;

/// Where an ERP sales order stands in its own workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErpOrderStatus {
    /// Open: still being edited in the ERP.
    Open,
    /// Released: ready to ship; its header values flow to the CRM order.
    Released,
    /// Any other status (pending approval, pending prepayment, …).
    Other,
}

/// A line of an ERP sales order, as far as the CRM order's state needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErpOrderLine {
    /// A comment line (no quantity to ship or invoice).
    pub comment: bool,
    /// The ordered quantity.
    pub quantity: f64,
    /// The quantity invoiced so far.
    pub invoiced_quantity: f64,
}

/// A posted document of an order (a shipment, an invoice), named by its ERP number.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedDocument {
    /// Its number in the ERP (trimmed; empty when it has none).
    pub number: String,
}

/// An ERP sales order read whole (header, lines, posted shipments and invoices), for the CRM
/// order it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ErpOrder {
    /// The ERP's name as the CRM's posts give it (`Business Central`).
    pub erp_name: &'static str,
    /// Its number in the ERP (trimmed; empty when it has none).
    pub number: String,
    /// Your Reference: the number of the CRM order it was created from (trimmed).
    pub your_reference: String,
    /// Its ERP customer id, if any.
    pub customer_id: Option<String>,
    /// Its status.
    pub status: ErpOrderStatus,
    /// It no longer exists in the ERP (deleted after it was posted); read from its posted
    /// documents.
    pub deleted: bool,
    /// Every line is completely shipped.
    pub fully_shipped: bool,
    /// The last shipment date, as a date (`2024-05-31`); `None` when blank.
    pub last_shipment_date: Option<String>,
    /// The requested delivery date, as a date; `None` when blank.
    pub requested_delivery_date: Option<String>,
    /// The total excluding tax, as the ERP gives the number.
    pub total_excluding_tax: Option<Number>,
    /// The total including tax, as the ERP gives the number.
    pub total_including_tax: Option<Number>,
    /// Its lines, in order.
    pub lines: Vec<ErpOrderLine>,
    /// Its posted shipments, by number.
    pub shipments: Vec<PostedDocument>,
    /// Its posted invoices, by number.
    pub invoices: Vec<PostedDocument>,
}

/// How far a posted invoice is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentState {
    /// Nothing paid yet.
    Unpaid,
    /// Something paid, something remaining.
    PartlyPaid,
    /// Nothing remaining.
    Paid,
    /// Cancelled (by a corrective credit memo).
    Canceled,
}

/// A line of a posted invoice. Comment lines are kept (they count in the lines' positions)
/// but carry no amount and are not written.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedInvoiceLine {
    /// A comment line.
    pub comment: bool,
    /// The line's type in the ERP's words, for messages (`Item`, `G/L Account`, …).
    pub type_name: String,
    /// Its sequence number in the ERP.
    pub sequence: i64,
    /// The ERP item id when it is an item line naming one.
    pub item_id: Option<String>,
    /// The number of what it sells (item, account, resource, …).
    pub object_number: Option<String>,
    /// Its description.
    pub description: Option<String>,
    /// The quantity.
    pub quantity: f64,
    /// The unit price.
    pub unit_price: f64,
    /// The line discount amount.
    pub discount_amount: f64,
    /// The tax amount.
    pub tax: f64,
    /// The amount including tax.
    pub amount_including_tax: f64,
}

/// A posted sales invoice with its lines, for the CRM invoice it becomes. Text fields are
/// trimmed, and blank (or the ERP's "no record" id) is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedInvoice {
    /// Its number.
    pub number: Option<String>,
    /// The sell-to customer's ERP id.
    pub customer_id: Option<String>,
    /// The sell-to customer's number, for messages.
    pub customer_number: Option<String>,
    /// The ISO currency code (`None`: the ERP's local currency).
    pub currency_code: Option<String>,
    /// The ERP order it was posted from.
    pub order_id: Option<String>,
    /// The due date, as a date.
    pub due_date: Option<String>,
    /// Your Reference (the CRM order's number).
    pub your_reference: Option<String>,
    /// The invoice discount amount.
    pub discount_amount: f64,
    /// The total tax.
    pub total_tax: f64,
    /// The total including tax.
    pub total_including_tax: f64,
    /// How far it is paid.
    pub payment: PaymentState,
    /// Its lines, in sequence order.
    pub lines: Vec<PostedInvoiceLine>,
}
