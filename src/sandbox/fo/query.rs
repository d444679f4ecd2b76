//! F&O reads: a collection with `$filter`, `$select`, `$orderby`, `$top`, `$skip`, `$count`,
//! `$expand` (first level) and server-driven paging (at most 10,000 rows a page, the next page by `@odata.nextLink`),
//! and one entity by its key. Without `cross-company=true` only the default company's rows are
//! visible, key-addressed reads included (`data-entities/odata.md`, "Cross-company behavior";
//! `external-apis.md` §3.1).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::reply::Reply;
use super::schema::EntityDef;
use super::{DEFAULT_COMPANY, FoError, MAX_PAGE, etag, expand, filter, shape};
use crate::event::Fields;
use crate::odata::filter::Filter;
use crate::sandbox::dataverse::query::sort_rows;
use crate::sandbox::table::{Row, Store};

/// The query options of a read.
#[derive(Debug, Default)]
pub(crate) struct Opts {
    pub select: Option<Vec<String>>,
    filter: Option<Filter>,
    orderby: Vec<(String, bool)>,
    top: Option<usize>,
    skip: usize,
    count: bool,
    expand: Vec<expand::Expand>,
    /// `cross-company=true`.
    pub cross_company: bool,
}

/// True when `cross-company=true` is among the parameters.
pub(crate) fn cross_company(params: &[(String, String)]) -> bool {
    params
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("cross-company") && v.eq_ignore_ascii_case("true"))
}

fn no_property(def: &EntityDef, name: &str) -> FoError {
    FoError::bad_request(format!(
        "Could not find a property named '{name}' on type '{}.{}'.",
        super::schema::ENUM_NAMESPACE,
        def.type_name
    ))
}

impl Opts {
    pub fn parse(def: &EntityDef, params: &[(String, String)]) -> Result<Opts, FoError> {
        let mut o = Opts {
            cross_company: cross_company(params),
            ..Default::default()
        };
        let number = |k: &str, v: &str| {
            v.parse::<usize>().map_err(|_| {
                FoError::bad_request(format!("Invalid value '{v}' for {k} query option found."))
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
                    if let Some(bad) = names.iter().find(|n| def.column(n).is_none()) {
                        return Err(no_property(def, bad));
                    }
                    o.select = Some(names);
                }
                "$filter" => o.filter = Some(filter::parse(def, v)?),
                "$orderby" => {
                    for part in v.split(',') {
                        let mut words = part.split_whitespace();
                        let Some(name) = words.next() else { continue };
                        if def.column(name).is_none() {
                            return Err(no_property(def, name));
                        }
                        let desc = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
                        o.orderby.push((name.to_string(), desc));
                    }
                }
                "$top" => o.top = Some(number(k, v)?),
                "$skip" => o.skip = number(k, v)?,
                "$count" => o.count = v.eq_ignore_ascii_case("true"),
                "$expand" => o.expand = expand::parse(def, v)?,
                "$format" => {}
                other if other.starts_with('$') => {
                    return Err(FoError::bad_request(format!(
                        "The query parameter '{other}' is not supported."
                    )));
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

/// True when the caller may see a row: one of the default company, any row cross-company,
/// and always a row of a shared entity (no `dataAreaId`: every company sees it).
pub(crate) fn visible(fields: &Fields, cross_company: bool) -> bool {
    cross_company
        || match fields.get("dataAreaId") {
            None => true,
            Some(c) => c
                .as_str()
                .is_some_and(|c| c.eq_ignore_ascii_case(DEFAULT_COMPANY)),
        }
}

/// `{base}$metadata#Set` (with the selected columns when `$select` was given).
fn context(base: &str, def: &EntityDef, select: Option<&[String]>) -> String {
    match select {
        Some(s) => format!("{base}$metadata#{}({})", def.set, s.join(",")),
        None => format!("{base}$metadata#{}", def.set),
    }
}

/// GET of a collection; `base` is the service root (`…/data/`).
pub(crate) fn list(
    base: &str,
    def: &EntityDef,
    store: &Store,
    params: &[(String, String)],
    page_size: usize,
) -> Result<Reply, FoError> {
    let opts = Opts::parse(def, params)?;
    let live = store.table(def.set).map(|t| t.live()).unwrap_or_default();
    let mut rows: Vec<(&str, &Fields)> = live
        .iter()
        .filter(|(_, r)| visible(&r.fields, opts.cross_company))
        .filter(|(_, r)| opts.filter.as_ref().is_none_or(|f| f.matches(&r.fields)))
        .map(|(id, r)| (*id, &r.fields))
        .collect();
    sort_rows(&mut rows, &opts.orderby);
    let by_id: std::collections::HashMap<&str, &Row> = live.iter().copied().collect();
    let total = rows.len();
    let start = opts.skip.min(total);
    let end = opts.top.map_or(total, |t| (start + t).min(total));
    let stop = (start + page_size.clamp(1, MAX_PAGE)).min(end);
    let value: Vec<Value> = rows[start..stop]
        .iter()
        .filter_map(|(id, _)| {
            by_id.get(id).map(|r| {
                let mut f = shape(def, r, opts.select.as_deref());
                expand::apply(&opts.expand, store, &r.fields, &mut f);
                Value::Object(f)
            })
        })
        .collect();
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        json!(context(base, def, opts.select.as_deref())),
    );
    if opts.count {
        body.insert("@odata.count".into(), json!(total));
    }
    body.insert("value".into(), Value::Array(value));
    if stop < end {
        let mut parts: Vec<String> = params
            .iter()
            .filter(|(k, _)| k != "$skip" && k != "$top")
            .map(|(k, v)| format!("{k}={}", urlencoding::encode(v)))
            .collect();
        if opts.top.is_some() {
            parts.push(format!("$top={}", end - stop));
        }
        parts.push(format!("$skip={stop}"));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{base}{}?{}", def.set, parts.join("&"))),
        );
    }
    Ok(Reply::json(StatusCode::OK, Value::Object(body)))
}

/// `GET Set/$count`: the number of rows the filter leaves, as plain text.
pub(crate) fn count(
    def: &EntityDef,
    store: &Store,
    params: &[(String, String)],
) -> Result<Reply, FoError> {
    let opts = Opts::parse(def, params)?;
    let n = store
        .table(def.set)
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| visible(&r.fields, opts.cross_company))
                .filter(|(_, r)| opts.filter.as_ref().is_none_or(|f| f.matches(&r.fields)))
                .count()
        })
        .unwrap_or_default();
    Ok(Reply::text(StatusCode::OK, n.to_string()))
}

/// GET of one entity by its store id; `segment` names it in a 404.
pub(crate) fn get(
    base: &str,
    def: &EntityDef,
    store: &Store,
    id: &str,
    segment: &str,
    params: &[(String, String)],
) -> Result<Reply, FoError> {
    let opts = Opts::parse(def, params)?;
    let row = store
        .table(def.set)
        .and_then(|t| t.get(id))
        .filter(|r| visible(&r.fields, opts.cross_company))
        .ok_or_else(|| FoError::not_found(segment))?;
    let mut r = entity_reply(base, def, row, opts.select.as_deref(), StatusCode::OK);
    if let Some(Value::Object(body)) = &mut r.body {
        expand::apply(&opts.expand, store, &row.fields, body);
    }
    Ok(r)
}

/// One entity as a response body, with its ETag.
pub(crate) fn entity_reply(
    base: &str,
    def: &EntityDef,
    row: &Row,
    select: Option<&[String]>,
    status: StatusCode,
) -> Reply {
    let mut body = Fields::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/$entity", context(base, def, select))),
    );
    body.extend(shape(def, row, select));
    let mut r = Reply::json(status, Value::Object(body));
    r.etag = Some(etag(row));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::fo::render::put;
    use crate::sandbox::fo::schema::CUSTOMERS;
    use crate::sandbox::fo::state::Data;

    fn data() -> Data {
        let mut d = Data::default();
        for (company, account, name) in [
            ("usmf", "C1", "Contoso Retail"),
            ("usmf", "C2", "Fabrikam"),
            ("usmf", "C3", "Retail House"),
            ("usrt", "C1", "Contoso Retail"),
        ] {
            put(
                &mut d,
                &CUSTOMERS,
                json!({"dataAreaId": company, "CustomerAccount": account, "OrganizationName": name}),
            );
        }
        d
    }

    fn params(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn accounts(r: &Reply) -> Vec<String> {
        let body = r.body.as_ref().unwrap();
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                format!(
                    "{}/{}",
                    v["dataAreaId"].as_str().unwrap(),
                    v["CustomerAccount"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn default_company_cross_company_and_paging() {
        let d = data();
        let base = "http://fo/data/";
        let r = list(base, &CUSTOMERS, &d.store, &[], 10).unwrap();
        assert_eq!(accounts(&r), ["usmf/C1", "usmf/C2", "usmf/C3"]);
        let all = params(&[("cross-company", "true")]);
        assert_eq!(
            accounts(&list(base, &CUSTOMERS, &d.store, &all, 10).unwrap()).len(),
            4
        );
        let like = params(&[
            ("$filter", "OrganizationName eq '*retail*'"),
            ("$count", "true"),
        ]);
        let r = list(base, &CUSTOMERS, &d.store, &like, 1).unwrap();
        let body = r.body.clone().unwrap();
        assert_eq!(accounts(&r), ["usmf/C1"]);
        assert_eq!(body["@odata.count"], 2);
        let next = body["@odata.nextLink"].as_str().unwrap();
        assert!(
            next.starts_with("http://fo/data/CustomersV3?") && next.ends_with("$skip=1"),
            "{next}"
        );
        let sel = params(&[("$select", "CustomerAccount"), ("$top", "1")]);
        let r = list(base, &CUSTOMERS, &d.store, &sel, 10).unwrap();
        let body = r.body.unwrap();
        assert_eq!(body["value"].as_array().unwrap().len(), 1);
        assert!(body["value"][0].get("OrganizationName").is_none());
        assert!(body.get("@odata.nextLink").is_none());
        assert!(
            list(
                base,
                &CUSTOMERS,
                &d.store,
                &params(&[("$expand", "Contacts")]),
                10
            )
            .is_err()
        );
        let n = count(&CUSTOMERS, &d.store, &like).unwrap();
        assert_eq!(n.text.as_deref(), Some("2"));
        assert_eq!(
            count(&CUSTOMERS, &d.store, &all).unwrap().text.as_deref(),
            Some("4")
        );
    }

    #[test]
    fn key_reads_see_the_default_company_only() {
        let d = data();
        let base = "http://fo/data/";
        assert!(get(base, &CUSTOMERS, &d.store, "usmf|c1", "x", &[]).is_ok());
        let e = get(base, &CUSTOMERS, &d.store, "usrt|c1", "x", &[]).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        let all = params(&[("cross-company", "true")]);
        let r = get(base, &CUSTOMERS, &d.store, "usrt|c1", "x", &all).unwrap();
        assert!(r.etag.is_some());
    }
}
