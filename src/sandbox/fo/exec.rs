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
