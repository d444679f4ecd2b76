//! Building request URLs: query strings, record keys, OData literals, and checking server
//! links before following them with a bearer token.

use url::Url;

use crate::event::key::System;
use crate::systems::error::{SystemError, redact_url};

/// `?k=v&k2=v2` with values percent-encoded (`$select`-style keys stay literal); empty when
/// there are no pairs.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&urlencoding::encode(v));
    }
    out
}

/// The key segment of a record URL: a GUID as is, anything else percent-encoded.
pub fn key_segment(id: &str) -> String {
    match uuid::Uuid::parse_str(id) {
        Ok(u) => u.hyphenated().to_string(),
        Err(_) => urlencoding::encode(id).into_owned(),
    }
}

/// An OData string literal: single-quoted, with single quotes doubled.
pub fn odata_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// An OData literal for a JSON value: strings quoted, numbers and booleans bare, `null`.
pub fn odata_literal(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => odata_string(s),
        serde_json::Value::Null => "null".to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        other => odata_string(&other.to_string()),
    }
}

/// Accepts a `@odata.nextLink`/`deltaLink` only if it points at the same scheme, host and
/// port as `base`, so the bearer token is never sent elsewhere.
pub fn check_link(
    system: System,
    operation: &'static str,
    base: &Url,
    link: &str,
) -> Result<Url, SystemError> {
    let malformed = |reason: String| SystemError::Malformed {
        system,
        operation,
        reason,
    };
    let url = Url::parse(link)
        .or_else(|_| base.join(link))
        .map_err(|e| malformed(format!("the link {} is not a URL: {e}", redact_url(link))))?;
    let same = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    if same {
        Ok(url)
    } else {
        Err(malformed(format!(
            "the link {} points outside {}",
            redact_url(link),
            redact_url(base.as_str())
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_query_strings_and_literals() {
        assert_eq!(
            query_string(&[("$select", "name,accountid"), ("$filter", "name eq 'a&b'")]),
            "?$select=name%2Caccountid&$filter=name%20eq%20%27a%26b%27"
        );
        assert_eq!(query_string(&[]), "");
        assert_eq!(odata_string("O'Brien"), "'O''Brien'");
        assert_eq!(odata_literal(&serde_json::json!(5)), "5");
        assert_eq!(
            key_segment("6D81597F-0000-0000-0000-000000000001"),
            "6d81597f-0000-0000-0000-000000000001"
        );
        assert_eq!(key_segment("a/b"), "a%2Fb");
    }

    #[test]
    fn refuses_foreign_links() {
        let base = Url::parse("https://org.crm.dynamics.com/api/data/v9.2/").expect("url");
        assert!(
            check_link(
                crate::systems::DATAVERSE,
                "delta",
                &base,
                "https://org.crm.dynamics.com/api/data/v9.2/accounts?$skiptoken=x"
            )
            .is_ok()
        );
        assert!(
            check_link(
                crate::systems::DATAVERSE,
                "delta",
                &base,
                "https://evil.example/steal"
            )
            .is_err()
        );
    }
}
