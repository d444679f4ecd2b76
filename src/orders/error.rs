//! Why an order cannot be built or created.

use crate::error::{Actor, Classify, Retry};

/// An order that cannot go to Business Central (yet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A reference is not coupled yet: the order is parked until it is.
    #[error("{reason}")]
    Waiting {
        /// The dependency key the re-drive watches.
        waiting_for: String,
        /// In words, naming the field and the record.
        reason: String,
    },
    /// The order cannot be built as it is: the user must correct it or the configuration.
    #[error("{reason}")]
    Invalid {
        /// The Dataverse field (or `[orders]` setting) at fault.
        field: String,
        /// In words, with what to do.
        reason: String,
        /// Low-cardinality class.
        class: &'static str,
    },
}

impl Classify for OrderError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            OrderError::Waiting { .. } => "parked",
            OrderError::Invalid { class, .. } => class,
        }
    }
}
