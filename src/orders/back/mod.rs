//! Sales orders from Business Central back to Dynamics 365 Sales (Business Central's
//! SALESORDER-ORDER mapping, its order-status posts and the order's state, §6.1–6.2 of its
//! design), for orders that came from Sales only (coupled by SALESORDER):
//!
//! - **read** ([`read`]): a change of a coupled BC order is read whole in transform: header,
//!   lines (shipped and invoiced quantities), its posted shipments and posted invoices (by
//!   order number). An order deleted after posting is read from its posted documents.
//! - **decide** ([`decide`]): the Dataverse order as it should be: header values (released
//!   orders only, as BC's table filter `Status=Released`), the timeline posts (release, each
//!   shipment, each invoice, keyed by the BC document number) and the state (Invoiced, else
//!   Fulfilled when completely shipped, else Submitted).
//! - **apply** ([`apply`]): writes that to Dataverse idempotently: only values that differ
//!   (the order set Active for the edit, as only Active orders can be edited), only posts not
//!   on the order's timeline yet, the account's "Order '…' has been posted" posts, and the
//!   state.

pub mod apply;
pub mod decide;
pub mod posts;
pub mod read;

/// Aggregate field: the order's lines (`salesOrderLines`), in `sequence` order.
pub const LINES: &str = "couplet_lines";
/// Aggregate field: the posted shipments of the order (`salesShipments` by `orderNumber`).
pub const SHIPMENTS: &str = "couplet_shipments";
/// Aggregate field: the posted invoices of the order (`salesInvoices` by `orderNumber`).
pub const INVOICES: &str = "couplet_invoices";
/// Aggregate field: `true` when the order no longer exists in Business Central (deleted after
/// it was completely shipped and invoiced).
pub const DELETED: &str = "couplet_order_deleted";
/// Command field: the timeline posts the Dataverse order must carry (texts).
pub const POSTS: &str = "couplet_posts";
/// Command field: the posts the order's account must carry (texts): "Order '…' has been posted
/// in Business Central", one per posted invoice.
pub const ACCOUNT_POSTS: &str = "couplet_account_posts";
/// The stage name in metrics (`couplet_records_total{stage=...}`).
pub const STAGE: &str = "order_status";
