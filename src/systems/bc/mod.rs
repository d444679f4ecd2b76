//! Business Central API v2.0: CRUD, queries and `lastModifiedDateTime` polling.

pub mod client;
pub mod csdl;

pub use client::{BcClient, BcConfig, BcPage};
