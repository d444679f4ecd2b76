//! One request against the F&O tables, alone or inside a `$batch` changeset: the entity set
//! and key from the path, then the read or write, and the business events a write raises.

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::events::note_for;
use super::reply::Reply;
use super::schema::{ENTITIES, EntityDef};
use super::state::Data;
use super::{FoError, keys, query, write};
use crate::event::Fields;

/// What every request of a call shares.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    /// The service root, `http://host:port/data/`.
    pub base: &'a str,
    pub page_size: usize,
    pub now: DateTime<Utc>,
}

/// One request, its path relative to the service root.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    pub params: Vec<(String, String)>,
    pub if_match: Option<&'a str>,
    pub body: &'a [u8],
}

/// The service document: the entity sets.
fn service_document(ctx: &Ctx<'_>) -> Reply {
    let sets: Vec<Value> = ENTITIES
        .iter()
        .map(|d| json!({"name": d.set, "kind": "EntitySet", "url": d.set}))
        .collect();
    Reply::json(
        StatusCode::OK,
        json!({"@odata.context": format!("{}$metadata", ctx.base), "value": sets}),
    )
}

fn no_resource(ctx: &Ctx<'_>, path: &str) -> FoError {
    let m = format!(
        "No HTTP resource was found that matches the request URI '{}{path}'.",
        ctx.base
    );
    FoError {
        status: StatusCode::NOT_FOUND,
        message: m.clone(),
        inner: m,
        kind: super::QUERY_EXCEPTION,
    }
}

fn not_allowed(method: &Method, def: &EntityDef) -> FoError {
    let m = format!(
        "The requested resource does not support http method '{method}' on '{}'.",
        def.set
    );
    FoError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: m.clone(),
        inner: m,
        kind: super::QUERY_EXCEPTION,
    }
}

fn parse_body(body: &[u8]) -> Result<Fields, FoError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(FoError {
            status: StatusCode::BAD_REQUEST,
            message: "The request body must be a JSON object of the entity's properties.".into(),
            inner: "The request body must be a JSON object of the entity's properties.".into(),
            kind: super::QUERY_EXCEPTION,
        }),
    }
}

fn row_fields(data: &Data, def: &EntityDef, id: &str) -> Option<Fields> {
    data.store
        .table(def.set)
        .and_then(|t| t.get(id))
        .map(|r| r.fields.clone())
}

/// Runs one request.
pub(crate) fn exec(ctx: &Ctx<'_>, data: &mut Data, req: &Request<'_>) -> Result<Reply, FoError> {
    let path = req.path.trim_end_matches('/');
    if path.is_empty() && req.method == Method::GET {
        return Ok(service_document(ctx));
    }
    if let Some(set) = path.strip_suffix("/$count")
        && let Some(def) = super::schema::entity(set)
    {
        return match req.method {
            Method::GET => query::count(def, &data.store, &req.params),
            ref m => Err(not_allowed(m, def)),
        };
    }
    let (set, predicate) = keys::split_segment(path)?;
    let def = super::schema::entity(set).ok_or_else(|| no_resource(ctx, path))?;
    let cross = query::cross_company(&req.params);
    let Some(predicate) = predicate else {
        return match req.method {
            Method::GET => query::list(ctx.base, def, &data.store, &req.params, ctx.page_size),
            Method::POST => {
                let body = parse_body(req.body)?;
                let id = write::create(data, def, &body, cross, ctx.now)?;
                let row = data
                    .store
                    .table(def.set)
                    .and_then(|t| t.get(&id))
                    .ok_or_else(|| FoError::not_found(def.set))?;
                let mut r = query::entity_reply(ctx.base, def, row, None, StatusCode::CREATED);
                r.location = Some(format!(
                    "{}{}({})",
                    ctx.base,
                    def.set,
                    keys::predicate(def, &row.fields)
                ));
                r.notes.extend(note_for(def, &row.fields, "Created"));
                Ok(r)
            }
            ref m => Err(not_allowed(m, def)),
        };
    };
    let id = keys::row_id_of(&keys::parse(def, predicate)?);
    let visible = row_fields(data, def, &id).is_some_and(|f| query::visible(&f, cross));
    if !visible {
        return Err(FoError::not_found(path));
    }
    match req.method {
        Method::GET => query::get(ctx.base, def, &data.store, &id, path, &req.params),
        Method::PATCH | Method::PUT => {
            let body = parse_body(req.body)?;
            if req.method == Method::PUT {
                write::replace(data, def, &id, &body, req.if_match, ctx.now)?;
            } else {
                write::update(data, def, &id, &body, req.if_match, ctx.now)?;
            }
            let mut r = Reply::empty(StatusCode::NO_CONTENT);
            if let Some(f) = row_fields(data, def, &id) {
                r.notes.extend(note_for(def, &f, "Updated"));
            }
            Ok(r)
        }
        Method::DELETE => {
            let row = write::delete(data, def, &id, req.if_match)?;
            let mut r = Reply::empty(StatusCode::NO_CONTENT);
            r.notes.extend(note_for(def, &row.fields, "Deleted"));
            Ok(r)
        }
        ref m => Err(not_allowed(m, def)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::fo::render::put;
    use crate::sandbox::fo::schema::{CUSTOMERS, RELEASED_PRODUCTS};

    fn data() -> Data {
        let mut d = Data::default();
        for company in ["usmf", "usrt"] {
            put(
                &mut d,
                &CUSTOMERS,
                json!({"dataAreaId": company, "CustomerAccount": "C1", "SalesCurrencyCode": "USD", "CustomerGroupId": "10"}),
            );
            put(
                &mut d,
                &RELEASED_PRODUCTS,
                json!({"dataAreaId": company, "ItemNumber": "I1", "ProductName": "Widget", "SalesPrice": 2.0}),
            );
        }
        d
    }

    fn run(
        d: &mut Data,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Value,
    ) -> Result<Reply, FoError> {
        let ctx = Ctx {
            base: "http://fo/data/",
            page_size: 100,
            now: Utc::now(),
        };
        let body = body.to_string();
        let req = Request {
            method,
            path,
            params: query
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            if_match: None,
            body: body.as_bytes(),
        };
        exec(&ctx, d, &req)
    }

    #[test]
    fn routes_reads_writes_and_their_events() {
        let mut d = data();
        let doc = run(&mut d, Method::GET, "", &[], Value::Null).unwrap();
        assert_eq!(
            doc.body.unwrap()["value"].as_array().map(Vec::len),
            Some(ENTITIES.len())
        );
        assert_eq!(
            run(&mut d, Method::GET, "Nothings", &[], Value::Null)
                .unwrap_err()
                .status,
            StatusCode::NOT_FOUND
        );
        let n = run(
            &mut d,
            Method::GET,
            "CustomersV3/$count",
            &[("cross-company", "true")],
            Value::Null,
        )
        .unwrap();
        assert_eq!(n.text.as_deref(), Some("2"));
        let usrt = "CustomersV3(dataAreaId='usrt',CustomerAccount='C1')";
        let patch = json!({"AddressCity": "Seattle"});
        let e = run(&mut d, Method::PATCH, usrt, &[], patch.clone()).unwrap_err();
        assert_eq!(
            e.status,
            StatusCode::NOT_FOUND,
            "usrt is not the current company"
        );
        let r = run(
            &mut d,
            Method::PATCH,
            usrt,
            &[("cross-company", "true")],
            patch,
        )
        .unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.notes[0].event, "CustomerChangedBusinessEvent");
        assert_eq!(r.notes[0].company, "usrt");
        let order = json!({"dataAreaId": "usmf", "OrderingCustomerAccountNumber": "C1"});
        let r = run(&mut d, Method::POST, "SalesOrderHeadersV2", &[], order).unwrap();
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(
            r.location.as_deref(),
            Some("http://fo/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='000001')")
        );
        assert_eq!(r.notes[0].fields["ChangeType"], "Created");
        let line = json!({"dataAreaId": "usmf", "SalesOrderNumber": "000001", "ItemNumber": "I1"});
        let r = run(&mut d, Method::POST, "SalesOrderLines", &[], line).unwrap();
        assert_eq!(r.notes[0].event, "SalesOrderChangedBusinessEvent");
        assert_eq!(r.notes[0].fields["ChangeType"], "Updated");
        let price = json!({"dataAreaId": "usmf", "ItemNumber": "I1", "Price": 1.5});
        let r = run(&mut d, Method::POST, "SalesPriceAgreements", &[], price).unwrap();
        assert!(r.notes.is_empty(), "price agreements raise no event");
        let put = json!({"ItemNumber": "I1", "ProductName": "Renamed"});
        let r = run(
            &mut d,
            Method::PUT,
            "ReleasedProductsV2(dataAreaId='usmf',ItemNumber='I1')",
            &[],
            put,
        )
        .unwrap();
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        let got = run(
            &mut d,
            Method::GET,
            "ReleasedProductsV2(dataAreaId='usmf',ItemNumber='I1')",
            &[],
            Value::Null,
        )
        .unwrap();
        let body = got.body.unwrap();
        assert_eq!(
            (body["ProductName"].clone(), body["SalesPrice"].clone()),
            (json!("Renamed"), json!(0.0))
        );
        let e = run(&mut d, Method::POST, "CustomersV3", &[], json!([1])).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = run(&mut d, Method::DELETE, "CustomersV3", &[], Value::Null).unwrap_err();
        assert_eq!(e.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
