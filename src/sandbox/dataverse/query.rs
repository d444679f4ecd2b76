//! Dataverse reads: query options, `$select`/`$filter`/`$orderby`/`$top`, server paging with
//! an opaque `$skiptoken` paging cookie, and single-row GETs.

use std::cmp::Ordering;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::annotations::Annotations;
use super::schema::EntityDef;
use super::{DvError, etag, shape};
use crate::event::Fields;
use crate::odata::filter::{self, Filter};
use crate::sandbox::http::{Prefer, header, json as json_response, raw_json, set_header};
use crate::sandbox::shared::Shared;

/// Default and maximum page size.
pub(crate) const MAX_PAGE: usize = 5000;

/// One request against an entity set.
pub(crate) struct Req<'a> {
    pub shared: &'a Shared,
    pub def: &'static EntityDef,
    pub params: Vec<(String, String)>,
    pub prefer: Prefer,
    pub headers: &'a HeaderMap,
}

/// Where a tracked read stands: the version range and the last row sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct TrackPos {
    pub after: u64,
    pub upto: u64,
    pub epoch: u64,
    pub delta: bool,
    pub in_deletes: bool,
    pub last_version: u64,
    pub last_id: String,
}

/// The state behind a `$skiptoken`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub(crate) struct Cookie {
    pub page: u32,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub track: Option<TrackPos>,
}

impl Cookie {
    /// The URL-encoded `$skiptoken` value, shaped like Dataverse's paging cookie.
    pub fn encode(&self) -> String {
        let state = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let xml = format!(
            "<cookie pagenumber=\"{}\" pagingcookie=\"{}\" istracking=\"{}\" />",
            self.page,
            state,
            if self.track.is_some() {
                "True"
            } else {
                "False"
            }
        );
        urlencoding::encode(&xml).into_owned()
    }

    pub fn decode(text: &str) -> Option<Cookie> {
        let start = text.find("pagingcookie=\"")? + "pagingcookie=\"".len();
        let end = start + text[start..].find('"')?;
        let bytes = URL_SAFE_NO_PAD.decode(&text[start..end]).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// Parsed query options.
#[derive(Debug, Default)]
pub(crate) struct Opts {
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
    pub orderby: Vec<(String, bool)>,
    pub top: Option<usize>,
    pub cookie: Option<Cookie>,
    pub deltatoken: Option<String>,
    pub rejected_with_tracking: Option<&'static str>,
    pub expand: bool,
}

fn no_property(def: &EntityDef, name: &str) -> DvError {
    DvError::bad_query(format!(
        "Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{}'.",
        def.logical
    ))
}

impl Opts {
    pub fn parse(def: &EntityDef, params: &[(String, String)]) -> Result<Opts, DvError> {
        let known = |n: &str| def.read_names().any(|c| c == n);
        let mut o = Opts::default();
        for (k, v) in params {
            match k.as_str() {
                "$select" => {
                    let names: Vec<String> = v
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect();
                    if let Some(bad) = names.iter().find(|n| !known(n)) {
                        return Err(no_property(def, bad));
                    }
                    o.select = Some(names);
                }
                "$filter" => {
                    let f = filter::parse(v).map_err(|e| DvError::bad_query(e.to_string()))?;
                    if let Some(bad) = f.fields().iter().find(|n| !known(n)) {
                        return Err(no_property(def, bad));
                    }
                    o.filter = Some(f);
                    o.rejected_with_tracking.get_or_insert("filter");
                }
                "$orderby" => {
                    for part in v.split(',') {
                        let mut words = part.split_whitespace();
                        let Some(name) = words.next() else { continue };
                        if !known(name) {
                            return Err(no_property(def, name));
                        }
                        let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
                            None | Some("asc") => false,
                            Some("desc") => true,
                            Some(other) => {
                                return Err(DvError::bad_query(format!(
                                    "Syntax error: character '{other}' is not valid in $orderby '{v}'."
                                )));
                            }
                        };
                        o.orderby.push((name.to_string(), desc));
                    }
                    o.rejected_with_tracking.get_or_insert("orderby");
                }
                "$top" => {
                    let n = v.parse::<usize>().map_err(|_| {
                        DvError::bad_query(format!("Invalid value '{v}' for $top query option found. The $top query option requires a non-negative integer value."))
                    })?;
                    o.top = Some(n);
                    o.rejected_with_tracking.get_or_insert("top");
                }
                "$expand" => {
                    o.expand = true;
                    o.rejected_with_tracking.get_or_insert("expand");
                }
                "$skiptoken" => {
                    o.cookie = Some(Cookie::decode(v).ok_or_else(|| {
                        DvError::new(
                            StatusCode::BAD_REQUEST,
                            "0x80040203",
                            format!("The $skiptoken '{v}' is not a valid paging cookie."),
                        )
                    })?);
                }
                "$deltatoken" => o.deltatoken = Some(v.clone()),
                "$count" => {}
                "$skip" => {
                    return Err(DvError::bad_query(
                        "The query parameter $skip is not supported",
                    ));
                }
                other if other.starts_with('$') => {
                    return Err(DvError::bad_query(format!(
                        "The query parameter {other} is not supported"
                    )));
                }
                _ => {}
            }
        }
        Ok(o)
    }

    /// `accounts` or `accounts(name,telephone1)` for `@odata.context`.
    pub fn context_set(&self, def: &EntityDef) -> String {
        match &self.select {
            Some(s) => format!("{}({})", def.set, s.join(",")),
            None => def.set.to_string(),
        }
    }
}

/// A URL for the same entity set and options, with `extra` appended (`$skiptoken=...`).
pub(crate) fn link(req: &Req<'_>, keep: &[&str], extra: &str) -> String {
    let mut parts: Vec<String> = req
        .params
        .iter()
        .filter(|(k, _)| keep.contains(&k.as_str()))
        .map(|(k, v)| format!("{}={}", k, urlencoding::encode(v)))
        .collect();
    parts.push(extra.to_string());
    format!(
        "{}{}?{}",
        req.shared.dv_api_base(),
        req.def.set,
        parts.join("&")
    )
}

/// Renders a collection page.
pub(crate) fn page_response(
    req: &Req<'_>,
    context: String,
    value: Vec<Value>,
    next: Option<String>,
    delta: Option<String>,
    applied: Vec<String>,
) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), Value::String(context));
    body.insert("value".into(), Value::Array(value));
    if let Some(n) = next {
        body.insert("@odata.nextLink".into(), Value::String(n));
    }
    if let Some(d) = delta {
        body.insert("@odata.deltaLink".into(), Value::String(d));
    }
    if req.shared.dv.faults.take_malformed() {
        let text = Value::Object(body).to_string();
        let cut = text.len() / 2;
        let mut r = raw_json(
            StatusCode::OK,
            format!("{}\u{0}{{\"value\":[", text.get(..cut).unwrap_or("{")),
        );
        set_header(&mut r, "preference-applied", &applied.join(","));
        return r;
    }
    let mut r = json_response(StatusCode::OK, &Value::Object(body));
    let mut applied = applied;
    if let Some(a) = &req.prefer.annotations {
        applied.push(format!("odata.include-annotations=\"{a}\""));
    }
    if !applied.is_empty() {
        set_header(&mut r, "preference-applied", &applied.join(","));
    }
    r
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Sorts rows by `$orderby` then by id.
pub(crate) fn sort_rows(rows: &mut [(&str, &Fields)], orderby: &[(String, bool)]) {
    rows.sort_by(|a, b| {
        for (name, desc) in orderby {
            let o = cmp_values(
                a.1.get(name).unwrap_or(&Value::Null),
                b.1.get(name).unwrap_or(&Value::Null),
            );
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.0.cmp(b.0)
    });
}

/// GET of a collection without change tracking.
pub(crate) fn list(req: &Req<'_>, opts: &Opts) -> Result<Response, DvError> {
    if opts.expand {
        return Err(DvError::bad_query(
            "$expand is not supported by the Couplet sandbox.",
        ));
    }
    let annotations = Annotations::of(&req.prefer);
    let store = req.shared.dv.store.lock();
    let Some(table) = store.table(req.def.set) else {
        return Ok(page_response(
            req,
            String::new(),
            vec![],
            None,
            None,
            vec![],
        ));
    };
    let live = table.live();
    let mut rows: Vec<(&str, &Fields)> = live
        .iter()
        .filter(|(_, r)| opts.filter.as_ref().is_none_or(|f| f.matches(&r.fields)))
        .map(|(id, r)| (*id, &r.fields))
        .collect();
    sort_rows(&mut rows, &opts.orderby);
    let mut applied = Vec::new();
    let size = match (req.prefer.maxpagesize, opts.top) {
        (Some(n), _) => {
            let n = n.clamp(1, MAX_PAGE);
            applied.push(format!("odata.maxpagesize={n}"));
            n
        }
        (None, Some(top)) => {
            rows.truncate(top.min(MAX_PAGE));
            MAX_PAGE
        }
        (None, None) => MAX_PAGE,
    };
    let cookie = opts.cookie.clone().unwrap_or_default();
    let start = cookie.offset.min(rows.len());
    let end = (start + size).min(rows.len());
    let value: Vec<Value> = rows[start..end]
        .iter()
        .filter_map(|(id, _)| table.get(id))
        .map(|r| Value::Object(shape(req.def, r, opts.select.as_deref(), &annotations)))
        .collect();
    let next = (end < rows.len()).then(|| {
        let c = Cookie {
            page: cookie.page.max(1) + 1,
            offset: end,
            track: None,
        };
        link(
            req,
            &["$select", "$filter", "$orderby"],
            &format!("$skiptoken={}", c.encode()),
        )
    });
    let context = format!(
        "{}$metadata#{}",
        req.shared.dv_api_base(),
        opts.context_set(req.def)
    );
    drop(store);
    Ok(page_response(req, context, value, next, None, applied))
}

/// GET of one row by id, with `If-None-Match` → 304.
pub(crate) fn get_one(req: &Req<'_>, opts: &Opts, id: &str) -> Result<Response, DvError> {
    let annotations = Annotations::of(&req.prefer);
    let store = req.shared.dv.store.lock();
    let row = store
        .table(req.def.set)
        .and_then(|t| t.get(id))
        .ok_or_else(|| DvError::not_found(req.def, id))?;
    if header(req.headers, "if-none-match") == Some(etag(row.version).as_str())
        && !annotations.any()
    {
        return Ok(crate::sandbox::http::empty(StatusCode::NOT_MODIFIED));
    }
    let mut body = Fields::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}$metadata#{}/$entity",
            req.shared.dv_api_base(),
            opts.context_set(req.def)
        )),
    );
    body.extend(shape(req.def, row, opts.select.as_deref(), &annotations));
    Ok(json_response(StatusCode::OK, &Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_round_trips_through_url_encoding() {
        let c = Cookie {
            page: 3,
            offset: 10,
            track: Some(TrackPos {
                after: 1,
                upto: 9,
                epoch: 0,
                delta: true,
                in_deletes: false,
                last_version: 4,
                last_id: "x".into(),
            }),
        };
        let enc = c.encode();
        assert!(!enc.contains('<') && !enc.contains(' '));
        let dec = crate::sandbox::http::decode(&enc);
        assert!(dec.starts_with("<cookie pagenumber=\"3\""));
        assert_eq!(Cookie::decode(&dec), Some(c));
        assert_eq!(Cookie::decode("garbage"), None);
    }

    #[test]
    fn options_are_validated() {
        let def = &super::super::schema::ACCOUNT;
        let p = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert!(Opts::parse(def, &p("$skip", "1")).is_err());
        assert!(
            Opts::parse(def, &p("$select", "name,bogus"))
                .unwrap_err()
                .message
                .contains("'bogus'")
        );
        assert!(Opts::parse(def, &p("$filter", "bogus eq 1")).is_err());
        assert!(
            Opts::parse(def, &p("$filter", "name eq xx"))
                .unwrap_err()
                .message
                .contains("column 9")
        );
        let o = Opts::parse(def, &p("$orderby", "name desc,accountnumber")).unwrap();
        assert_eq!(
            o.orderby,
            vec![
                ("name".to_string(), true),
                ("accountnumber".to_string(), false)
            ]
        );
        assert_eq!(o.rejected_with_tracking, Some("orderby"));
    }
}
