//! Dataverse Web API v9.2: CRUD, queries and change tracking.

pub mod client;
pub mod delta;

pub use client::{DataverseClient, DataverseConfig, id_column};
pub use delta::DeltaPage;
