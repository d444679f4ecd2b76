//! Clients for the external systems: the shared HTTP client and its authenticators (Entra ID
//! bearer tokens), Dataverse, Business Central, and the [`Target`] the apply stage writes
//! through.

pub mod auth;
pub mod bc;
pub mod client_assertion;
pub mod connect;
pub mod connector;
pub mod dataverse;
pub mod documents;
pub mod error;
pub mod error_body;
pub mod fo;
pub mod http;
pub mod metadata;
pub mod pair;
pub mod registry;
pub mod secret;
pub mod target;
pub mod written;

pub use auth::{BearerAuth, ClientProof, CredentialOrigin, TokenCache};
pub use bc::{BcClient, BcConfig, BcPage, SYSTEM as BC};
pub use connector::{Connector, DynConnector};
pub use dataverse::{DataverseClient, DataverseConfig, DeltaPage, SYSTEM as DATAVERSE};
pub use error::SystemError;
pub use http::{ApiClient, Authenticator, Credential, HttpConfig};
pub use secret::Secret;
pub use target::{Target, Targets, Written};
