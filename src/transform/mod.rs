//! Transform: applies the table and field mappings to captured changes and decides what to
//! write (or why not: filtered, echo, stale, unchanged, parked, failed).

pub mod compare;
pub mod currency;
pub mod decide;
pub mod decision;
pub mod document;
pub mod error;
pub mod fields;
pub mod flow;
pub mod hash;
pub mod redrive;
pub mod stage;

pub use currency::CurrencyTable;
pub use decide::Transformer;
pub use decision::Decision;
pub use error::TransformError;
