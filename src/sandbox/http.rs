//! Small HTTP helpers shared by the emulators: query strings, `Prefer`, JSON responses.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

/// Splits a raw query string into decoded `(name, value)` pairs, keeping `+` literal as OData
/// does.
pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes, falling back to the raw text when it is not valid UTF-8.
pub(crate) fn decode(s: &str) -> String {
    urlencoding::decode(s)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| s.to_string())
}

/// The `Prefer` preferences the emulators understand.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prefer {
    pub maxpagesize: Option<usize>,
    pub track_changes: bool,
    pub return_representation: bool,
    pub annotations: Option<String>,
}

impl Prefer {
    pub fn from_headers(headers: &HeaderMap) -> Prefer {
        let mut p = Prefer::default();
        for v in headers.get_all("prefer") {
            let Ok(v) = v.to_str() else { continue };
            for part in split_unquoted(v, ',') {
                let part = part.trim();
                let (k, val) = part.split_once('=').unwrap_or((part, ""));
                let val = val.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "odata.maxpagesize" => p.maxpagesize = val.parse().ok(),
                    "odata.track-changes" => p.track_changes = true,
                    "return" if val.eq_ignore_ascii_case("representation") => {
                        p.return_representation = true
                    }
                    "odata.include-annotations" => p.annotations = Some(val.to_string()),
                    _ => {}
                }
            }
        }
        p
    }
}

/// `s` split at each `sep` outside double quotes (a preference's quoted value, such as
/// `odata.include-annotations="a,b"`, keeps its commas).
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, ch) in s.char_indices() {
        if ch == '"' {
            quoted = !quoted;
        } else if ch == sep && !quoted {
            out.push(&s[start..i]);
            start = i + ch.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// A header value by name, as text.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    raw_json(status, body.to_string())
}

/// A response with a JSON content type and the given text (which may be invalid on purpose).
pub(crate) fn raw_json(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; odata.metadata=minimal; charset=utf-8"),
    );
    r.headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    r
}

/// An empty response.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// Sets a header when the value is a valid header value.
pub(crate) fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// A fresh correlation / activity id.
pub(crate) fn new_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Extracts the key from `name(key)` or `name(keyname=key)`, stripping quotes.
pub(crate) fn split_key(segment: &str) -> Option<(&str, Option<String>)> {
    let Some(open) = segment.find('(') else {
        return Some((segment, None));
    };
    let inner = segment[open + 1..].strip_suffix(')')?;
    let value = inner.split_once('=').map(|(_, v)| v).unwrap_or(inner);
    let value = value.trim().trim_matches('\'').to_ascii_lowercase();
    Some((&segment[..open], Some(value)))
}

/// True for a canonical 8-4-4-4-12 GUID.
pub(crate) fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_keys() {
        let q = parse_query(Some("$filter=name%20eq%20'a+b'&$top=5&flag"));
        assert_eq!(q[0], ("$filter".into(), "name eq 'a+b'".into()));
        assert_eq!(q[2], ("flag".into(), "".into()));
        assert_eq!(
            split_key("accounts(AccountId=ABC)"),
            Some(("accounts", Some("abc".into())))
        );
        assert_eq!(split_key("accounts"), Some(("accounts", None)));
        assert_eq!(split_key("accounts(x"), None);
    }

    #[test]
    fn prefer_parsing() {
        let mut h = HeaderMap::new();
        h.insert(
            "prefer",
            HeaderValue::from_static("odata.track-changes, odata.maxpagesize=10"),
        );
        h.append(
            "prefer",
            HeaderValue::from_static("return=representation,odata.include-annotations=\"*\""),
        );
        let p = Prefer::from_headers(&h);
        assert!(p.track_changes && p.return_representation);
        assert_eq!(p.maxpagesize, Some(10));
        assert_eq!(p.annotations.as_deref(), Some("*"));
        // A quoted list keeps its commas.
        let mut h = HeaderMap::new();
        h.insert(
            "prefer",
            HeaderValue::from_static(
                "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname,Microsoft.Dynamics.CRM.associatednavigationproperty\",odata.maxpagesize=5",
            ),
        );
        let p = Prefer::from_headers(&h);
        assert_eq!(
            p.annotations.as_deref(),
            Some(
                "Microsoft.Dynamics.CRM.lookuplogicalname,Microsoft.Dynamics.CRM.associatednavigationproperty"
            )
        );
        assert_eq!(p.maxpagesize, Some(5));
    }
}
