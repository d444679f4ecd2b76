//! Why an order or quote cannot be built or created: the documents' shared error.

/// An order (or quote) that cannot go to Business Central (yet).
pub type OrderError = crate::transform::document::DocumentError;
