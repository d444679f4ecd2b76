//! Credentials: one set per system (an Entra ID app for Dataverse, Business Central and F&O;
//! a user name and password for SAP Business One's Service Layer), kept encrypted at rest in
//! a store file and named from the config, or given in the config with the secret in an
//! environment variable. See README.md, "Credentials".

pub mod config;
pub mod error;
pub mod key;
pub mod model;
pub mod resolve;
pub mod store;

pub use config::{AuthConfig, AuthSource, CredentialsSection};
pub use error::CredentialError;
pub use key::StoreKey;
pub use model::{CertificatePem, CredentialSet, EntraApp, UserPassword};
pub use resolve::Resolver;
pub use store::CredentialStore;
