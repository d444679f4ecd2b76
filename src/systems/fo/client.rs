//! The Finance & Operations OData client: data entities under `/data/`, every key with its
//! `dataAreaId`, `cross-company=true` on every request (reads see every company the user may
//! access and are filtered to the configured legal entities; key-addressed reads and writes
//! on a non-default company need it too, `external-apis.md` §3.1), and a first call allowed
//! to take as long as an environment's cold start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, IF_MATCH};
use url::Url;

use super::config::FoConfig;
use super::events::EventEndpoint;
use super::system::{COMPANY, MODIFIED, SYSTEM as SYS, is_company_specific};
use crate::event::key::Fields;
use crate::systems::auth::{BearerAuth, TokenCache};
use crate::systems::error::SystemError;
use crate::systems::http::urls::{check_link, odata_string, query_string, record_path};
use crate::systems::http::{ApiClient, HttpConfig};
use crate::systems::written::Written;

/// One page of rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoPage {
    /// The rows, in the order asked for.
    pub rows: Vec<Fields>,
    /// The next page, if any.
    pub next_link: Option<String>,
}

/// An F&O client for the configured legal entities. Cheap to clone: clones share the
/// connection pool, the token and whether the environment has answered yet.
#[derive(Debug, Clone)]
pub struct FoClient {
    api: ApiClient,
    /// The OData service root, `{url}data/`.
    root: Url,
    companies: Vec<String>,
    page_size: u32,
    first_call_timeout: Duration,
    /// Whether the environment has answered a request since start (after which the normal
    /// timeout applies).
    warm: Arc<AtomicBool>,
    /// The Business Events endpoint, when configured.
    events: Option<Arc<EventEndpoint>>,
    /// `$metadata`, read once when a filter first needs a property's type.
    csdl: Arc<tokio::sync::OnceCell<crate::odata::csdl::Csdl>>,
}

impl FoClient {
    /// A client for `cfg`'s environment, authenticating with tokens for its own host.
    pub fn new(
        cfg: &FoConfig,
        tokens: Arc<TokenCache>,
        http: HttpConfig,
    ) -> Result<Self, SystemError> {
        let trimmed = cfg.url.trim().trim_end_matches('/');
        let root = Url::parse(&format!("{trimmed}/data/")).map_err(|e| SystemError::Request {
            system: SYS,
            operation: "config",
            reason: format!("check [fo] url: '{trimmed}' is not a URL ({e})"),
        })?;
        let scope = format!("{}/.default", cfg.token_resource());
        let api = ApiClient::new(SYS, http)?
            .with_authenticator(Arc::new(BearerAuth::new(SYS, tokens, scope)));
        Ok(FoClient {
            api,
            root,
            companies: cfg.companies(),
            page_size: cfg.page_size.max(1),
            first_call_timeout: Duration::from_secs(cfg.first_call_timeout_secs.max(1)),
            warm: Arc::new(AtomicBool::new(false)),
            events: cfg
                .business_events
                .clone()
                .map(|e| Arc::new(EventEndpoint::new(e))),
            csdl: Arc::new(tokio::sync::OnceCell::new()),
        })
    }

    /// The OData literal of `value` for property `field` of `set`: an enum property takes F&O's
    /// qualified enum literal (`Microsoft.Dynamics.DataEntities.NoYes'Yes'`; a plain string
    /// is refused for it, `external-apis.md` §3.1), anything else the usual literal.
    pub async fn literal_for(
        &self,
        set: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<String, SystemError> {
        let plain = crate::systems::http::urls::odata_literal(value);
        let Some(text) = value.as_str() else {
            return Ok(plain);
        };
        let csdl = self.csdl.get_or_try_init(|| self.metadata()).await?;
        let kind = csdl
            .entity_set(SYS, set)
            .and_then(|e| e.fields.into_iter().find(|f| f.name == field))
            .map(|f| f.kind);
        Ok(match kind {
            Some(k) if !k.starts_with("Edm.") && !k.is_empty() => {
                format!("{k}'{}'", text.replace('\'', "''"))
            }
            _ => plain,
        })
    }

    /// The Business Events endpoint, when `[fo.business_events]` is configured.
    pub fn events(&self) -> Option<&Arc<EventEndpoint>> {
        self.events.as_ref()
    }

    /// The HTTP client (for its gate and configuration).
    pub fn api(&self) -> &ApiClient {
        &self.api
    }

    /// The legal entities synchronised, the default first.
    pub fn companies(&self) -> &[String] {
        &self.companies
    }

    /// The legal entity of records that name none.
    pub fn default_company(&self) -> &str {
        self.companies.first().map(String::as_str).unwrap_or("usmf")
    }

    /// A request with JSON accepted and, until the environment has answered once, the
    /// first-call timeout instead of the normal one.
    fn request(
        &self,
        c: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let r = c.request(method, url).header(ACCEPT, "application/json");
        if self.warm.load(Ordering::Relaxed) {
            r
        } else {
            r.timeout(self.first_call_timeout)
        }
    }

    fn answered<T>(&self, r: Result<T, SystemError>) -> Result<T, SystemError> {
        // Any answer, even an error, means the environment is up.
        if !matches!(&r, Err(SystemError::Unavailable { status: None, .. })) {
            self.warm.store(true, Ordering::Relaxed);
        }
        r
    }

    fn malformed(operation: &'static str, reason: impl Into<String>) -> SystemError {
        SystemError::Malformed {
            system: SYS,
            operation,
            reason: reason.into(),
        }
    }

    /// `(dataAreaId eq 'usmf' or dataAreaId eq 'usrt')`: the configured companies.
    fn company_filter(&self) -> String {
        let parts: Vec<String> = self
            .companies
            .iter()
            .map(|c| format!("{COMPANY} eq {}", odata_string(c)))
            .collect();
        format!("({})", parts.join(" or "))
    }

    /// `{root}{set}?$filter=…&$orderby=…&cross-company=true`, the filter limited to the
    /// configured companies (a shared entity, which has no `dataAreaId`, is not limited).
    fn collection_url(&self, set: &str, filter: &str, orderby: Option<&str>) -> String {
        let filter = match (is_company_specific(set), filter.trim().is_empty()) {
            (true, true) => self.company_filter(),
            (true, false) => format!("{} and ({filter})", self.company_filter()),
            (false, _) => filter.to_string(),
        };
        let mut pairs = Vec::new();
        if !filter.trim().is_empty() {
            pairs.push(("$filter", filter.as_str()));
        }
        if let Some(o) = orderby {
            pairs.push(("$orderby", o));
        }
        pairs.push(("cross-company", "true"));
        format!("{}{set}{}", self.root, query_string(&pairs))
    }

    /// The URL of record `id` of `set` (its composite key), cross-company.
    fn record_url(
        &self,
        operation: &'static str,
        set: &str,
        id: &str,
    ) -> Result<String, SystemError> {
        Ok(format!(
            "{}{}?cross-company=true",
            self.root,
            record_path(SYS, operation, set, id)?
        ))
    }

    /// One page of rows of `set` changed at or after `since` (all rows when `None`), oldest
    /// first, in the configured companies. Pass the previous page's `next_link` to continue.
    pub async fn changed_since(
        &self,
        set: &str,
        since: Option<DateTime<Utc>>,
        next_link: Option<&str>,
    ) -> Result<FoPage, SystemError> {
        let url = match next_link {
            Some(l) => check_link(SYS, "poll", &self.root, l)?.to_string(),
            None => {
                let filter = since
                    .map(|t| {
                        format!(
                            "{MODIFIED} ge {}",
                            t.to_rfc3339_opts(SecondsFormat::Millis, true)
                        )
                    })
                    .unwrap_or_default();
                self.collection_url(set, &filter, Some(MODIFIED))
            }
        };
        let (rows, next_link) = self.page("poll", &url).await?;
        Ok(FoPage { rows, next_link })
    }

    async fn page(
        &self,
        operation: &'static str,
        url: &str,
    ) -> Result<(Vec<Fields>, Option<String>), SystemError> {
        let prefer = format!("odata.maxpagesize={}", self.page_size);
        let body = self.answered(
            self.api
                .send_json(operation, |c| {
                    self.request(c, reqwest::Method::GET, url)
                        .header("Prefer", &prefer)
                })
                .await,
        )?;
        crate::systems::http::page::page_values(&body)
            .ok_or_else(|| Self::malformed(operation, "the page has no 'value' array"))
    }

    /// Every row of `set` matching an OData `filter` in the configured companies, every page.
    pub async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        let mut url = self.collection_url(set, filter, None);
        let mut rows = Vec::new();
        loop {
            let (mut page, next) = self.page("query", &url).await?;
            rows.append(&mut page);
            match next {
                Some(l) => url = check_link(SYS, "query", &self.root, &l)?.to_string(),
                None => return Ok(rows),
            }
        }
    }

    /// At most `top` rows of `set` matching `filter` in the configured companies (one page).
    pub async fn query_top(
        &self,
        set: &str,
        filter: &str,
        top: u32,
    ) -> Result<Vec<Fields>, SystemError> {
        let url = format!("{}&$top={top}", self.collection_url(set, filter, None));
        Ok(self.page("query", &url).await?.0)
    }

    /// The service's `$metadata` (CSDL XML), parsed.
    pub async fn metadata(&self) -> Result<crate::odata::csdl::Csdl, SystemError> {
        let url = format!("{}$metadata", self.root);
        let resp = self.answered(
            self.api
                .send("metadata", |c| {
                    self.request(c, reqwest::Method::GET, &url)
                        .header(ACCEPT, "application/xml")
                })
                .await,
        )?;
        let text = resp.text().await.map_err(|e| SystemError::Unavailable {
            system: SYS,
            operation: "metadata",
            status: None,
            message: format!("reading the response: {}", e.without_url()),
        })?;
        crate::odata::csdl::Csdl::parse(&text)
            .map_err(|e| Self::malformed("metadata", format!("$metadata is not valid CSDL: {e}")))
    }

    /// Record `id` of `set`, or `None` if it does not exist (or is in a company the user
    /// cannot see).
    pub async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        let url = self.record_url("get", set, id)?;
        match self.answered(
            self.api
                .send_json("get", |c| self.request(c, reqwest::Method::GET, &url))
                .await,
        ) {
            Ok(serde_json::Value::Object(o)) => Ok(Some(o)),
            Ok(_) => Err(Self::malformed("get", "the record is not a JSON object")),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a record (`POST`, 201 with the entity) in the company its `dataAreaId` names,
    /// the default legal entity when it names none (a shared entity's record names none).
    pub async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        let mut body = body.clone();
        let named = body
            .get(COMPANY)
            .and_then(|v| v.as_str())
            .is_some_and(|c| !c.trim().is_empty());
        if !named && is_company_specific(set) {
            body.insert(COMPANY.into(), self.default_company().into());
        }
        let bytes = json_body(&body)?;
        let url = format!("{}{set}?cross-company=true", self.root);
        let value = self.answered(
            self.api
                .send_json("create", |c| {
                    self.request(c, reqwest::Method::POST, &url)
                        .header(CONTENT_TYPE, "application/json")
                        .body(bytes.clone())
                })
                .await,
        )?;
        written(set, "create", value)
    }

    /// Updates a record (`PATCH` with `If-Match`, 204 without a body), then reads it back for
    /// its new ETag and modified time. A stale ETag is a [`SystemError::Conflict`].
    pub async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: &str,
    ) -> Result<Written, SystemError> {
        let mut body = body.clone();
        // The key (with its company) is in the URL; F&O refuses to change it.
        for k in SYS.key_shape(set).columns() {
            body.remove(&k.name);
        }
        let bytes = json_body(&body)?;
        let url = self.record_url("update", set, id)?;
        self.answered(
            self.api
                .send("update", |c| {
                    self.request(c, reqwest::Method::PATCH, &url)
                        .header(CONTENT_TYPE, "application/json")
                        .header(IF_MATCH, if_match)
                        .body(bytes.clone())
                })
                .await,
        )?;
        match self.get(set, id).await? {
            Some(fields) => written(set, "update", serde_json::Value::Object(fields)),
            None => Err(SystemError::NotFound {
                system: SYS,
                operation: "update",
                message: format!(
                    "{set}/{id} was updated but cannot be read back; it may have been deleted meanwhile"
                ),
            }),
        }
    }

    /// Deletes a record (`DELETE` with `If-Match`); one already gone is success.
    pub async fn delete(&self, set: &str, id: &str, if_match: &str) -> Result<(), SystemError> {
        let url = self.record_url("delete", set, id)?;
        match self.answered(
            self.api
                .send("delete", |c| {
                    self.request(c, reqwest::Method::DELETE, &url)
                        .header(IF_MATCH, if_match)
                })
                .await,
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn json_body(body: &Fields) -> Result<Vec<u8>, SystemError> {
    serde_json::to_vec(body).map_err(|e| SystemError::Request {
        system: SYS,
        operation: "serialize",
        reason: e.to_string(),
    })
}

/// A written record: its id is its composite key, its time `ModifiedDateTime` (when the
/// entity has one).
fn written(
    set: &str,
    operation: &'static str,
    value: serde_json::Value,
) -> Result<Written, SystemError> {
    let serde_json::Value::Object(fields) = value else {
        return Err(FoClient::malformed(
            operation,
            "the entity is not a JSON object",
        ));
    };
    let id = SYS.record_id(set, &fields).ok_or_else(|| {
        FoClient::malformed(
            operation,
            format!(
                "the entity has no complete key ({})",
                SYS.key_shape(set).names()
            ),
        )
    })?;
    let modified_on = fields
        .get(MODIFIED)
        .and_then(|m| m.as_str())
        .and_then(|m| DateTime::parse_from_rfc3339(m).ok())
        .map(|m| m.with_timezone(&Utc));
    Ok(Written {
        id,
        etag: SYS.record_etag(&fields),
        modified_on,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(legal_entities: &[&str]) -> FoClient {
        let cfg = FoConfig {
            url: "https://contoso.operations.dynamics.com/".into(),
            resource: None,
            legal_entity: "usmf".into(),
            legal_entities: legal_entities.iter().map(|s| s.to_string()).collect(),
            page_size: 10_000,
            first_call_timeout_secs: 600,
            business_events: None,
        };
        let tokens = Arc::new(TokenCache::new(
            "http://127.0.0.1:1/",
            "t",
            "c",
            "s".into(),
            HttpConfig::default(),
        ));
        FoClient::new(&cfg, tokens, HttpConfig::default()).expect("client")
    }

    #[test]
    fn keys_and_companies_are_in_every_url() {
        let c = client(&["usrt"]);
        assert_eq!(
            c.record_url(
                "get",
                "CustomersV3",
                "dataAreaId=usrt,CustomerAccount=US-001"
            )
            .unwrap(),
            "https://contoso.operations.dynamics.com/data/CustomersV3(dataAreaId='usrt',CustomerAccount='US-001')?cross-company=true"
        );
        let q = c.collection_url("CustomersV3", "CustomerAccount eq 'A'", None);
        let decoded = urlencoding_decode(&q);
        assert!(
            decoded.contains("$filter=(dataAreaId eq 'usmf' or dataAreaId eq 'usrt') and (CustomerAccount eq 'A')"),
            "{decoded}"
        );
        assert!(q.ends_with("cross-company=true"), "{q}");
        assert!(c.record_url("get", "CustomersV3", "US-001").is_err());
    }

    #[test]
    fn a_shared_entity_is_read_and_addressed_without_a_company() {
        let c = client(&["usrt"]);
        let all = urlencoding_decode(&c.collection_url("UnitsOfMeasure", "", None));
        assert_eq!(all, "cross-company=true");
        let some =
            urlencoding_decode(&c.collection_url("UnitsOfMeasure", "UnitSymbol eq 'ea'", None));
        assert_eq!(some, "$filter=UnitSymbol eq 'ea'&cross-company=true");
        assert_eq!(
            c.record_url("get", "UnitsOfMeasure", "ea").unwrap(),
            "https://contoso.operations.dynamics.com/data/UnitsOfMeasure('ea')?cross-company=true"
        );
        let groups = urlencoding_decode(&c.collection_url("PriceCustomerGroups", "", None));
        assert!(
            groups.starts_with("$filter=(dataAreaId eq 'usmf' or dataAreaId eq 'usrt')"),
            "{groups}"
        );
        let w = written(
            "UnitsOfMeasure",
            "create",
            serde_json::json!({"@odata.etag": "W/\"u\"", "UnitSymbol": "box"}),
        )
        .unwrap();
        assert_eq!(w.id, "box");
        assert!(w.modified_on.is_none());
    }

    fn urlencoding_decode(s: &str) -> String {
        url::form_urlencoded::parse(s.split_once('?').map(|(_, q)| q).unwrap_or("").as_bytes())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn a_written_entity_is_read_by_its_composite_key() {
        let w = written(
            "CustomersV3",
            "create",
            serde_json::json!({"@odata.etag": "W/\"x\"", "dataAreaId": "usmf", "CustomerAccount": "US-009",
                "ModifiedDateTime": "2026-12-01T10:00:00Z"}),
        )
        .unwrap();
        assert_eq!(w.id, "dataAreaId=usmf,CustomerAccount=US-009");
        assert_eq!(w.etag.as_deref(), Some("W/\"x\""));
        assert!(w.modified_on.is_some());
        assert!(
            written(
                "CustomersV3",
                "create",
                serde_json::json!({"CustomerAccount": "x"})
            )
            .is_err()
        );
    }
}
