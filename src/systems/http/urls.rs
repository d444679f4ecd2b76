//! Building request URLs: query strings, record keys (OData key predicates), OData literals,
//! and checking server links before following them with credentials.

use url::Url;

use crate::event::key::System;
use crate::event::record_id::{KeyValue, PrimaryKey};
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

/// The key segment of a record URL for a GUID: hyphenated lower case, unquoted; a value that
/// is not a GUID percent-encoded as it is (what ids were rendered as before the key codec).
pub fn key_segment(id: &str) -> String {
    match uuid::Uuid::parse_str(id) {
        Ok(u) => u.hyphenated().to_string(),
        Err(_) => urlencoding::encode(id).into_owned(),
    }
}

/// The OData key predicate of `key`, ready for a URL path after the entity set's name, per
/// the OData URL conventions, §4.3 "Addressing Entities"
/// (<https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html#sec_CanonicalURL>)
/// and the literal forms of its ABNF:
///
/// - a GUID bare: `(7c9e6679-7425-40de-944b-e07fc1f90ae7)` (Dataverse, Business Central);
/// - a string quoted, with `'` doubled: `('C0001')`, `('O''Neil')` (SAP B1's `CardCode`);
/// - an integer bare: `(123)` (SAP B1's `DocEntry`);
/// - several columns named, in the key's order:
///   `(dataAreaId='usmf',CustomerAccount='US-001')` (F&O).
///
/// Inside a string, everything but the unreserved characters and `'` is percent-encoded
/// (`/`, `%`, `?`, `#`, spaces, non-ASCII as UTF-8 bytes).
pub fn key_predicate(key: &PrimaryKey) -> String {
    let mut out = String::from("(");
    match key.parts() {
        [one] => out.push_str(&key_literal(&one.value)),
        parts => {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&urlencoding::encode(&p.column));
                out.push('=');
                out.push_str(&key_literal(&p.value));
            }
        }
    }
    out.push(')');
    out
}

/// `set(key)`: the path of a record whose id is `id` (the key codec's encoding), relative to
/// the service root; a malformed id is a [`SystemError::Request`] naming it.
pub fn record_path(
    system: System,
    operation: &'static str,
    set: &str,
    id: &str,
) -> Result<String, SystemError> {
    let key = system
        .decode_id(set, id)
        .map_err(|e| SystemError::Request {
            system,
            operation,
            reason: format!("{set}: {e}"),
        })?;
    Ok(format!("{set}{}", key_predicate(&key)))
}

/// One key value as an OData URL literal.
fn key_literal(value: &KeyValue) -> String {
    match value {
        KeyValue::Guid(g) => key_segment(g),
        KeyValue::Int(i) => i.to_string(),
        KeyValue::Str(s) => {
            let mut out = String::from("'");
            for b in s.replace('\'', "''").bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'\'') {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out.push('\'');
            out
        }
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
    fn renders_key_predicates_for_each_shape() {
        use crate::event::record_id::{KeyKind, KeyPart, KeyShape};
        let guid = "7C9E6679-7425-40DE-944B-E07FC1F90AE7";
        let one = |v| PrimaryKey::single("k", v);
        assert_eq!(
            key_predicate(&one(KeyValue::Guid(guid.into()))),
            "(7c9e6679-7425-40de-944b-e07fc1f90ae7)"
        );
        assert_eq!(key_predicate(&one(KeyValue::Guid("abc".into()))), "(abc)");
        assert_eq!(
            key_predicate(&one(KeyValue::Str("C0001".into()))),
            "('C0001')"
        );
        assert_eq!(
            key_predicate(&one(KeyValue::Str("O'Neil".into()))),
            "('O''Neil')"
        );
        assert_eq!(
            key_predicate(&one(KeyValue::Str("a/b %,=?#é".into()))),
            "('a%2Fb%20%25%2C%3D%3F%23%C3%A9')"
        );
        assert_eq!(key_predicate(&one(KeyValue::Int(123))), "(123)");
        assert_eq!(key_predicate(&one(KeyValue::Int(-4))), "(-4)");
        let fo = PrimaryKey::new(vec![
            KeyPart {
                column: "dataAreaId".into(),
                value: KeyValue::Str("usmf".into()),
            },
            KeyPart {
                column: "CustomerAccount".into(),
                value: KeyValue::Str("US-001".into()),
            },
        ])
        .expect("parts");
        assert_eq!(
            key_predicate(&fo),
            "(dataAreaId='usmf',CustomerAccount='US-001')"
        );
        // Decoded from the record key's id: the same predicate.
        let shape = KeyShape::composite([
            ("dataAreaId", KeyKind::String),
            ("CustomerAccount", KeyKind::String),
        ]);
        let decoded = PrimaryKey::decode(&fo.encode(), &shape).expect("decoded");
        assert_eq!(key_predicate(&decoded), key_predicate(&fo));
    }

    #[test]
    fn record_paths_decode_the_id_or_name_it() {
        let dv = crate::systems::DATAVERSE;
        assert_eq!(
            record_path(
                dv,
                "get",
                "accounts",
                "6D81597F-0000-0000-0000-000000000001"
            )
            .expect("path"),
            "accounts(6d81597f-0000-0000-0000-000000000001)"
        );
        let e = record_path(dv, "get", "accounts", "a/b").expect_err("a '/' in an id");
        assert!(matches!(e, SystemError::Request { .. }), "{e:?}");
        assert!(e.to_string().contains("'a/b'"), "{e}");
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
