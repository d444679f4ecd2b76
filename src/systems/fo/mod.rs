//! Dynamics 365 Finance & Operations: OData data entities per legal entity, polling on
//! `ModifiedDateTime`, woken by Business Events.

pub mod captures;
pub mod client;
pub mod config;
pub mod connector;
pub mod documents;
pub mod events;
pub mod poll;
pub mod system;

pub use client::{FoClient, FoPage};
pub use config::FoConfig;
pub use system::SYSTEM;

use crate::systems::DynConnector;
use crate::systems::connect::{ConnectContext, SectionError};

/// Builds the connector from the `[fo]` section.
pub fn connect(section: &toml::Value, cx: &ConnectContext) -> Result<DynConnector, SectionError> {
    let cfg = check(section)?;
    let client = FoClient::new(&cfg, cx.tokens.clone(), cx.http.clone())
        .map_err(|e| SectionError::new("fo", e.to_string()))?;
    Ok(std::sync::Arc::new(client))
}

/// Parses and checks the `[fo]` section.
pub fn check(section: &toml::Value) -> Result<FoConfig, SectionError> {
    let cfg: FoConfig = section
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| SectionError::new("fo", e.message().to_string()))?;
    cfg.check()?;
    Ok(cfg)
}
