//! Finance & Operations as a [`Connector`].

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use super::client::FoClient;
use crate::capture::plan::CapturePlan;
use crate::event::{Fields, System};
use crate::mapping::model::TableMapping;
use crate::odata::csdl::Csdl;
use crate::systems::connector::{Connector, ErpDocuments, Metadata};
use crate::systems::error::SystemError;
use crate::systems::metadata::EntitySchema;
use crate::systems::written::Written;

/// F&O's `$metadata`, for `couplet mappings validate`.
struct FoMetadata(Csdl);

impl Metadata for FoMetadata {
    fn entity(&self, set: &str) -> Option<EntitySchema> {
        self.0.entity_set(super::SYSTEM, set)
    }

    fn missing(&self, set: &str) -> String {
        format!(
            "F&O has no public data entity `{set}` (entity sets are case-sensitive, e.g. CustomersV3); correct erp_entity, or make the entity public; known entity sets: {}",
            self.0.sets().join(", ")
        )
    }
}

#[async_trait]
impl Connector for FoClient {
    fn system(&self) -> System {
        super::SYSTEM
    }

    async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        FoClient::get(self, set, id).await
    }

    async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        FoClient::query(self, set, filter).await
    }

    /// By natural key, an enum property compared with its qualified literal.
    async fn find_eq(
        &self,
        set: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<Fields>, SystemError> {
        let literal = self.literal_for(set, field, value).await?;
        FoClient::query(self, set, &format!("{field} eq {literal}")).await
    }

    async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        FoClient::create(self, set, body).await
    }

    async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError> {
        FoClient::update(self, set, id, body, if_match.unwrap_or("*")).await
    }

    async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        FoClient::delete(self, set, id, "*").await
    }

    /// One customer of each configured legal entity, which proves the token, the app's
    /// registration and that every company exists for the user.
    async fn test_connection(&self) -> Result<String, SystemError> {
        let mut seen = Vec::new();
        for company in self.companies() {
            let filter = format!("dataAreaId eq '{company}'");
            let n = self.query_top("CustomersV3", &filter, 1).await?.len();
            seen.push(format!(
                "{company}: {}",
                if n > 0 {
                    "customers readable"
                } else {
                    "no customers"
                }
            ));
        }
        Ok(format!(
            "Finance & Operations: legal entities {}",
            seen.join(", ")
        ))
    }

    /// One `$metadata` read answers every set.
    async fn metadata(&self, _sets: &[String]) -> Result<Box<dyn Metadata>, SystemError> {
        Ok(Box::new(FoMetadata(FoClient::metadata(self).await?)))
    }

    /// Sales orders (`super::documents`).
    fn documents(&self) -> Option<&dyn ErpDocuments> {
        Some(self)
    }

    fn captures(&self, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
        super::captures::for_mapping(self, m)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
