//! Dataverse Web API v9.2: CRUD, queries and change tracking.

pub mod captures;
pub mod change_capture;
pub mod client;
pub mod connector;
pub mod delta;
pub mod system;

pub use client::{DataverseClient, DataverseConfig};
pub use delta::DeltaPage;
pub use system::{SYSTEM, id_column};

use crate::systems::DynConnector;
use crate::systems::connect::{ConnectContext, SectionError, check_url};

/// Builds the connector from the `[dataverse]` section.
pub fn connect(section: &toml::Value, cx: &ConnectContext) -> Result<DynConnector, SectionError> {
    let cfg = check(section)?;
    let client = DataverseClient::new(&cfg, cx.tokens.clone(), cx.http.clone())
        .map_err(|e| SectionError::new("dataverse", e.to_string()))?;
    Ok(std::sync::Arc::new(client))
}

/// Parses and checks the `[dataverse]` section.
pub fn check(section: &toml::Value) -> Result<DataverseConfig, SectionError> {
    let cfg: DataverseConfig = section
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| SectionError::new("dataverse", e.message().to_string()))?;
    if cfg.page_size == 0 || cfg.page_size > 5000 {
        return Err(SectionError::new(
            "dataverse.page_size",
            "Dataverse pages hold 1 to 5000 rows",
        ));
    }
    check_url("dataverse.url", &cfg.url)?;
    Ok(cfg)
}
