//! Business Central API v2.0 `salesInvoices` and `salesInvoiceLines`, for **posted** sales
//! invoices (Sales Invoice Header / Sales Invoice Line). Lines are addressed as the API does:
//! `salesInvoices({id})/salesInvoiceLines` to list, `salesInvoiceLines({id})` for one line.
//!
//! Sandbox simplifications and extensions:
//! - Only posted invoices are emulated (status `Open`, `Paid`, `Canceled`; `Draft`, `In Review`
//!   and `Corrective` are valid values that the sandbox never assigns). Posted invoices are
//!   read-only through the API, as in Business Central; the sandbox posts, pays and cancels
//!   them through [`Sandbox::post_sales_invoice`](crate::sandbox::Sandbox::post_sales_invoice),
//!   [`Sandbox::record_customer_payment`](crate::sandbox::Sandbox::record_customer_payment)
//!   and [`Sandbox::cancel_sales_invoice`](crate::sandbox::Sandbox::cancel_sales_invoice),
//!   which stand for BC's posting routine, a customer payment journal and "Cancel" on the
//!   posted invoice.
//! - `yourReference` is not in API v2.0 `salesInvoices`; the sandbox exposes it as a custom API
//!   page over the Sales Invoice Header would (Business Central's own integration reads it to
//!   find the Dataverse order). A real tenant needs such a page.
//! - `number` comes from the posted-invoice series `PS-INV`.

use super::schema::{EntityDef, Kind, ro};
use super::schema_orders::LINE_TYPES;

/// API v2.0 `salesInvoice.status` values.
pub(crate) const INVOICE_STATUS: &[&str] = &[
    " ",
    "Draft",
    "In Review",
    "Open",
    "Paid",
    "Canceled",
    "Corrective",
];

pub(crate) static SALES_INVOICE: EntityDef = EntityDef {
    set: "salesInvoices",
    type_name: "salesInvoice",
    table: "Sales Invoice Header",
    number: ("number", "PS-INV"),
    columns: &[
        ro("id", Kind::Guid),
        ro("number", Kind::Text(20)),
        ro("externalDocumentNumber", Kind::Text(35)),
        ro("yourReference", Kind::Text(35)),
        ro("invoiceDate", Kind::DateTime),
        ro("postingDate", Kind::DateTime),
        ro("dueDate", Kind::DateTime),
        ro("customerPurchaseOrderReference", Kind::Text(35)),
        ro("customerId", Kind::Guid),
        ro("customerNumber", Kind::Text(20)),
        ro("customerName", Kind::Text(100)),
        ro("orderId", Kind::Guid),
        ro("orderNumber", Kind::Text(20)),
        ro("currencyId", Kind::Guid),
        ro("currencyCode", Kind::Text(10)),
        ro("pricesIncludeTax", Kind::Bool),
        ro("discountAmount", Kind::Number),
        ro("totalAmountExcludingTax", Kind::Number),
        ro("totalTaxAmount", Kind::Number),
        ro("totalAmountIncludingTax", Kind::Number),
        ro("remainingAmount", Kind::Number),
        ro("status", Kind::Enum(INVOICE_STATUS)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static SALES_INVOICE_LINE: EntityDef = EntityDef {
    set: "salesInvoiceLines",
    type_name: "salesInvoiceLine",
    table: "Sales Invoice Line",
    number: ("lineObjectNumber", ""),
    columns: &[
        ro("id", Kind::Guid),
        ro("documentId", Kind::Guid),
        ro("sequence", Kind::Number),
        ro("itemId", Kind::Guid),
        ro("accountId", Kind::Guid),
        ro("lineType", Kind::Enum(LINE_TYPES)),
        ro("lineObjectNumber", Kind::Text(20)),
        ro("description", Kind::Text(100)),
        ro("unitOfMeasureCode", Kind::Text(10)),
        ro("quantity", Kind::Number),
        ro("unitPrice", Kind::Number),
        ro("discountAmount", Kind::Number),
        ro("discountPercent", Kind::Number),
        ro("amountExcludingTax", Kind::Number),
        ro("taxPercent", Kind::Number),
        ro("totalTaxAmount", Kind::Number),
        ro("amountIncludingTax", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};
