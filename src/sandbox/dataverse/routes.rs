//! The Dataverse HTTP surface: auth, injected faults, service protection, routing, and the
//! write handlers (POST, PATCH upsert with `If-Match`/`If-None-Match`, DELETE).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::query::{self, Opts, Req};
use super::schema::{self, EntityDef};
use super::write::{self, Stamp};
use super::{DvError, delta, etag, shape};
use crate::event::Fields;
use crate::sandbox::faults::Injected;
use crate::sandbox::http::{
    Prefer, decode, empty, header, is_guid, json as json_response, parse_query, set_header,
    split_key,
};
use crate::sandbox::shared::Shared;
use crate::sandbox::throttle::Exceeded;
use crate::sandbox::{auth, http};

const PREFIX: &str = "/api/data/v9.2/";

/// The Dataverse router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn throttled(
    shared: &Shared,
    code: &'static str,
    message: String,
    retry_after: std::time::Duration,
) -> Response {
    shared.dv.faults.count_throttled();
    let mut r = DvError::new(StatusCode::TOO_MANY_REQUESTS, code, message).response();
    set_header(
        &mut r,
        "retry-after",
        &retry_after.as_secs().max(1).to_string(),
    );
    r
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = &*shared;
    shared.dv.faults.count_request();
    tracing::debug!(%method, %uri, "dataverse: request");
    let info = match auth::check(shared, &headers, &shared.dv_resource()) {
        Ok(i) => i,
        Err(why) => {
            tracing::debug!(%why, "dataverse: 401");
            let mut r = empty(StatusCode::UNAUTHORIZED);
            let challenge = format!(
                "Bearer authorization_uri={}{}/oauth2/authorize, resource_id={}",
                shared.entra_authority,
                shared.creds.tenant_id,
                shared.dv_resource()
            );
            set_header(&mut r, "www-authenticate", &challenge);
            return r;
        }
    };
    match shared.dv.faults.take_request_fault() {
        Some(Injected::Throttle(after)) => {
            return throttled(
                shared,
                "0x80072322",
                "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
                    .into(),
                after,
            );
        }
        Some(Injected::Unavailable) => {
            return DvError::new(StatusCode::SERVICE_UNAVAILABLE, "", "Service Unavailable")
                .response();
        }
        None => {}
    }
    let _permit = match shared.dv.limiter.admit(&info.appid) {
        Ok(p) => p,
        Err(Exceeded::Requests {
            limit,
            window,
            retry_after,
        }) => {
            let msg = format!(
                "Number of requests exceeded the limit of {limit} over time window of {} seconds.",
                window.as_secs()
            );
            return throttled(shared, "0x80072322", msg, retry_after);
        }
        Err(Exceeded::Concurrency { limit, retry_after }) => {
            let msg = format!("Number of concurrent requests exceeded the limit of {limit}.");
            return throttled(shared, "0x80072326", msg, retry_after);
        }
    };
    match route(shared, &method, &uri, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.response(),
    }
}

fn route(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, DvError> {
    let path = decode(uri.path());
    let Some(rest) = path.strip_prefix(PREFIX).map(|r| r.trim_end_matches('/')) else {
        return Err(DvError::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{path}'."),
        ));
    };
    if rest == "WhoAmI" && method == Method::GET {
        return Ok(json_response(
            StatusCode::OK,
            &json!({
                "@odata.context": format!("{}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", shared.dv_api_base()),
                "BusinessUnitId": "5f2a4a8b-1c7e-4e6b-9c1d-2b3a4c5d6e7f",
                "UserId": shared.dv_app_user,
                "OrganizationId": "9b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
            }),
        ));
    }
    if rest.starts_with(super::metadata::ENTITY_DEFINITIONS) && method == Method::GET {
        return super::metadata::get(shared, rest, &parse_query(uri.query()));
    }
    if super::actions::ACTIONS.contains(&rest) {
        let annotations = super::annotations::Annotations::of(&Prefer::from_headers(headers));
        return super::actions::respond(shared, rest, method, body, &annotations);
    }
    let not_found = || {
        DvError::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{rest}'."),
        )
    };
    let (set, key) = split_key(rest).ok_or_else(not_found)?;
    let def = schema::entity(set).ok_or_else(not_found)?;
    if let Some(k) = &key
        && !is_guid(k)
    {
        return Err(DvError::bad_query(format!(
            "Bad Request - Error in query syntax: '{k}' is not a valid key for {}.",
            def.set
        )));
    }
    let req = Req {
        shared,
        def,
        params: parse_query(uri.query()),
        prefer: Prefer::from_headers(headers),
        headers,
    };
    match (method.clone(), key) {
        (Method::GET, None) => {
            let opts = Opts::parse(def, &req.params)?;
            let tracking = req.prefer.track_changes
                || opts.deltatoken.is_some()
                || opts.cookie.as_ref().is_some_and(|c| c.track.is_some());
            if tracking {
                delta::read(&req, &opts)
            } else {
                query::list(&req, &opts)
            }
        }
        (Method::GET, Some(id)) => {
            let opts = Opts::parse(def, &req.params)?;
            query::get_one(&req, &opts, &id)
        }
        (Method::POST, None) => post(&req, body),
        (Method::PATCH, Some(id)) => patch(&req, &id, body),
        (Method::DELETE, Some(id)) => remove(&req, &id),
        (m, _) => Err(DvError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "0x80060888",
            format!("The requested resource does not support http method '{m}'."),
        )),
    }
}

fn parse_body(def: &EntityDef, body: &Bytes) -> Result<Fields, DvError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(DvError::new(
            StatusCode::BAD_REQUEST,
            "0x80048d19",
            format!(
                "Error identified in Payload provided by the user for Entity :'{}': the body must be a JSON object.",
                def.set
            ),
        )),
        Err(e) => Err(DvError::new(
            StatusCode::BAD_REQUEST,
            "0x80048d19",
            format!(
                "Error identified in Payload provided by the user for Entity :'{}': {e}",
                def.set
            ),
        )),
    }
}

fn stamp(req: &Req<'_>) -> Stamp {
    Stamp {
        user: req.shared.dv_app_user.clone(),
        at: Utc::now(),
    }
}

/// 204 + OData-EntityId, or 201/200 with the row under `return=representation`.
fn written(req: &Req<'_>, id: &str, created: bool) -> Result<Response, DvError> {
    req.shared.dv.faults.count_write();
    let entity_id = format!("{}{}({})", req.shared.dv_api_base(), req.def.set, id);
    let mut r = if req.prefer.return_representation {
        let opts = Opts::parse(req.def, &req.params)?;
        let store = req.shared.dv.store.lock();
        let row = store
            .table(req.def.set)
            .and_then(|t| t.get(id))
            .ok_or_else(|| DvError::not_found(req.def, id))?;
        let mut body = Fields::new();
        body.insert(
            "@odata.context".into(),
            json!(format!(
                "{}$metadata#{}/$entity",
                req.shared.dv_api_base(),
                opts.context_set(req.def)
            )),
        );
        body.extend(shape(
            req.def,
            row,
            opts.select.as_deref(),
            &super::annotations::Annotations::of(&req.prefer),
        ));
        let status = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        let mut r = json_response(status, &Value::Object(body));
        set_header(&mut r, "preference-applied", "return=representation");
        r
    } else {
        empty(StatusCode::NO_CONTENT)
    };
    set_header(&mut r, "odata-entityid", &entity_id);
    Ok(r)
}

fn exists_error() -> DvError {
    DvError::new(
        StatusCode::PRECONDITION_FAILED,
        "0x80040237",
        "A record with matching key values already exists.",
    )
}

fn post(req: &Req<'_>, body: &Bytes) -> Result<Response, DvError> {
    let fields = parse_body(req.def, body)?;
    let id = {
        let mut store = req.shared.dv.store.lock();
        let changes = write::validate(&store, req.def, &fields)?;
        let id = write::new_id(req.def, &changes);
        if store.table(req.def.set).and_then(|t| t.get(&id)).is_some() {
            return Err(exists_error());
        }
        super::rules_invoices::check(&store, req.def, None, &changes)?;
        write::create(&mut store, req.def, &id, changes, &stamp(req));
        id
    };
    written(req, &id, true)
}

/// The row's current ETag, or None when it does not exist.
fn current(req: &Req<'_>, id: &str) -> Option<String> {
    req.shared
        .dv
        .store
        .lock()
        .table(req.def.set)
        .and_then(|t| t.get(id))
        .map(|r| etag(r.version))
}

fn check_if_match(req: &Req<'_>, id: &str, current: Option<&str>) -> Result<(), DvError> {
    match header(req.headers, "if-match") {
        None => Ok(()),
        Some(_) if current.is_none() => Err(DvError::not_found(req.def, id)),
        Some("*") => Ok(()),
        Some(tag) if Some(tag) == current => Ok(()),
        Some(_) => Err(DvError::new(
            StatusCode::PRECONDITION_FAILED,
            "0x80060882",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )),
    }
}

fn patch(req: &Req<'_>, id: &str, body: &Bytes) -> Result<Response, DvError> {
    let fields = parse_body(req.def, body)?;
    let created = {
        let mut store = req.shared.dv.store.lock();
        let cur = store
            .table(req.def.set)
            .and_then(|t| t.get(id))
            .map(|r| etag(r.version));
        if header(req.headers, "if-none-match") == Some("*") && cur.is_some() {
            return Err(exists_error());
        }
        check_if_match(req, id, cur.as_deref())?;
        let mut changes = write::validate(&store, req.def, &fields)?;
        super::rules_invoices::check(&store, req.def, cur.is_some().then_some(id), &changes)?;
        if cur.is_some() {
            super::write_state::check_update(&store, req.def, id, &mut changes)?;
            write::update(&mut store, req.def, id, changes, &stamp(req));
            false
        } else {
            write::create(&mut store, req.def, id, changes, &stamp(req));
            true
        }
    };
    written(req, id, created)
}

fn remove(req: &Req<'_>, id: &str) -> Result<Response, DvError> {
    let cur = current(req, id);
    if cur.is_none() {
        return Err(DvError::not_found(req.def, id));
    }
    check_if_match(req, id, cur.as_deref())?;
    if !write::delete(&mut req.shared.dv.store.lock(), req.def, id) {
        return Err(DvError::not_found(req.def, id));
    }
    req.shared.dv.faults.count_write();
    Ok(http::empty(StatusCode::NO_CONTENT))
}
