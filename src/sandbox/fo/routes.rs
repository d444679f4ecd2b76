//! The F&O HTTP surface under `/data/`: the cold start, the bearer token for the F&O
//! environment's audience, injected faults, the user-based service-protection limits
//! (requests, concurrent requests, combined execution time), then `$metadata`, `$batch` and
//! the entity requests. `Prefer: odata.maxpagesize` lowers the page size of a read (OData
//! v4's preference; the server's own size stays the most).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::Utc;

use super::exec::{Ctx, Request, exec};
use super::exec_time::Timing;
use super::{FoError, batch, metadata};
use crate::sandbox::auth;
use crate::sandbox::faults::Injected;
use crate::sandbox::http::{Prefer, decode, empty, header, parse_query, set_header};
use crate::sandbox::shared::Shared;
use crate::sandbox::throttle::Exceeded;

/// The F&O router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// A 429 with `Retry-After`, in F&O's error shape with the documented message
/// (`data-entities/service-protection-api-limits.md`; "exeeded" is spelled as there).
fn throttled(shared: &Shared, message: String, retry_after: std::time::Duration) -> Response {
    shared.fo.faults.count_throttled();
    let mut r = FoError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: message.clone(),
        inner: message,
        kind: super::WRITE_EXCEPTION,
    }
    .response();
    set_header(
        &mut r,
        "retry-after",
        &retry_after.as_secs().max(1).to_string(),
    );
    r
}

/// What a resource-based throttle says (`data-entities/service-protection-api-limits.md`,
/// "Resource utilization threshold"); the sandbox raises it through an injected fault.
const HIGH_UTILIZATION: &str = "This request could not be processed at this time due to system experiencing high resource utilization.";

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = std::time::Instant::now();
    if let Some(delay) = shared.fo.take_cold_start() {
        tracing::debug!(?delay, "fo: cold start");
        tokio::time::sleep(delay).await;
    }
    let shared = &*shared;
    shared.fo.faults.count_request();
    tracing::debug!(%method, %uri, "fo: request");
    let info = match auth::check(shared, &headers, &shared.fo_resource()) {
        Ok(i) => i,
        Err(why) => {
            tracing::debug!(%why, "fo: 401");
            let mut r = empty(StatusCode::UNAUTHORIZED);
            set_header(&mut r, "www-authenticate", "Bearer");
            return r;
        }
    };
    match shared.fo.faults.take_request_fault() {
        Some(Injected::Throttle(after)) => {
            return throttled(shared, HIGH_UTILIZATION.to_string(), after);
        }
        Some(Injected::Unavailable) => {
            return FoError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable.",
                "The service is temporarily unavailable. Please try again later.",
            )
            .response();
        }
        None => {}
    }
    let _permit = match shared.fo.limiter.admit(&info.appid) {
        Ok(p) => p,
        Err(Exceeded::Requests {
            limit,
            window,
            retry_after,
        }) => {
            let msg = format!(
                "Number of requests exeeded the limit of {limit} over the time window of {} seconds.",
                window.as_secs()
            );
            return throttled(shared, msg, retry_after);
        }
        Err(Exceeded::Concurrency { limit, retry_after }) => {
            let msg = format!("Number of concurrent requests exceeded the limit of {limit}.");
            return throttled(shared, msg, retry_after);
        }
    };
    if let Some((limit, window)) = shared.fo.execution.exceeded(&info.appid) {
        let msg = format!(
            "Combined execution time of incoming requests exceeded limit of {} seconds over time window of {} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
            limit.as_secs(),
            window.as_secs()
        );
        return throttled(shared, msg, shared.fo.execution.retry_after);
    }
    // The request's time, its cold start included, counts once it is answered.
    let _timing = Timing {
        exec: &shared.fo.execution,
        user: info.appid.clone(),
        started,
    };
    let path = decode(uri.path());
    let Some(rest) = path
        .strip_prefix("/data/")
        .or_else(|| (path == "/data").then_some(""))
    else {
        let m = format!("No HTTP resource was found that matches the request URI '{path}'.");
        return FoError::new(StatusCode::NOT_FOUND, m.clone(), m).response();
    };
    let base = shared.fo_data_url();
    // `Prefer: odata.maxpagesize` lowers the server's page size for this request.
    let asked = Prefer::from_headers(&headers).maxpagesize;
    let page_size = asked.map_or(shared.fo.page_size, |n| n.clamp(1, shared.fo.page_size));
    let ctx = Ctx {
        base: &base,
        page_size,
        now: Utc::now(),
    };
    match (rest, &method) {
        (metadata::METADATA, &Method::GET) => return metadata::response(),
        (batch::BATCH, &Method::POST) => {
            let content_type = header(&headers, "content-type").unwrap_or_default();
            return batch::handle(shared, &ctx, content_type, &body, &info.appid);
        }
        _ => {}
    }
    let req = Request {
        method,
        path: rest,
        params: parse_query(uri.query()),
        if_match: header(&headers, "if-match"),
        body: &body,
    };
    let result = exec(&ctx, &mut shared.fo.data.lock(), &req);
    match result {
        Ok(reply) => {
            if req.method != Method::GET {
                shared.fo.faults.count_write();
            }
            shared
                .fo
                .events
                .publish(reply.notes.clone(), &info.appid, ctx.now);
            let mut r = reply.response();
            if asked.is_some() && req.method == Method::GET {
                set_header(
                    &mut r,
                    "preference-applied",
                    &format!("odata.maxpagesize={page_size}"),
                );
            }
            r
        }
        Err(e) => e.response(),
    }
}
