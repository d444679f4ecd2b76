//! Dataverse change tracking: full read with a delta link, then changes and deletes.

use serde_json::Value;

use super::client::DataverseClient;
use crate::event::key::Fields;
use crate::systems::error::SystemError;
use crate::systems::http::urls::{check_link, query_string};

/// One page of a change-tracking read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeltaPage {
    /// New or changed rows (selected columns only).
    pub rows: Vec<Fields>,
    /// Ids of deleted rows (`$deletedEntity` entries).
    pub deleted: Vec<String>,
    /// More pages: follow this before storing any delta link.
    pub next_link: Option<String>,
    /// On the last page: where the next delta read starts.
    pub delta_link: Option<String>,
}

impl DeltaPage {
    /// Splits a page body into rows and deletes.
    pub fn parse(page: &Value) -> Option<DeltaPage> {
        let mut out = DeltaPage::default();
        for entry in page.get("value")?.as_array()? {
            let Some(obj) = entry.as_object() else {
                continue;
            };
            let deleted = obj
                .get("@odata.context")
                .and_then(Value::as_str)
                .is_some_and(|c| c.ends_with("$deletedEntity"))
                || obj.get("reason").and_then(Value::as_str) == Some("deleted");
            if deleted {
                if let Some(id) = obj.get("id").and_then(Value::as_str) {
                    out.deleted.push(id.to_string());
                }
            } else {
                out.rows.push(obj.clone());
            }
        }
        let link = |k: &str| page.get(k).and_then(Value::as_str).map(str::to_string);
        out.next_link = link("@odata.nextLink");
        out.delta_link = link("@odata.deltaLink");
        Some(out)
    }
}

impl DataverseClient {
    /// A change-tracking read of `set`. With `link` `None`: the initial full read of the
    /// `select`ed columns. With a `nextLink` or `deltaLink` from an earlier page: that page,
    /// as is. An expired delta token is [`SystemError::DeltaExpired`].
    pub async fn delta(
        &self,
        set: &str,
        select: &[&str],
        link: Option<&str>,
    ) -> Result<DeltaPage, SystemError> {
        let url = match link {
            Some(l) => check_link(crate::systems::DATAVERSE, "delta", &self.base, l)?.to_string(),
            None => {
                let select = select.join(",");
                let pairs: Vec<(&str, &str)> = if select.is_empty() {
                    Vec::new()
                } else {
                    vec![("$select", select.as_str())]
                };
                format!("{}{}", self.url(set), query_string(&pairs))
            }
        };
        let prefer = format!(
            "odata.track-changes,odata.maxpagesize={},{}",
            self.page_size,
            super::client::INCLUDE_ANNOTATIONS
        );
        let page = self
            .api
            .send_json("delta", |c| {
                Self::request(c, reqwest::Method::GET, &url).header("Prefer", &prefer)
            })
            .await?;
        DeltaPage::parse(&page)
            .ok_or_else(|| self.malformed("delta", "the page has no 'value' array"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_rows_and_deletes() {
        let page: Value = serde_json::from_str(
            r#"{"@odata.context":"x/$metadata#accounts(name)/$delta",
                "@odata.deltaLink":"https://o/api/data/v9.2/accounts?$deltatoken=1",
                "value":[
                  {"@odata.etag":"W/\"1\"","name":"A","accountid":"a1"},
                  {"@odata.context":"x/$metadata#accounts/$deletedEntity","id":"d1","reason":"deleted"},
                  {"id":"d2","reason":"deleted"}]}"#,
        )
        .expect("json");
        let p = DeltaPage::parse(&page).expect("page");
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.deleted, vec!["d1", "d2"]);
        assert!(p.next_link.is_none());
        assert!(p.delta_link.is_some());
        assert!(DeltaPage::parse(&serde_json::json!({})).is_none());
    }
}
