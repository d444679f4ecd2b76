//! Why a posted invoice cannot be built or created: the documents' shared error.

/// A posted invoice that cannot go to Dataverse (yet).
pub type InvoiceError = crate::transform::document::DocumentError;
