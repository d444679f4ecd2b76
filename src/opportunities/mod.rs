//! Opportunities beyond the OPPORTUNITY field mappings (which stay bidirectional for open
//! opportunities): a coupled Dataverse opportunity that is won or lost closes its Business
//! Central opportunity (`close`), and an order or quote made for an opportunity carries the
//! Business Central opportunity's number (`link`).

pub mod close;
pub mod flow;
pub mod link;

/// The mapping whose couplings resolve an order's or a quote's opportunity.
pub const MAPPING: &str = "OPPORTUNITY";
