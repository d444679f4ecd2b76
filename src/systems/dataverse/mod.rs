//! Dataverse Web API v9.2: CRUD, queries and change tracking.

pub mod captures;
pub mod client;
pub mod connector;
pub mod delta;

pub use client::{DataverseClient, DataverseConfig, id_column};
pub use delta::DeltaPage;

use crate::event::{BlankText, Side, System, SystemRules};
use crate::systems::DynConnector;
use crate::systems::registry::{ConnectContext, SectionError, check_url};

/// Dataverse (Dynamics 365 Sales), on the CRM side.
pub const SYSTEM: System = System::new(&RULES);

/// Web API records: `<entity>id` GUIDs, `modifiedon`, blank text as null.
const RULES: SystemRules = SystemRules {
    name: "dataverse",
    side: Side::Crm,
    id_column,
    modified_column: |_| "modifiedon".to_string(),
    blank_text: BlankText::Null,
    auth_hint: |status| match status {
        403 => {
            "the application user exists but lacks privileges: give it a security role in \
             the Dataverse environment"
        }
        _ => {
            "check [dataverse] tenant_id, client_id and client_secret, and that the app is an \
             application user in the environment"
        }
    },
};

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
