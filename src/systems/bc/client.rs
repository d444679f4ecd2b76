//! Business Central API v2.0 client: polling, get, query, create, update, delete.

use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, IF_MATCH};
use serde::Deserialize;
use url::Url;

use crate::event::key::{Fields, System};
use crate::event::record_id::{KeyValue, PrimaryKey};
use crate::systems::auth::{BearerAuth, TokenCache};
use crate::systems::error::SystemError;
use crate::systems::http::urls::{check_link, key_predicate, query_string, record_path};
use crate::systems::http::{ApiClient, HttpConfig};
use crate::systems::written::Written;

/// Where the Business Central environment and company are.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BcConfig {
    /// `https://api.businesscentral.dynamics.com/v2.0/{tenant}/{environment}/api/v2.0/`.
    pub api_url: String,
    /// The company's `id` (a GUID).
    pub company_id: String,
    /// The token resource (default `https://api.businesscentral.dynamics.com`).
    #[serde(default = "default_resource")]
    pub resource: String,
    /// Rows per page (`odata.maxpagesize`, default 1000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn default_resource() -> String {
    "https://api.businesscentral.dynamics.com".to_string()
}

fn default_page_size() -> u32 {
    1000
}

/// One page of a `lastModifiedDateTime` poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BcPage {
    /// The rows, oldest change first.
    pub rows: Vec<Fields>,
    /// The next page, if any.
    pub next_link: Option<String>,
}

/// A Business Central API client for one company. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BcClient {
    api: ApiClient,
    root: Url,
    company: String,
    company_id: String,
    page_size: u32,
}

const SYS: System = crate::systems::BC;

impl BcClient {
    /// A client for `cfg`'s company, authenticating with tokens for `<resource>/.default`.
    pub fn new(
        cfg: &BcConfig,
        tokens: Arc<TokenCache>,
        http: HttpConfig,
    ) -> Result<Self, SystemError> {
        let bad = |reason: String| SystemError::Request {
            system: SYS,
            operation: "config",
            reason,
        };
        let trimmed = cfg.api_url.trim().trim_end_matches('/');
        let root = Url::parse(&format!("{trimmed}/")).map_err(|e| {
            bad(format!(
                "check [bc] api_url: '{trimmed}' is not a URL ({e})"
            ))
        })?;
        let company = cfg.company_id.trim().trim_matches(|c| c == '{' || c == '}');
        if company.is_empty() {
            return Err(bad("check [bc] company_id: it is empty".to_string()));
        }
        let scope = format!("{}/.default", cfg.resource.trim().trim_end_matches('/'));
        let api = ApiClient::new(SYS, http)?
            .with_authenticator(Arc::new(BearerAuth::new(SYS, tokens, scope)));
        Ok(BcClient {
            api,
            company: format!(
                "{root}companies{}/",
                key_predicate(&PrimaryKey::single(
                    "id",
                    KeyValue::Guid(company.to_string())
                ))
            ),
            company_id: company.to_string(),
            root,
            page_size: cfg.page_size.max(1),
        })
    }

    /// The HTTP client (for its gate and configuration).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The configured company's id.
    pub fn company_id(&self) -> &str {
        &self.company_id
    }

    fn request(c: &reqwest::Client, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        c.request(method, url).header(ACCEPT, "application/json")
    }

    /// The URL of the record of `set` whose id is `id`, keyed per the system's key shape.
    fn record_url(
        &self,
        operation: &'static str,
        set: &str,
        id: &str,
    ) -> Result<String, SystemError> {
        Ok(format!(
            "{}{}",
            self.company,
            record_path(SYS, operation, set, id)?
        ))
    }

    fn malformed(operation: &'static str, reason: impl Into<String>) -> SystemError {
        SystemError::Malformed {
            system: SYS,
            operation,
            reason: reason.into(),
        }
    }

    fn json_body(body: &Fields) -> Result<Vec<u8>, SystemError> {
        serde_json::to_vec(body).map_err(|e| SystemError::Request {
            system: SYS,
            operation: "serialize",
            reason: e.to_string(),
        })
    }

    /// One page of rows changed at or after `since` (all rows when `None`), oldest first.
    /// Pass the previous page's `next_link` to continue.
    pub async fn changed_since(
        &self,
        set: &str,
        since: Option<DateTime<Utc>>,
        next_link: Option<&str>,
    ) -> Result<BcPage, SystemError> {
        let url = match next_link {
            Some(l) => check_link(SYS, "poll", &self.root, l)?.to_string(),
            None => {
                let filter = since.map(|t| {
                    format!(
                        "lastModifiedDateTime ge {}",
                        t.to_rfc3339_opts(SecondsFormat::Millis, true)
                    )
                });
                let mut pairs = Vec::new();
                if let Some(f) = &filter {
                    pairs.push(("$filter", f.as_str()));
                }
                pairs.push(("$orderby", "lastModifiedDateTime"));
                format!("{}{set}{}", self.company, query_string(&pairs))
            }
        };
        let (rows, next_link) = self.page("poll", &url).await?;
        Ok(BcPage { rows, next_link })
    }

    /// One page of `set` matching `filter` in `orderby` order (a ledger read by entry number,
    /// say). Pass the previous page's `next_link` to continue.
    pub async fn page_where(
        &self,
        set: &str,
        filter: &str,
        orderby: &str,
        next_link: Option<&str>,
    ) -> Result<BcPage, SystemError> {
        let url = match next_link {
            Some(l) => check_link(SYS, "poll", &self.root, l)?.to_string(),
            None => format!(
                "{}{set}{}",
                self.company,
                query_string(&[("$filter", filter), ("$orderby", orderby)])
            ),
        };
        let (rows, next_link) = self.page("poll", &url).await?;
        Ok(BcPage { rows, next_link })
    }

    async fn page(
        &self,
        operation: &'static str,
        url: &str,
    ) -> Result<(Vec<Fields>, Option<String>), SystemError> {
        let prefer = format!("odata.maxpagesize={}", self.page_size);
        let body = self
            .api
            .send_json(operation, |c| {
                Self::request(c, reqwest::Method::GET, url).header("Prefer", &prefer)
            })
            .await?;
        crate::systems::http::page::page_values(&body)
            .ok_or_else(|| Self::malformed(operation, "the page has no 'value' array"))
    }

    async fn collect(
        &self,
        operation: &'static str,
        first: String,
    ) -> Result<Vec<Fields>, SystemError> {
        let mut url = first;
        let mut rows = Vec::new();
        loop {
            let (mut page, next) = self.page(operation, &url).await?;
            rows.append(&mut page);
            match next {
                Some(l) => url = check_link(SYS, operation, &self.root, &l)?.to_string(),
                None => return Ok(rows),
            }
        }
    }

    /// The companies in the environment (the connection test).
    pub async fn companies(&self) -> Result<Vec<Fields>, SystemError> {
        self.collect("companies", format!("{}companies", self.root))
            .await
    }

    /// The API's `$metadata` (CSDL XML), parsed: every entity set with its properties.
    pub async fn metadata(&self) -> Result<crate::odata::csdl::Csdl, SystemError> {
        let url = format!("{}$metadata", self.root);
        let resp = self
            .api
            .send("metadata", |c| {
                c.request(reqwest::Method::GET, &url)
                    .header(ACCEPT, "application/xml")
            })
            .await?;
        let text = resp.text().await.map_err(|e| SystemError::Unavailable {
            system: SYS,
            operation: "metadata",
            status: None,
            message: format!("reading the response: {}", e.without_url()),
        })?;
        crate::odata::csdl::Csdl::parse(&text)
            .map_err(|e| Self::malformed("metadata", format!("$metadata is not valid CSDL: {e}")))
    }

    /// One record by `id`, or `None` if it does not exist.
    pub async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        let url = self.record_url("get", set, id)?;
        match self
            .api
            .send_json("get", |c| Self::request(c, reqwest::Method::GET, &url))
            .await
        {
            Ok(serde_json::Value::Object(o)) => Ok(Some(o)),
            Ok(_) => Err(Self::malformed("get", "the record is not a JSON object")),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every record matching an OData `filter`, following every `@odata.nextLink`.
    pub async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        let url = format!(
            "{}{set}{}",
            self.company,
            query_string(&[("$filter", filter)])
        );
        self.collect("query", url).await
    }

    /// Creates a record (`POST`, 201 with the entity).
    pub async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        let bytes = Self::json_body(body)?;
        let url = format!("{}{set}", self.company);
        let value = self
            .api
            .send_json("create", |c| {
                Self::request(c, reqwest::Method::POST, &url)
                    .header(CONTENT_TYPE, "application/json")
                    .body(bytes.clone())
            })
            .await?;
        written("create", value)
    }

    /// Updates a record (`PATCH` with `If-Match`: an ETag or `*`). A stale ETag is a
    /// [`SystemError::Conflict`].
    pub async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: &str,
    ) -> Result<Written, SystemError> {
        let bytes = Self::json_body(body)?;
        let url = self.record_url("update", set, id)?;
        let value = self
            .api
            .send_json("update", |c| {
                Self::request(c, reqwest::Method::PATCH, &url)
                    .header(CONTENT_TYPE, "application/json")
                    .header(IF_MATCH, if_match)
                    .body(bytes.clone())
            })
            .await?;
        written("update", value)
    }

    /// Runs a bound action on a record (`POST {set}({id})/Microsoft.NAV.{action}`, 204), e.g.
    /// a sales quote's `release` or `archive` (see the sandbox's `schema_quotes.rs`).
    pub async fn action(&self, set: &str, id: &str, action: &str) -> Result<(), SystemError> {
        let url = format!(
            "{}/Microsoft.NAV.{action}",
            self.record_url("action", set, id)?
        );
        self.api
            .send("action", |c| {
                Self::request(c, reqwest::Method::POST, &url)
                    .header(CONTENT_TYPE, "application/json")
                    .body("{}")
            })
            .await
            .map(|_| ())
    }

    /// Deletes a record (`DELETE` with `If-Match`); one already gone is success.
    pub async fn delete(&self, set: &str, id: &str, if_match: &str) -> Result<(), SystemError> {
        let url = self.record_url("delete", set, id)?;
        match self
            .api
            .send("delete", |c| {
                Self::request(c, reqwest::Method::DELETE, &url).header(IF_MATCH, if_match)
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn written(operation: &'static str, value: serde_json::Value) -> Result<Written, SystemError> {
    match value {
        serde_json::Value::Object(o) => Written::from_fields(o, "id", "lastModifiedDateTime")
            .ok_or_else(|| BcClient::malformed(operation, "the entity has no 'id'")),
        _ => Err(BcClient::malformed(
            operation,
            "the entity is not a JSON object",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_company_urls() {
        let cfg: BcConfig = serde_json::from_str(
            r#"{"api_url":"https://api.businesscentral.dynamics.com/v2.0/t/prod/api/v2.0","company_id":"{6D81597F-0000-0000-0000-000000000001}"}"#,
        )
        .expect("config");
        assert_eq!(cfg.page_size, 1000);
        let tokens = Arc::new(TokenCache::new(
            "http://127.0.0.1:1/",
            "t",
            "c",
            "s".into(),
            HttpConfig::default(),
        ));
        let c = BcClient::new(&cfg, tokens, HttpConfig::default()).expect("client");
        assert_eq!(
            c.record_url("get", "customers", "abc").expect("url"),
            "https://api.businesscentral.dynamics.com/v2.0/t/prod/api/v2.0/companies(6d81597f-0000-0000-0000-000000000001)/customers(abc)"
        );
    }
}
