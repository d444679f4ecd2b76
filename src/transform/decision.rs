//! What the transform decides for a change ([`Decision`]), and the write command it issues:
//! shared by the record flow ([`super::decide`]) and the document flows
//! ([`super::flow::DocumentFlow`]), which import it from here (a leaf of transform: it names
//! no flow).

use uuid::Uuid;

use crate::event::types::now_millis;
use crate::event::{ChangeEvent, Outcome, RecordKey, Side, System, WriteCommand, WriteOp};
use crate::mapping::model::TableMapping;
use crate::store::ParkedEntry;

/// What to do with a change.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // short-lived, one per change
pub enum Decision {
    /// Write this to the target.
    Write(WriteCommand),
    /// Nothing to write; the outcome says why (filtered, echo, stale, unchanged, uncoupled).
    Skip(Outcome),
    /// A dependency is missing: park the change.
    Park(Outcome, ParkedEntry),
    /// The change cannot be synchronised; listed in the errors list.
    Fail(Outcome),
    /// The currency table does not know a value: refresh it, then decide again with
    /// `currencies_fresh = true`.
    RefreshCurrencies,
    /// A coupled record was deleted and the mapping restores deleted records: project the
    /// outcome (the coupling is removed), then read the surviving record and synchronise it
    /// again, which creates the deleted record anew and couples it.
    Restore(Outcome, RecordKey),
}

/// A write command following `ev` in mapping `m`: `fields` to `t`'s entity of the mapping,
/// with no natural key (callers that look one up set it) and no reverse hash.
pub fn write_command(
    ev: &ChangeEvent,
    m: &TableMapping,
    t: System,
    target_id: Option<String>,
    op: WriteOp,
    fields: crate::event::Fields,
    content_hash: String,
) -> WriteCommand {
    WriteCommand {
        command_id: Uuid::new_v4(),
        event_id: ev.event_id,
        correlation_id: ev.correlation_id,
        mapping: m.name.clone(),
        source: ev.source.clone(),
        source_modified_on: ev.modified_on,
        source_etag: ev.etag.clone(),
        target_system: t,
        target_entity: m.entity(t).to_string(),
        target_id,
        op,
        natural_key: Vec::new(),
        content_hash,
        reverse_hash: None,
        fields,
        issued_at: now_millis(),
    }
}

/// `to_crm` when writing towards the CRM, `to_erp` otherwise.
pub fn direction_to(target: impl Into<Side>) -> &'static str {
    if target.into().is_crm() {
        "to_crm"
    } else {
        "to_erp"
    }
}
