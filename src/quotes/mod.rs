//! Sales quotes from Dataverse to Business Central (Business Central's "Auto Process Sales
//! Quotes", §6.3 of its design): an Active quote becomes a Business Central sales quote once;
//! a revision (same quotenumber, a coupled Revised predecessor) archives the Business Central
//! quote's current version and rebuilds the same quote; a Won quote is created if missing,
//! then linked to its order (Quote No., archived) or released. The CRM side (the state machine)
//! is here ([`flow`]); the header and lines are built by the ERP's builder, as orders are (with
//! [`QUOTE`] as the document kind), and written by the ERP's documents (Business Central's in
//! `src/systems/bc/documents/`).

pub mod aggregate;
pub mod decide;
pub mod flow;

use crate::orders::kind::DocKind;

/// Quote statecodes.
pub const ACTIVE: i64 = 1;
/// Won.
pub const WON: i64 = 2;
/// Closed (Lost, Canceled or Revised).
pub const CLOSED: i64 = 3;

/// A Dataverse quote; read whole when Active or Won.
pub const QUOTE: DocKind = DocKind {
    id: "quoteid",
    number: "quotenumber",
    lines_set: "quotedetails",
    line_parent: "_quoteid_value",
    line_id: "quotedetailid",
    line_entity: "quotedetail",
    states: &[ACTIVE, WON],
    document: crate::orders::kind::SalesDocument::Quote,
};

/// On an aggregate of a revision (revisionnumber > 0): the ids of the Closed quotes with the
/// same quotenumber, latest revision first.
pub const PREDECESSORS: &str = "couplet_predecessors";
/// On an aggregate of a Won quote: the Dataverse order made from it (`salesorderid`,
/// `ordernumber`, `statecode`), or null.
pub const ORDER: &str = "couplet_quote_order";
/// On an order aggregate whose `quoteid` is set: the quote's quotenumber (the Your Reference
/// of its Business Central quote).
pub const ORDER_QUOTE_NUMBER: &str = "couplet_quote_number";
/// The control object of a quote command (what the apply does besides writing the quote).
pub const CONTROL: &str = "@couplet.quote";
/// On a built order: the Your Reference (CRM quotenumber) of the quote it was made from.
pub const QUOTE_REFERENCE: &str = "@couplet.quoteReference";
/// The mapping whose couplings hold the orders made from quotes.
pub const ORDER_MAPPING: &str = "SALESORDER";
