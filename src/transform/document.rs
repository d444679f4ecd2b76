//! Decisions shared by the document flows (sales orders and quotes to Business Central, posted
//! invoices to Dataverse): why a document cannot be built ([`DocumentError`]), and what follows
//! from it: a document whose reference is not coupled yet is parked, one whose currency is
//! unknown waits for the currencies to be read again once, any other fails with its error's
//! class, actor and field.

use crate::error::{Actor, Classify, Retry};
use crate::event::types::{OutcomeError, now_millis};
use crate::event::{ChangeEvent, Outcome, OutcomeStatus};
use crate::mapping::model::TableMapping;
use crate::store::ParkedEntry;

use super::decision::Decision;

/// A document that cannot go to the other side (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// A reference is not coupled yet: the document is parked until it is.
    #[error("{reason}")]
    Waiting {
        /// The dependency key the re-drive watches.
        waiting_for: String,
        /// In words, naming the field and the record.
        reason: String,
    },
    /// The document cannot be built as it is: the user must correct it or the configuration.
    #[error("{reason}")]
    Invalid {
        /// The source field (or the setting, such as `[orders] write_in_product`) at fault.
        field: String,
        /// In words, with what to do.
        reason: String,
        /// Low-cardinality class.
        class: &'static str,
    },
}

impl Classify for DocumentError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            DocumentError::Waiting { .. } => "parked",
            DocumentError::Invalid { class, .. } => class,
        }
    }
}

/// What follows from a document that could not be built: the currencies read again when one is
/// unknown and they were not just read, parking while a reference is not coupled, else failure.
pub fn not_built(
    ev: &ChangeEvent,
    m: &TableMapping,
    e: DocumentError,
    currencies_fresh: bool,
    outcome: impl Fn(OutcomeStatus, Option<String>, String) -> Outcome,
) -> Decision {
    match e {
        DocumentError::Invalid {
            class: "unknown_currency",
            ..
        } if !currencies_fresh => Decision::RefreshCurrencies,
        DocumentError::Waiting {
            waiting_for,
            reason,
        } => park(ev, m, waiting_for, &reason, outcome),
        DocumentError::Invalid { ref field, .. } => {
            let field = Some(field.clone());
            fail(m, &e, field, outcome)
        }
    }
}

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
