//! Integration table mappings and field mappings, as data.

pub mod catalogue;
pub mod check_fields;
pub mod matching;
pub mod model;
pub mod rules;

pub use catalogue::{Catalogue, MappingError};
pub use model::{DeletionPolicy, Direction, FieldMapping, Lookup, OnMatch, TableMapping};
