//! Posted sales invoices from Business Central to Dataverse (Business Central's
//! POSTEDSALESINV-INV with POSTEDSALESLINE-INV), their payment status, and the account
//! statistics of coupled customers (BC's CRM Statistics Job, but driven by change capture
//! instead of a 30-minute job).
//!
//! A posted invoice with its lines is one aggregate event; it is created once in Dataverse as
//! an `invoice` with `invoicedetail` lines (Active / Billed), linked to the order it came from
//! and to the customer's account. Later changes of the captured invoice (a payment, a
//! cancellation) set the Dataverse invoice's state; every invoice write refreshes the
//! customer's `nav_accountstatistics` row.

pub mod aggregate;
pub mod apply;
pub mod build;
pub mod decide;
pub mod error;
pub mod figures;
pub mod flow;
pub mod state;
pub mod statistics;
pub mod triggers;

pub use error::InvoiceError;

/// The field of an aggregate event holding the invoice's lines, in `sequence` order.
pub const LINES: &str = "couplet_lines";
