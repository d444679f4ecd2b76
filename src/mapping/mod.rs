//! Integration table mappings and field mappings, as data.

pub mod catalogue;
pub mod check_fields;
pub mod matching;
pub mod model;
pub mod rules;
pub mod schedule;
pub mod value_map;

pub use catalogue::{Catalogue, MappingError};
pub use model::{
    DeletionPolicy, Direction, FieldMapping, Lookup, OnMatch, TableMapping, UpdateConflict,
};
