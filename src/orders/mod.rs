//! Sales orders from Dataverse to Business Central (Business Central's classic order
//! integration): a submitted `salesorder` with its lines is one aggregate event, built into a
//! Business Central sales order with lines and created once. [`back`]: the BC order's
//! release, shipments, invoices and header values flow back to the Sales order. The CRM side
//! (the state machine, [`flow`]) is here; the ERP's builder and writer are in its folder
//! (Business Central's in `src/systems/bc/documents/`).

pub mod aggregate;
pub mod back;
pub mod build;
pub mod config;
pub mod decide;
pub mod error;
pub mod flow;
pub mod kind;
pub mod lines;
pub mod on_demand;

pub use config::OrdersConfig;
pub use error::OrderError;

/// The field of an aggregate event holding the order's lines, in `sequencenumber` order.
pub const LINES: &str = "couplet_lines";
/// The field of an aggregate event holding the account the order's customer resolves to (the
/// account itself, or a contact's parent account).
pub const CUSTOMER_ACCOUNT: &str = "couplet_customer_account";
/// On a line of an aggregate: the name (code) of the line's unit.
pub const UOM_NAME: &str = "couplet_uom_name";
/// The checkpoint name marking a Dataverse order as requested by `couplet orders
/// create-in-erp` (kept by order id, so a parked order's re-drive and `couplet errors retry`
/// still count as requested when automatic creation is off).
pub fn on_demand_marker(order_id: &str) -> String {
    format!("orders/create-in-erp/{order_id}")
}
