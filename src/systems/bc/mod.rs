//! Business Central API v2.0: CRUD, queries and `lastModifiedDateTime` polling.

pub mod availability;
pub mod captures;
pub mod client;
pub mod connector;
pub mod documents;
pub mod poll;
pub mod posted;
pub mod system;

pub use client::{BcClient, BcConfig, BcPage};
pub use system::SYSTEM;

use crate::systems::DynConnector;
use crate::systems::connect::{ConnectContext, SectionError, check_url};

/// Builds the connector from the `[bc]` section.
pub fn connect(section: &toml::Value, cx: &ConnectContext) -> Result<DynConnector, SectionError> {
    let cfg = check(section)?;
    let client = BcClient::new(&cfg, cx.tokens.clone(), cx.http.clone())
        .map_err(|e| SectionError::new("bc", e.to_string()))?;
    Ok(std::sync::Arc::new(client))
}

/// Parses and checks the `[bc]` section.
pub fn check(section: &toml::Value) -> Result<BcConfig, SectionError> {
    let cfg: BcConfig = section
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| SectionError::new("bc", e.message().to_string()))?;
    if cfg.page_size == 0 || cfg.page_size > 20000 {
        return Err(SectionError::new(
            "bc.page_size",
            "Business Central pages hold 1 to 20000 rows",
        ));
    }
    check_url("bc.api_url", &cfg.api_url)?;
    Ok(cfg)
}
