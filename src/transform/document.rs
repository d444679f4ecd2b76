//! Decisions shared by the document flows (sales orders and quotes to Business Central, posted
//! invoices to Dataverse): a document whose reference is not coupled yet is parked, one that
//! cannot be built fails with its error's class, actor and field.

use crate::error::Classify;
use crate::event::types::{OutcomeError, now_millis};
use crate::event::{ChangeEvent, Outcome, OutcomeStatus};
use crate::mapping::model::TableMapping;
use crate::store::ParkedEntry;

use super::Decision;

/// Parks `ev` of mapping `m` until `waiting_for` is coupled; `outcome` makes the outcome
/// (status, target id, reason) for the document's target.
pub fn park(
    ev: &ChangeEvent,
    m: &TableMapping,
    waiting_for: String,
    reason: &str,
    outcome: impl Fn(OutcomeStatus, Option<String>, String) -> Outcome,
) -> Decision {
    let reason = format!(
        "mapping {}: {} is parked: {reason}; it is re-driven automatically when {waiting_for} is coupled",
        m.name, ev.source
    );
    let o = outcome(OutcomeStatus::Parked, None, reason.clone());
    Decision::Park(
        o,
        ParkedEntry {
            waiting_for,
            record: ev.source.to_string(),
            mapping: m.name.clone(),
            reason,
            parked_at: now_millis(),
            event: ev.clone(),
        },
    )
}

/// Fails `ev` of mapping `m` with `e` (naming `field` when the error is about one).
pub fn fail<E: Classify + std::fmt::Display>(
    m: &TableMapping,
    e: &E,
    field: Option<String>,
    outcome: impl Fn(OutcomeStatus, Option<String>, String) -> Outcome,
) -> Decision {
    let mut o = outcome(
        OutcomeStatus::Failed,
        None,
        format!("mapping {}: {e}", m.name),
    );
    o.error = Some(OutcomeError {
        class: e.class().to_string(),
        actor: e.actor().as_str().to_string(),
        field,
    });
    Decision::Fail(o)
}
