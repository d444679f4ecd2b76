//! `[fo]`: where the Finance & Operations environment is, which legal entities Couplet keeps
//! in step, and how long its first call may take.

use serde::Deserialize;

use crate::systems::connect::{SectionError, check_url};

/// The `[fo]` section.
///
/// ```toml
/// [fo]
/// url = "https://contoso.operations.dynamics.com/"   # the environment; OData at url + "data/"
/// legal_entity = "usmf"                              # the company of records that name none
/// legal_entities = ["usmf", "usrt"]                  # the companies synchronised
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoConfig {
    /// The environment's URL, `https://{env}.operations.dynamics.com/`. Its host is also the
    /// token's scope (`{url}/.default`), so F&O gets a token of its own, apart from
    /// Dataverse's (`external-apis.md` §3.1, §5).
    pub url: String,
    /// The token resource, when it is not the environment URL (default: `url` without its
    /// trailing slash).
    #[serde(default)]
    pub resource: Option<String>,
    /// The legal entity (`dataAreaId`) a record goes to when its mapping gives none: the
    /// company of accounts without a legal-entity column value (default `usmf`, the demo
    /// company of every F&O environment).
    #[serde(default = "default_legal_entity")]
    pub legal_entity: String,
    /// The legal entities synchronised: reads are cross-company and filtered to these
    /// (default: `legal_entity` alone).
    #[serde(default)]
    pub legal_entities: Vec<String>,
    /// Rows per page asked for (`odata.maxpagesize`; F&O serves at most 10,000).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// The timeout of the first request after start, in seconds (default 600): the first
    /// OData call after an environment restart can take minutes while metadata warms up
    /// (`data-entities/odata.md`); later requests use `[http] timeout_secs`.
    #[serde(default = "default_first_call_timeout")]
    pub first_call_timeout_secs: u64,
    /// `[fo.business_events]`: receive F&O's Business Events, which wake the polls of the
    /// entity sets they name (absent: the polls run on their interval only).
    #[serde(default)]
    pub business_events: Option<super::events::BusinessEventsConfig>,
}

fn default_legal_entity() -> String {
    "usmf".to_string()
}

fn default_page_size() -> u32 {
    10_000
}

fn default_first_call_timeout() -> u64 {
    600
}

impl FoConfig {
    /// The legal entities synchronised, lower-cased, the default one first.
    pub fn companies(&self) -> Vec<String> {
        let mut out = vec![self.legal_entity.trim().to_lowercase()];
        for c in &self.legal_entities {
            let c = c.trim().to_lowercase();
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The token resource: `resource`, or the environment URL without its trailing slash.
    pub fn token_resource(&self) -> String {
        self.resource
            .clone()
            .unwrap_or_else(|| self.url.clone())
            .trim()
            .trim_end_matches('/')
            .to_string()
    }

    /// Checks the values a parse cannot.
    pub fn check(&self) -> Result<(), SectionError> {
        check_url("fo.url", &self.url)?;
        if self.page_size == 0 || self.page_size > 10_000 {
            return Err(SectionError::new(
                "fo.page_size",
                "F&O pages hold 1 to 10000 rows",
            ));
        }
        for (setting, c) in std::iter::once(("fo.legal_entity", &self.legal_entity))
            .chain(self.legal_entities.iter().map(|c| ("fo.legal_entities", c)))
        {
            let c = c.trim();
            if c.is_empty() || c.len() > 4 || !c.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                return Err(SectionError::new(
                    setting,
                    format!(
                        "'{c}' is not a legal entity id: F&O's dataAreaId is 1 to 4 letters or digits, e.g. usmf"
                    ),
                ));
            }
        }
        if let Some(e) = &self.business_events {
            e.validate()
                .map_err(|e| SectionError::new("fo.business_events", e.to_string()))?;
        }
        if self.first_call_timeout_secs == 0 {
            return Err(SectionError::new(
                "fo.first_call_timeout_secs",
                "must be at least 1 second; the first call after a restart can take minutes",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<FoConfig, String> {
        toml::from_str::<FoConfig>(s).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_companies() {
        let c = parse(r#"url = "https://contoso.operations.dynamics.com/""#).unwrap();
        c.check().unwrap();
        assert_eq!(c.companies(), vec!["usmf"]);
        assert_eq!(
            c.token_resource(),
            "https://contoso.operations.dynamics.com"
        );
        assert_eq!(c.page_size, 10_000);
        let c = parse(
            r#"url = "https://e.operations.dynamics.com/"
legal_entity = "USRT"
legal_entities = ["usmf", "usrt"]"#,
        )
        .unwrap();
        assert_eq!(c.companies(), vec!["usrt", "usmf"]);
    }

    #[test]
    fn bad_values_name_their_setting() {
        assert!(
            parse(
                r#"url = "x"
base = 1"#
            )
            .unwrap_err()
            .contains("unknown field")
        );
        let c = parse(
            r#"url = "https://e.operations.dynamics.com/"
legal_entities = ["us mf"]"#,
        )
        .unwrap();
        assert_eq!(c.check().unwrap_err().setting, "fo.legal_entities");
        let c = parse(r#"url = "https://e.operations.dynamics.com""#).unwrap();
        assert_eq!(c.check().unwrap_err().setting, "fo.url");
    }
}
