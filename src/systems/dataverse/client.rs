//! Dataverse Web API client: get, query, create, update, delete.

use std::sync::Arc;

use reqwest::header::{ACCEPT, CONTENT_TYPE, IF_MATCH, IF_NONE_MATCH};
use serde::Deserialize;
use url::Url;

use crate::event::key::Fields;
use crate::systems::auth::{BearerAuth, TokenCache};
use crate::systems::error::SystemError;
use crate::systems::http::page::page_values;
use crate::systems::http::urls::{check_link, query_string, record_path};
use crate::systems::http::{ApiClient, HttpConfig};
use crate::systems::metadata::{EntitySchema, FieldInfo};
use crate::systems::written::Written;

pub use super::system::id_column;

/// Where the Dataverse environment is.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataverseConfig {
    /// The environment URL, e.g. `https://org.crm.dynamics.com/`; also the token resource.
    pub url: String,
    /// Rows per page (`odata.maxpagesize`), at most 5000 (default 5000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

/// The annotations Couplet reads from Dataverse's records: a lookup's target table
/// (`_x_value@Microsoft.Dynamics.CRM.lookuplogicalname`), which the order's customer, the
/// timeline's posts and the lookup-type guards need. The Web API returns an annotation only
/// when the request asks for it with this preference
/// (<https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors#prefer-headers>),
/// so every record read (a GET, a query, a change-tracking page) asks.
pub(super) const INCLUDE_ANNOTATIONS: &str =
    "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\"";

/// A write answers with the record as a read would return it, annotations included.
const REPRESENTATION: &str =
    "return=representation,odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\"";

fn default_page_size() -> u32 {
    5000
}

/// A Dataverse Web API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DataverseClient {
    pub(super) api: ApiClient,
    pub(super) base: Url,
    pub(super) page_size: u32,
}

impl DataverseClient {
    /// A client for the environment at `cfg.url`, authenticating with tokens for
    /// `<url>/.default`.
    pub fn new(
        cfg: &DataverseConfig,
        tokens: Arc<TokenCache>,
        http: HttpConfig,
    ) -> Result<Self, SystemError> {
        let bad = |reason: String| SystemError::Request {
            system: crate::systems::DATAVERSE,
            operation: "config",
            reason,
        };
        let trimmed = cfg.url.trim().trim_end_matches('/');
        let root = Url::parse(&format!("{trimmed}/")).map_err(|e| {
            bad(format!(
                "check [dataverse] url: '{trimmed}' is not a URL ({e})"
            ))
        })?;
        let base = root
            .join("api/data/v9.2/")
            .map_err(|e| bad(format!("check [dataverse] url: {e}")))?;
        let scope = format!("{trimmed}/.default");
        let api = ApiClient::new(crate::systems::DATAVERSE, http)?.with_authenticator(Arc::new(
            BearerAuth::new(crate::systems::DATAVERSE, tokens, scope),
        ));
        Ok(DataverseClient {
            api,
            base,
            page_size: cfg.page_size.clamp(1, 5000),
        })
    }

    /// The HTTP client (for its gate and configuration).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The Web API base URL, ending in `api/data/v9.2/`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The URL of the record of `set` whose id is `id`, keyed per the system's key shape.
    fn record_url(
        &self,
        operation: &'static str,
        set: &str,
        id: &str,
    ) -> Result<String, SystemError> {
        Ok(self.url(&record_path(crate::systems::DATAVERSE, operation, set, id)?))
    }

    /// A request with the headers every Dataverse call sends.
    pub(super) fn request(
        c: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let get = method == reqwest::Method::GET;
        let rb = c
            .request(method, url)
            .header(ACCEPT, "application/json")
            .header("OData-MaxVersion", "4.0")
            .header("OData-Version", "4.0");
        if get {
            rb.header(IF_NONE_MATCH, "null")
        } else {
            rb
        }
    }

    fn json_body(body: &Fields) -> Result<Vec<u8>, SystemError> {
        serde_json::to_vec(body).map_err(|e| SystemError::Request {
            system: crate::systems::DATAVERSE,
            operation: "serialize",
            reason: e.to_string(),
        })
    }

    pub(super) fn malformed(
        &self,
        operation: &'static str,
        reason: impl Into<String>,
    ) -> SystemError {
        SystemError::Malformed {
            system: crate::systems::DATAVERSE,
            operation,
            reason: reason.into(),
        }
    }

    /// One record by primary key, or `None` if it does not exist. An empty `select` returns
    /// every column.
    pub async fn get(
        &self,
        set: &str,
        id: &str,
        select: &[&str],
    ) -> Result<Option<Fields>, SystemError> {
        let select = select.join(",");
        let mut pairs = Vec::new();
        if !select.is_empty() {
            pairs.push(("$select", select.as_str()));
        }
        let url = format!(
            "{}{}",
            self.record_url("get", set, id)?,
            query_string(&pairs)
        );
        let result = self
            .api
            .send_json("get", |c| {
                Self::request(c, reqwest::Method::GET, &url).header("Prefer", INCLUDE_ANNOTATIONS)
            })
            .await;
        match result {
            Ok(serde_json::Value::Object(o)) => Ok(Some(o)),
            Ok(_) => Err(self.malformed("get", "the record is not a JSON object")),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The `WhoAmI` function: the caller's `UserId`, `BusinessUnitId` and `OrganizationId`
    /// (Web API reference, WhoAmI function).
    pub async fn who_am_i(&self) -> Result<Fields, SystemError> {
        let url = self.url("WhoAmI");
        match self
            .api
            .send_json("WhoAmI", |c| Self::request(c, reqwest::Method::GET, &url))
            .await?
        {
            serde_json::Value::Object(o) => Ok(o),
            _ => Err(self.malformed("WhoAmI", "the answer is not a JSON object")),
        }
    }

    /// The schema of the table behind entity set `set`, from the metadata Web API
    /// (`EntityDefinitions?$filter=EntitySetName eq '…'`, then
    /// `EntityDefinitions(LogicalName='…')/Attributes`); `None` when no table has that set.
    pub async fn entity_schema(&self, set: &str) -> Result<Option<EntitySchema>, SystemError> {
        let filter = format!("EntitySetName eq '{}'", set.replace('\'', "''"));
        let url = format!(
            "{}{}",
            self.url("EntityDefinitions"),
            query_string(&[
                ("$filter", filter.as_str()),
                ("$select", "LogicalName,EntitySetName")
            ])
        );
        let body = self
            .api
            .send_json("metadata", |c| Self::request(c, reqwest::Method::GET, &url))
            .await?;
        let (rows, _) = page_values(&body)
            .ok_or_else(|| self.malformed("metadata", "EntityDefinitions has no 'value' array"))?;
        let Some(logical) = rows
            .first()
            .and_then(|r| r.get("LogicalName"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let url = format!(
            "{}{}",
            self.url(&format!(
                "EntityDefinitions(LogicalName='{}')/Attributes",
                logical.replace('\'', "''")
            )),
            query_string(&[(
                "$select",
                "LogicalName,AttributeType,IsValidForCreate,IsValidForUpdate"
            )])
        );
        let body = self
            .api
            .send_json("metadata", |c| Self::request(c, reqwest::Method::GET, &url))
            .await?;
        let (rows, _) = page_values(&body)
            .ok_or_else(|| self.malformed("metadata", "Attributes has no 'value' array"))?;
        let text = |r: &Fields, k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let fields = rows
            .iter()
            .filter_map(|r| {
                Some(FieldInfo {
                    name: text(r, "LogicalName")?,
                    kind: text(r, "AttributeType").unwrap_or_default(),
                    writable: [r.get("IsValidForCreate"), r.get("IsValidForUpdate")]
                        .iter()
                        .any(|v| v.and_then(|v| v.as_bool()).unwrap_or(false)),
                })
            })
            .collect();
        Ok(Some(EntitySchema {
            system: crate::systems::DATAVERSE,
            set: set.to_string(),
            type_name: logical,
            fields,
        }))
    }

    /// Every record matching an OData `filter`, following every `@odata.nextLink`.
    pub async fn query(
        &self,
        set: &str,
        filter: &str,
        select: &[&str],
    ) -> Result<Vec<Fields>, SystemError> {
        let select = select.join(",");
        let mut pairs = Vec::new();
        if !filter.is_empty() {
            pairs.push(("$filter", filter));
        }
        if !select.is_empty() {
            pairs.push(("$select", select.as_str()));
        }
        let prefer = format!("odata.maxpagesize={},{INCLUDE_ANNOTATIONS}", self.page_size);
        let mut url = format!("{}{}", self.url(set), query_string(&pairs));
        let mut rows = Vec::new();
        loop {
            let page = self
                .api
                .send_json("query", |c| {
                    Self::request(c, reqwest::Method::GET, &url).header("Prefer", &prefer)
                })
                .await?;
            let (mut page_rows, next) = page_values(&page)
                .ok_or_else(|| self.malformed("query", "the page has no 'value' array"))?;
            rows.append(&mut page_rows);
            match next {
                Some(link) => {
                    url = check_link(crate::systems::DATAVERSE, "query", &self.base, &link)?
                        .to_string()
                }
                None => return Ok(rows),
            }
        }
    }

    /// Creates a record (`POST` with `return=representation`).
    pub async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        let bytes = Self::json_body(body)?;
        let url = self.url(set);
        let resp = self
            .api
            .send("create", |c| {
                Self::request(c, reqwest::Method::POST, &url)
                    .header(CONTENT_TYPE, "application/json")
                    .header("Prefer", REPRESENTATION)
                    .body(bytes.clone())
            })
            .await?;
        self.written("create", set, resp).await
    }

    /// Updates an existing record (`PATCH` with `If-Match`, `*` when `if_match` is `None`,
    /// so a missing record is a `NotFound`, never an accidental create).
    pub async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError> {
        let bytes = Self::json_body(body)?;
        let url = self.record_url("update", set, id)?;
        let if_match = if_match.unwrap_or("*");
        let resp = self
            .api
            .send("update", |c| {
                Self::request(c, reqwest::Method::PATCH, &url)
                    .header(CONTENT_TYPE, "application/json")
                    .header("Prefer", REPRESENTATION)
                    .header(IF_MATCH, if_match)
                    .body(bytes.clone())
            })
            .await?;
        self.written("update", set, resp).await
    }

    /// Deletes a record; one already gone is success.
    pub async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        let url = self.record_url("delete", set, id)?;
        match self
            .api
            .send("delete", |c| {
                Self::request(c, reqwest::Method::DELETE, &url)
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reads a write's representation, or only the id from `OData-EntityId` on a 204.
    async fn written(
        &self,
        operation: &'static str,
        set: &str,
        resp: reqwest::Response,
    ) -> Result<Written, SystemError> {
        let id_col = id_column(set);
        let entity_id = resp
            .headers()
            .get("OData-EntityId")
            .and_then(|v| v.to_str().ok())
            .and_then(id_from_entity_url);
        let mut fields = match self.api.read_json(operation, resp).await? {
            serde_json::Value::Object(o) => o,
            serde_json::Value::Null => Fields::new(),
            _ => return Err(self.malformed(operation, "the record is not a JSON object")),
        };
        if !fields.contains_key(&id_col)
            && let Some(id) = entity_id
        {
            fields.insert(id_col.clone(), serde_json::Value::String(id));
        }
        Written::from_fields(fields, &id_col, "modifiedon").ok_or_else(|| {
            self.malformed(
                operation,
                format!("the response names no '{id_col}' and has no OData-EntityId"),
            )
        })
    }
}

/// The key inside `.../accounts(<guid>)`.
fn id_from_entity_url(url: &str) -> Option<String> {
    let open = url.rfind('(')?;
    let close = url[open..].find(')')? + open;
    Some(url[open + 1..close].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_sets_to_id_columns() {
        assert_eq!(id_column("accounts"), "accountid");
        assert_eq!(id_column("opportunities"), "opportunityid");
        assert_eq!(id_column("salesorders"), "salesorderid");
        assert_eq!(id_column("customeraddresses"), "customeraddressid");
        assert_eq!(id_column("transactioncurrencies"), "transactioncurrencyid");
    }

    #[test]
    fn reads_entity_ids() {
        assert_eq!(
            id_from_entity_url(
                "https://o/api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)"
            )
            .as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(id_from_entity_url("nothing"), None);
    }
}
