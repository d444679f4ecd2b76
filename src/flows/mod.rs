//! The document flows, registered by the `flow` key of a table mapping ([`FlowKind`]) in this
//! one place: the generic stages find a mapping's flow here and call it through
//! [`DocumentFlow`] (the interface transform owns), never by the mapping's entity sets. The
//! CRM-side state machines are in `src/orders/`, `src/quotes/`, `src/invoices/` and
//! `src/opportunities/`.

use crate::mapping::Catalogue;
use crate::mapping::model::{FlowKind, TableMapping};
use crate::transform::flow::DocumentFlow;

/// The implementation of flow `kind`.
pub fn of(kind: FlowKind) -> &'static dyn DocumentFlow {
    match kind {
        FlowKind::SalesOrder => &crate::orders::flow::OrderFlow,
        FlowKind::SalesQuote => &crate::quotes::flow::QuoteFlow,
        FlowKind::SalesInvoice => &crate::invoices::flow::InvoiceFlow,
        FlowKind::Opportunity => &crate::opportunities::flow::OpportunityFlow,
    }
}

/// The flow mapping `m` runs (`None`: the plain record flow).
pub fn of_mapping(m: &TableMapping) -> Option<&'static dyn DocumentFlow> {
    m.flow.map(of)
}

/// The flows the catalogue runs, each once, in [`FlowKind::ALL`] order.
pub fn configured(c: &Catalogue) -> Vec<&'static dyn DocumentFlow> {
    FlowKind::ALL
        .into_iter()
        .filter(|k| c.ordered().iter().any(|m| m.runs(*k)))
        .map(of)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_flow() {
        for k in FlowKind::ALL {
            assert_eq!(of(k).kind(), k);
        }
        let c = Catalogue::defaults().unwrap();
        let kinds: Vec<_> = configured(&c).iter().map(|f| f.kind()).collect();
        assert_eq!(kinds, FlowKind::ALL.to_vec());
    }
}
