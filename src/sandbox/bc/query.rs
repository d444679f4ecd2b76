//! Business Central reads: `$filter`, `$orderby`, `$top`, `$skip`, `$select` and server paging
//! (`Prefer: odata.maxpagesize`, max 20,000) with `@odata.nextLink`.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::schema::EntityDef;
use super::{BcError, shape};
use crate::event::Fields;
use crate::odata::filter::{self, Filter};
use crate::sandbox::dataverse::query::sort_rows;
use crate::sandbox::http::{Prefer, json as json_response, raw_json, set_header};
use crate::sandbox::shared::Shared;

/// Maximum page size.
pub(crate) const MAX_PAGE: usize = 20_000;

#[derive(Debug, Default)]
pub(crate) struct Opts {
    pub select: Option<Vec<String>>,
    filter: Option<Filter>,
    orderby: Vec<(String, bool)>,
    top: Option<usize>,
    skip: usize,
    /// (offset, end) of a continuing page.
    token: Option<(usize, usize)>,
}

fn no_property(def: &EntityDef, name: &str) -> BcError {
    BcError::bad_request(format!(
        "Could not find a property named '{name}' on type 'Microsoft.NAV.{}'.",
        def.type_name
    ))
}

impl Opts {
    pub fn parse(def: &EntityDef, params: &[(String, String)]) -> Result<Opts, BcError> {
        let known = |n: &str| def.column(n).is_some();
        let mut o = Opts::default();
        let number = |k: &str, v: &str| {
            v.parse::<usize>().map_err(|_| {
                BcError::bad_request(format!("Invalid value '{v}' for {k} query option found."))
            })
        };
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
                    let f = filter::parse(v).map_err(|e| BcError::bad_request(e.to_string()))?;
                    if let Some(bad) = f.fields().iter().find(|n| !known(n)) {
                        return Err(no_property(def, bad));
                    }
                    o.filter = Some(f);
                }
                "$orderby" => {
                    for part in v.split(',') {
                        let mut words = part.split_whitespace();
                        let Some(name) = words.next() else { continue };
                        if !known(name) {
                            return Err(no_property(def, name));
                        }
                        o.orderby.push((
                            name.to_string(),
                            words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc")),
                        ));
                    }
                }
                "$top" => o.top = Some(number(k, v)?),
                "$skip" => o.skip = number(k, v)?,
                "$skiptoken" => {
                    let bad =
                        || BcError::bad_request(format!("The skip token '{v}' is not valid."));
                    let bytes = URL_SAFE_NO_PAD.decode(v).map_err(|_| bad())?;
                    o.token = Some(serde_json::from_slice(&bytes).map_err(|_| bad())?);
                }
                "$count" | "$expand" | "company" | "aid" => {}
                other if other.starts_with('$') => {
                    return Err(BcError::bad_request(format!(
                        "The query parameter '{other}' is not supported."
                    )));
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// GET of a collection under the company.
pub(crate) fn list(
    shared: &Shared,
    def: &EntityDef,
    params: &[(String, String)],
    prefer: &Prefer,
) -> Result<Response, BcError> {
    let opts = Opts::parse(def, params)?;
    let store = shared.bc.store.lock();
    let live = store.table(def.set).map(|t| t.live()).unwrap_or_default();
    let mut rows: Vec<(&str, &Fields)> = live
        .iter()
        .filter(|(_, r)| opts.filter.as_ref().is_none_or(|f| f.matches(&r.fields)))
        .map(|(id, r)| (*id, &r.fields))
        .collect();
    sort_rows(&mut rows, &opts.orderby);
    let by_id: std::collections::HashMap<&str, &crate::sandbox::table::Row> =
        live.iter().copied().collect();
    let size = prefer
        .maxpagesize
        .map(|n| n.clamp(1, MAX_PAGE))
        .unwrap_or(MAX_PAGE);
    let (start, end) = opts.token.unwrap_or_else(|| {
        let start = opts.skip.min(rows.len());
        let end = opts
            .top
            .map(|t| (start + t).min(rows.len()))
            .unwrap_or(rows.len());
        (start, end)
    });
    let end = end.min(rows.len());
    let start = start.min(end);
    let stop = (start + size).min(end);
    let value: Vec<Value> = rows[start..stop]
        .iter()
        .filter_map(|(id, _)| {
            by_id
                .get(id)
                .map(|r| Value::Object(shape(def, id, r, opts.select.as_deref())))
        })
        .collect();
    let base = format!(
        "{}companies({})/{}",
        shared.bc_api_url, shared.bc_company_id, def.set
    );
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}$metadata#companies({})/{}",
            shared.bc_api_url, shared.bc_company_id, def.set
        )),
    );
    body.insert("value".into(), Value::Array(value));
    if stop < end {
        let token = URL_SAFE_NO_PAD.encode(json!([stop, end]).to_string());
        let mut parts: Vec<String> = params
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "$filter" | "$orderby" | "$select"))
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        parts.push(format!("$skiptoken={token}"));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{base}?{}", parts.join("&"))),
        );
    }
    drop(store);
    let mut r = if shared.bc.faults.take_malformed() {
        let text = Value::Object(body).to_string();
        raw_json(
            StatusCode::OK,
            format!(
                "{}<!-- truncated",
                text.get(..text.len() / 2).unwrap_or("{")
            ),
        )
    } else {
        json_response(StatusCode::OK, &Value::Object(body))
    };
    if let Some(n) = prefer.maxpagesize {
        set_header(
            &mut r,
            "preference-applied",
            &format!("odata.maxpagesize={}", n.clamp(1, MAX_PAGE)),
        );
    }
    Ok(r)
}
