//! Business Central's entity sets and line collections of the sales documents Couplet writes
//! by name (a leaf, so that the quote's create, revision and link share them without a cycle).

/// The entity set of sales quotes.
pub const SALES_QUOTES: &str = "salesQuotes";
/// The lines collection of a sales quote.
pub const QUOTE_LINES: &str = "salesQuoteLines";
/// The lines collection of a sales order.
pub const ORDER_LINES: &str = "salesOrderLines";
