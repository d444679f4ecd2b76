//! Transform errors.

use crate::error::{Actor, Classify, Retry};
use crate::store::StoreError;

/// Why a change could not be transformed.
#[derive(Debug, thiserror::Error)]
pub enum TransformError {
    /// The event names a mapping this deployment does not run.
    #[error(
        "{record}: mapping '{mapping}' is not configured; add it to [sync] mappings or replay with the right mapping"
    )]
    UnknownMapping {
        /// The record.
        record: String,
        /// The mapping.
        mapping: String,
    },
    /// A field's value cannot be mapped.
    #[error("{record}, field {field}: {reason}")]
    Field {
        /// The record.
        record: String,
        /// The field (source side name).
        field: String,
        /// Why, and what to do.
        reason: String,
        /// Low-cardinality class.
        class: &'static str,
    },
    /// The projection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Classify for TransformError {
    fn actor(&self) -> Actor {
        match self {
            TransformError::Store(e) => e.actor(),
            _ => Actor::User,
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            TransformError::UnknownMapping { .. } => "unknown_mapping",
            TransformError::Field { class, .. } => class,
            TransformError::Store(e) => e.class(),
        }
    }
}

impl TransformError {
    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            TransformError::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}
