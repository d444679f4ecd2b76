//! Dataverse as a [`Connector`].

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::client::DataverseClient;
use crate::capture::plan::CapturePlan;
use crate::event::{Fields, System};
use crate::mapping::model::TableMapping;
use crate::systems::connector::{Connector, Metadata};
use crate::systems::error::SystemError;
use crate::systems::metadata::EntitySchema;
use crate::systems::written::Written;

/// The tables read for the sets asked for.
struct Tables(BTreeMap<String, Option<EntitySchema>>);

impl Metadata for Tables {
    fn entity(&self, set: &str) -> Option<EntitySchema> {
        self.0.get(set).cloned().flatten()
    }

    fn missing(&self, set: &str) -> String {
        format!(
            "Dataverse has no table with entity set `{set}`; correct crm_entity (the plural entity set name, e.g. accounts)"
        )
    }
}

#[async_trait]
impl Connector for DataverseClient {
    fn system(&self) -> System {
        super::SYSTEM
    }

    async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        DataverseClient::get(self, set, id, &[]).await
    }

    async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        DataverseClient::query(self, set, filter, &[]).await
    }

    async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        DataverseClient::create(self, set, body).await
    }

    async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError> {
        DataverseClient::update(self, set, id, body, if_match).await
    }

    async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        DataverseClient::delete(self, set, id).await
    }

    /// `WhoAmI` (Web API function reference: WhoAmI): the caller's user and organisation.
    async fn test_connection(&self) -> Result<String, SystemError> {
        let me = self.who_am_i().await?;
        let text = |k: &str| {
            me.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string()
        };
        Ok(format!(
            "Dataverse at {}: signed in as user {} of organisation {}",
            self.base_url(),
            text("UserId"),
            text("OrganizationId")
        ))
    }

    /// One `EntityDefinitions` read per set.
    async fn metadata(&self, sets: &[String]) -> Result<Box<dyn Metadata>, SystemError> {
        let mut out = BTreeMap::new();
        for set in sets {
            if !out.contains_key(set) {
                out.insert(set.clone(), self.entity_schema(set).await?);
            }
        }
        Ok(Box::new(Tables(out)))
    }

    fn captures(&self, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
        super::captures::for_mapping(self, m)
    }

    /// `transactioncurrencies`: `isocurrencycode` and `transactioncurrencyid`.
    async fn currencies(&self) -> Result<Vec<(String, String)>, SystemError> {
        let rows = DataverseClient::query(
            self,
            "transactioncurrencies",
            "",
            &["isocurrencycode", "transactioncurrencyid"],
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let iso = r.get("isocurrencycode")?.as_str()?.to_string();
                let id = r.get("transactioncurrencyid")?.as_str()?.to_string();
                Some((iso, id))
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
