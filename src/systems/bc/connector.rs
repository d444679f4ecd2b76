//! Business Central as a [`Connector`].

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use super::client::BcClient;
use crate::capture::plan::CapturePlan;
use crate::event::{Fields, System};
use crate::mapping::Catalogue;
use crate::mapping::model::TableMapping;
use crate::odata::csdl::Csdl;
use crate::systems::connector::{Connector, ErpDocuments, Metadata};
use crate::systems::error::SystemError;
use crate::systems::metadata::EntitySchema;
use crate::systems::written::Written;

impl Metadata for Csdl {
    fn entity(&self, set: &str) -> Option<EntitySchema> {
        self.entity_set(super::SYSTEM, set)
    }

    fn missing(&self, set: &str) -> String {
        format!(
            "Business Central's API has no entity set `{set}`; correct erp_entity; known entity sets: {}",
            self.sets().join(", ")
        )
    }
}

#[async_trait]
impl Connector for BcClient {
    fn system(&self) -> System {
        super::SYSTEM
    }

    async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        BcClient::get(self, set, id).await
    }

    async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        BcClient::query(self, set, filter).await
    }

    /// Pages in `lastModifiedDateTime` order, as the poll reads them.
    async fn read_all(&self, set: &str) -> Result<Vec<Fields>, SystemError> {
        let mut rows = Vec::new();
        let mut link: Option<String> = None;
        loop {
            let page = self.changed_since(set, None, link.as_deref()).await?;
            rows.extend(page.rows);
            match page.next_link {
                Some(n) => link = Some(n),
                None => return Ok(rows),
            }
        }
    }

    /// Sales orders, quotes and posted invoices (`super::documents`).
    fn documents(&self) -> Option<&dyn ErpDocuments> {
        Some(self)
    }

    async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        BcClient::create(self, set, body).await
    }

    async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError> {
        BcClient::update(self, set, id, body, if_match.unwrap_or("*")).await
    }

    async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        BcClient::delete(self, set, id, "*").await
    }

    /// The environment's companies (API v2.0 `companies`), and whether the configured one
    /// is among them.
    async fn test_connection(&self) -> Result<String, SystemError> {
        let companies = self.companies().await?;
        let name_of = |c: &Fields| {
            c.get("name")
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .to_string()
        };
        let ours = companies
            .iter()
            .find(|c| c.get("id").and_then(|v| v.as_str()) == Some(self.company_id()));
        match ours {
            Some(c) => Ok(format!(
                "Business Central: {} companies; the configured company is '{}'",
                companies.len(),
                name_of(c)
            )),
            None => Err(SystemError::Rejected {
                system: super::SYSTEM,
                operation: "connection test",
                status: 404,
                code: String::new(),
                field: Some("bc.company_id".into()),
                message: format!(
                    "company {} is not in this environment; its companies are: {}; set bc.company_id to one of their ids",
                    self.company_id(),
                    companies.iter().map(name_of).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// One `$metadata` read answers every set.
    async fn metadata(&self, _sets: &[String]) -> Result<Box<dyn Metadata>, SystemError> {
        Ok(Box::new(BcClient::metadata(self).await?))
    }

    fn captures(&self, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
        super::captures::for_mapping(self, m)
    }

    fn catalogue_captures(&self, c: &Catalogue) -> Vec<CapturePlan> {
        super::captures::for_catalogue(self, c)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
