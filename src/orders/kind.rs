//! What differs between the Dataverse documents that become ERP sales documents (orders here,
//! quotes in `src/quotes/`) when they are read as aggregates and built: table and column
//! names, the states that are read whole, and which sales document the ERP builds of it.

/// The sales document an ERP builds of a CRM document (each ERP names its own entity and
/// lines collection for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesDocument {
    /// A sales order.
    Order,
    /// A sales quote.
    Quote,
}

/// A kind of Dataverse sales document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocKind {
    /// The header's primary key column, e.g. `salesorderid`.
    pub id: &'static str,
    /// The document number column (Your Reference in Business Central), e.g. `ordernumber`.
    pub number: &'static str,
    /// The lines' entity set, e.g. `salesorderdetails`.
    pub lines_set: &'static str,
    /// The lines' lookup to the header as read, e.g. `_salesorderid_value`.
    pub line_parent: &'static str,
    /// The lines' primary key column, e.g. `salesorderdetailid`.
    pub line_id: &'static str,
    /// The lines' logical name, for messages, e.g. `salesorderdetail`.
    pub line_entity: &'static str,
    /// The statecodes whose documents are read with their lines.
    pub states: &'static [i64],
    /// The sales document the ERP builds of it.
    pub document: SalesDocument,
}

/// A Dataverse sales order; read whole when Submitted.
pub const ORDER: DocKind = DocKind {
    id: "salesorderid",
    number: "ordernumber",
    lines_set: "salesorderdetails",
    line_parent: "_salesorderid_value",
    line_id: "salesorderdetailid",
    line_entity: "salesorderdetail",
    states: &[1],
    document: SalesDocument::Order,
};
