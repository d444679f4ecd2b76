//! Why a posted invoice cannot be created in Dataverse (yet).

use crate::error::{Actor, Classify, Retry};

/// An invoice that cannot go to Dataverse (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    /// A reference is not coupled yet: the invoice is parked until it is.
    #[error("{reason}")]
    Waiting {
        /// The dependency key the re-drive watches.
        waiting_for: String,
        /// In words, naming the field and the record.
        reason: String,
    },
    /// The invoice cannot be built as it is.
    #[error("{reason}")]
    Invalid {
        /// The Business Central field at fault.
        field: String,
        /// In words, with what to do.
        reason: String,
        /// Low-cardinality class.
        class: &'static str,
    },
}

impl Classify for InvoiceError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            InvoiceError::Waiting { .. } => "parked",
            InvoiceError::Invalid { class, .. } => class,
        }
    }
}
