//! The Business Central HTTP surface: auth, injected faults, limits, routing under
//! `/v2.0/{tenant}/{environment}/api/v2.0/`, and the `If-Match`-guarded writes.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::schema::{self, EntityDef};
use super::{BcError, etag, query, shape, write};
use crate::event::Fields;
use crate::sandbox::auth;
use crate::sandbox::faults::Injected;
use crate::sandbox::http::{
    Prefer, decode, empty, header, is_guid, json as json_response, parse_query, set_header,
    split_key,
};
use crate::sandbox::shared::{BC_ENVIRONMENT, BC_RESOURCE, Shared};
use crate::sandbox::throttle::Exceeded;

/// The BC router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

fn throttled(
    shared: &Shared,
    actual: Option<u32>,
    limit: u32,
    retry_after: std::time::Duration,
) -> Response {
    shared.bc.faults.count_throttled();
    let msg = match actual {
        Some(a) => format!("Too many requests reached.  Actual ({a}).  Maximum ({limit})."),
        None => format!("Too many concurrent requests.  Maximum ({limit})."),
    };
    let mut r = BcError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "Application_TooManyRequests",
        msg,
    )
    .response();
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
    shared.bc.faults.count_request();
    tracing::debug!(%method, %uri, "bc: request");
    let info = match auth::check(shared, &headers, BC_RESOURCE) {
        Ok(i) => i,
        Err(why) => {
            tracing::debug!(%why, "bc: 401");
            let mut r = BcError::new(
                StatusCode::UNAUTHORIZED,
                "Authentication_InvalidCredentials",
                "The server has rejected the client credentials.",
            )
            .response();
            set_header(
                &mut r,
                "www-authenticate",
                &format!(
                    "Bearer authorization_uri=\"{}{}/oauth2/authorize\"",
                    shared.entra_authority, shared.creds.tenant_id
                ),
            );
            return r;
        }
    };
    match shared.bc.faults.take_request_fault() {
        Some(Injected::Throttle(after)) => return throttled(shared, Some(6001), 6000, after),
        Some(Injected::Unavailable) => {
            let mut r = BcError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Please try again later.",
            )
            .response();
            set_header(&mut r, "retry-after", "1");
            return r;
        }
        None => {}
    }
    let _permit = match shared.bc.limiter.admit(&info.appid) {
        Ok(p) => p,
        Err(Exceeded::Requests {
            limit, retry_after, ..
        }) => return throttled(shared, Some(limit + 1), limit, retry_after),
        Err(Exceeded::Concurrency { limit, retry_after }) => {
            return throttled(shared, None, limit, retry_after);
        }
    };
    match route(shared, &method, &uri, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.response(),
    }
}

fn no_resource(path: &str) -> BcError {
    BcError::new(
        StatusCode::NOT_FOUND,
        "BadRequest_NotFound",
        format!("No HTTP resource was found that matches the request URI '{path}'."),
    )
}

fn company(shared: &Shared) -> Value {
    json!({
        "id": shared.bc_company_id,
        "systemVersion": "24.0.16410.18056",
        "timestamp": 0,
        "name": "CRONUS USA, Inc.",
        "displayName": "CRONUS USA, Inc.",
        "businessProfileId": "",
        "systemCreatedAt": "2024-01-01T00:00:00Z",
        "systemCreatedBy": "00000000-0000-0000-0000-000000000001",
        "systemModifiedAt": "2024-01-01T00:00:00Z",
        "systemModifiedBy": "00000000-0000-0000-0000-000000000001",
    })
}

fn route(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, BcError> {
    let path = decode(uri.path());
    let prefix = format!(
        "/v2.0/{}/{}/api/v2.0/",
        shared.creds.tenant_id, BC_ENVIRONMENT
    );
    let rest = path
        .strip_prefix(&prefix)
        .or_else(|| path.strip_prefix(&prefix.to_ascii_lowercase()))
        .ok_or_else(|| no_resource(&path))?
        .trim_end_matches('/');
    if rest == super::metadata::METADATA && *method == Method::GET {
        return Ok(super::metadata::response());
    }
    let params = parse_query(uri.query());
    let mut segments = rest.splitn(2, '/');
    let first = segments.next().unwrap_or_default();
    let (name, cid) = split_key(first).ok_or_else(|| no_resource(&path))?;
    if name != "companies" {
        return Err(no_resource(&path));
    }
    let Some(next) = segments.next() else {
        if *method != Method::GET {
            return Err(BcError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "BadRequest_MethodNotAllowed",
                format!("'{method}' requests for 'companies' are not allowed."),
            ));
        }
        let ctx = format!("{}$metadata#companies", shared.bc_api_url);
        return match cid {
            None => Ok(json_response(
                StatusCode::OK,
                &json!({"@odata.context": ctx, "value": [company(shared)]}),
            )),
            Some(c) if c == shared.bc_company_id => {
                let mut v = company(shared);
                if let Value::Object(m) = &mut v {
                    m.insert("@odata.context".into(), json!(format!("{ctx}/$entity")));
                }
                Ok(json_response(StatusCode::OK, &v))
            }
            Some(c) => Err(BcError::not_found("Company", &c)),
        };
    };
    match cid {
        Some(c) if c == shared.bc_company_id => {}
        Some(c) => return Err(BcError::not_found("Company", &c)),
        None => return Err(no_resource(&path)),
    }
    // A document's lines: `salesOrders({id})/salesOrderLines[({lineId})]`,
    // `salesShipments({id})/salesShipmentLines[…]`, `salesInvoices({id})/salesInvoiceLines[…]`.
    let (next, parent) = match next.split_once('/') {
        Some((head, child)) => {
            let (pset, pkey) = split_key(head).ok_or_else(|| no_resource(&path))?;
            if let ("salesOrders", Some(p), SHIP_AND_INVOICE) = (pset, &pkey, child) {
                return ship_and_invoice(shared, method, p);
            }
            if let ("salesQuotes", Some(p), action) = (pset, &pkey, child)
                && action.starts_with("Microsoft.NAV.")
            {
                let r =
                    super::write_quotes::respond(&mut shared.bc.store.lock(), method, p, action)?;
                shared.bc.faults.count_write();
                return Ok(r);
            }
            match (pset, child.split('(').next()) {
                ("salesOrders", Some("salesOrderLines"))
                | ("salesQuotes", Some("salesQuoteLines"))
                | ("salesShipments", Some("salesShipmentLines"))
                | ("salesInvoices", Some("salesInvoiceLines")) => {}
                _ => return Err(no_resource(&path)),
            }
            let table = schema::entity(pset).map_or("Sales Header", |d| d.table);
            let Some(p) = pkey else {
                return Err(no_resource(&path));
            };
            let exists = shared
                .bc
                .store
                .lock()
                .table(pset)
                .and_then(|t| t.get(&p))
                .is_some();
            if !exists {
                return Err(BcError::not_found(table, &p));
            }
            (child, Some(p))
        }
        None => (next, None),
    };
    let (set, key) = split_key(next).ok_or_else(|| no_resource(&path))?;
    let def = schema::entity(set).ok_or_else(|| no_resource(&path))?;
    if super::write_quotes::is_read_only(def.set) && *method != Method::GET {
        return Err(BcError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest_MethodNotAllowed",
            format!("'{method}' requests for '{}' are not allowed.", def.set),
        ));
    }
    let mut params = params;
    if let (Some(p), true, None) = (&parent, *method == Method::GET, &key) {
        // Only this document's lines.
        let own = format!("documentId eq {p}");
        match params.iter_mut().find(|(k, _)| k == "$filter") {
            Some((_, f)) => *f = format!("({f}) and {own}"),
            None => params.push(("$filter".into(), own)),
        }
    }
    if let Some(k) = &key
        && !is_guid(k)
    {
        return Err(BcError::bad_request(format!(
            "The key '{k}' is not a valid GUID for {}.",
            def.set
        )));
    }
    let prefer = Prefer::from_headers(headers);
    if *method != Method::GET
        && (super::schema_shipments::is_read_only(def.set)
            || super::schema_inventory::READ_ONLY_SETS.contains(&def.set))
    {
        return Err(BcError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest_MethodNotAllowed",
            format!("'{method}' requests for '{}' are not allowed.", def.set),
        ));
    }
    if *method != Method::GET && super::write_invoices::is_posted_set(def.set) {
        return Err(super::write_invoices::posted_read_only());
    }
    match (method.clone(), key) {
        (Method::GET, None) => query::list(shared, def, &params, &prefer),
        (Method::GET, Some(id)) => {
            let opts = query::Opts::parse(def, &params)?;
            let store = shared.bc.store.lock();
            let row = store
                .table(def.set)
                .and_then(|t| t.get(&id))
                .ok_or_else(|| BcError::not_found(def.table, &id))?;
            Ok(entity_response(
                shared,
                def,
                &id,
                row,
                opts.select.as_deref(),
                StatusCode::OK,
            ))
        }
        (Method::POST, None) => {
            let mut changes = write::validate(def, &parse_body(body)?)?;
            if matches!(def.set, "salesOrderLines" | "salesQuoteLines") {
                // Lines are created under their document only.
                let Some(p) = &parent else {
                    return Err(BcError::new(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "BadRequest_MethodNotAllowed",
                        format!(
                            "'POST' requests for '{0}' are allowed only under their document: salesOrders({{id}})/salesOrderLines or salesQuotes({{id}})/salesQuoteLines.",
                            def.set
                        ),
                    ));
                };
                changes.insert("documentId".into(), json!(p));
            }
            let id = write::create(&mut shared.bc.store.lock(), def, changes, Utc::now())?;
            shared.bc.faults.count_write();
            let mut r = current(shared, def, &id, StatusCode::CREATED)?;
            set_header(
                &mut r,
                "location",
                &format!(
                    "{}companies({})/{}({id})",
                    shared.bc_api_url, shared.bc_company_id, def.set
                ),
            );
            Ok(r)
        }
        (Method::PATCH, Some(id)) => {
            let fields = parse_body(body)?;
            let mut store = shared.bc.store.lock();
            check_if_match(headers, def, &store, &id)?;
            let changes = write::validate(def, &fields)?;
            write::update(&mut store, def, &id, changes, Utc::now())?;
            drop(store);
            shared.bc.faults.count_write();
            current(shared, def, &id, StatusCode::OK)
        }
        (Method::DELETE, Some(id)) => {
            let mut store = shared.bc.store.lock();
            check_if_match(headers, def, &store, &id)?;
            write::delete(&mut store, def, &id)?;
            shared.bc.faults.count_write();
            Ok(empty(StatusCode::NO_CONTENT))
        }
        (m, _) => Err(BcError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest_MethodNotAllowed",
            format!("'{m}' requests for '{}' are not allowed.", def.set),
        )),
    }
}

/// API v2.0's bound action on a sales order.
const SHIP_AND_INVOICE: &str = "Microsoft.NAV.shipAndInvoice";

/// `POST salesOrders({id})/Microsoft.NAV.shipAndInvoice`: 204, the order posted (and deleted).
fn ship_and_invoice(shared: &Shared, method: &Method, id: &str) -> Result<Response, BcError> {
    if *method != Method::POST {
        return Err(BcError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequest_MethodNotAllowed",
            format!("'{method}' requests for '{SHIP_AND_INVOICE}' are not allowed."),
        ));
    }
    if !is_guid(id) {
        return Err(BcError::bad_request(format!(
            "The key '{id}' is not a valid GUID for salesOrders."
        )));
    }
    let id = id.to_ascii_lowercase();
    super::fulfil::ship_and_invoice(&mut shared.bc.store.lock(), &id, Utc::now())?;
    shared.bc.faults.count_write();
    Ok(empty(StatusCode::NO_CONTENT))
}

fn parse_body(body: &Bytes) -> Result<Fields, BcError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(BcError::bad_request(
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(BcError::bad_request(format!(
            "Invalid JSON in the request body: {e}."
        ))),
    }
}

fn check_if_match(
    headers: &HeaderMap,
    def: &EntityDef,
    store: &crate::sandbox::table::Store,
    id: &str,
) -> Result<(), BcError> {
    let row = store
        .table(def.set)
        .and_then(|t| t.get(id))
        .ok_or_else(|| BcError::not_found(def.table, id))?;
    match header(headers, "if-match") {
        None | Some("") => Err(BcError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest_InvalidToken",
            "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.",
        )),
        Some("*") => Ok(()),
        Some(tag) if tag == etag(id, row.version) => Ok(()),
        Some(tag) if !tag.starts_with("W/\"") && !tag.starts_with('"') => Err(BcError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest_InvalidToken",
            "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.",
        )),
        Some(_) => Err(BcError::new(
            StatusCode::CONFLICT,
            "Request_EntityChanged",
            "Another user has already changed the record.",
        )),
    }
}

fn entity_response(
    shared: &Shared,
    def: &EntityDef,
    id: &str,
    row: &crate::sandbox::table::Row,
    select: Option<&[String]>,
    status: StatusCode,
) -> Response {
    let mut body = Fields::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}$metadata#companies({})/{}/$entity",
            shared.bc_api_url, shared.bc_company_id, def.set
        )),
    );
    body.extend(shape(def, id, row, select));
    let tag = etag(id, row.version);
    let mut r = json_response(status, &Value::Object(body));
    set_header(&mut r, "etag", &tag);
    r
}

fn current(
    shared: &Shared,
    def: &EntityDef,
    id: &str,
    status: StatusCode,
) -> Result<Response, BcError> {
    let store = shared.bc.store.lock();
    let row = store
        .table(def.set)
        .and_then(|t| t.get(id))
        .ok_or_else(|| BcError::not_found(def.table, id))?;
    Ok(entity_response(shared, def, id, row, None, status))
}
