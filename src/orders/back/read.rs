//! The outcome of an ERP order that could not be read whole (the ERP's documents read it:
//! `ErpDocuments::read_order`, Business Central's in `src/systems/bc/documents/order_read.rs`).

use crate::error::Classify;
use crate::event::types::OutcomeError;
use crate::event::{ChangeEvent, Outcome, OutcomeStatus};
use crate::mapping::model::TableMapping;
use crate::systems::SystemError;

/// The outcome of an order that could not be read whole: failed, naming the read's error.
pub fn failed(ev: &ChangeEvent, m: &TableMapping, e: &SystemError) -> Outcome {
    let mut o = Outcome::for_event(
        ev,
        m.system(crate::event::Side::Crm),
        &m.crm_entity,
        None,
        OutcomeStatus::Failed,
        Some(format!(
            "mapping {}: {} could not be read whole from {} (header, lines, posted shipments and invoices): {e}; `couplet errors retry` reads it again",
            m.name, ev.source, ev.source.system
        )),
    );
    o.error = Some(OutcomeError {
        class: e.class().to_string(),
        actor: e.actor().as_str().to_string(),
        field: None,
    });
    o
}
