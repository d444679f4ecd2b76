//! The injected faults that spoil a request from outside its handler, as a network, a load
//! balancer or an overloaded service does: a 5xx before the service sees the request, a late
//! answer, an answer held past the client's timeout, a connection closed without an answer
//! (before or after the service handled the request), a body cut off half-way, a gateway's
//! HTML page where JSON was expected. Each is taken from the system's pending faults by the
//! first request it hits and counted when served.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::config::{Lost, Requests};
use super::faults::{Faults, Spoiler};
use super::http::{empty, raw_json, set_header};
use super::serve::Connection;
use super::shared::Shared;

/// The state of the layer: where the system's faults are.
#[derive(Clone)]
struct Spoil {
    shared: Arc<Shared>,
    pick: fn(&Shared) -> &Faults,
}

/// `router` with the faults of `pick(shared)` served around its handlers.
pub(crate) fn layer(router: Router, shared: Arc<Shared>, pick: fn(&Shared) -> &Faults) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        Spoil { shared, pick },
        spoil,
    ))
}

/// The kind of a request: a write, a GET of one record (`set(key)`), a GET of a collection;
/// `Any` for the service documents (`$metadata`), which only faults on every request hit.
pub(crate) fn class(method: &Method, path: &str) -> Requests {
    if method != Method::GET && method != Method::HEAD {
        return Requests::Write;
    }
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    if last.contains("$metadata") || last.is_empty() {
        Requests::Any
    } else if last.ends_with(')') {
        Requests::Single
    } else {
        Requests::Collection
    }
}

async fn spoil(State(s): State<Spoil>, req: Request, next: Next) -> Response {
    let class = class(req.method(), req.uri().path());
    let faults = (s.pick)(&s.shared);
    let Some(spoiler) = faults.take_spoiler(class) else {
        return next.run(req).await;
    };
    let conn = req.extensions().get::<Connection>().cloned();
    tracing::debug!(?spoiler, method = %req.method(), uri = %req.uri(), "sandbox: injected fault");
    match spoiler {
        Spoiler::Status {
            status,
            retry_after,
        } => {
            faults.count_served(spoiler.kind());
            status_response(status, retry_after)
        }
        Spoiler::Slow(delay) => {
            faults.count_served(spoiler.kind());
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        Spoiler::Timeout(hold) => {
            let r = next.run(req).await;
            faults.count_served(spoiler.kind());
            tokio::time::sleep(hold).await;
            r
        }
        Spoiler::Reset(lost) => {
            if lost == Lost::Response {
                let _answer = next.run(req).await;
            }
            faults.count_served(spoiler.kind());
            close(conn).await
        }
        Spoiler::Truncated | Spoiler::Malformed => {
            let r = next.run(req).await;
            let (mut parts, body) = r.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
                return empty(StatusCode::INTERNAL_SERVER_ERROR);
            };
            if bytes.len() < 2 {
                // Nothing to spoil: the fault waits for the next request.
                faults.put_back(spoiler, class);
                return Response::from_parts(parts, Body::from(bytes));
            }
            faults.count_served(spoiler.kind());
            if spoiler == Spoiler::Truncated {
                parts
                    .headers
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
                Response::from_parts(parts, cut(bytes))
            } else {
                parts.headers.remove(header::CONTENT_LENGTH);
                parts.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                );
                Response::from_parts(parts, Body::from(GATEWAY_PAGE))
            }
        }
    }
}

/// The first half of `bytes`, then a broken stream: the server sends what it has and drops the
/// connection short of the promised length.
fn cut(bytes: Bytes) -> Body {
    use futures::StreamExt;
    let half = bytes.slice(..bytes.len() / 2);
    let head = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(half) });
    // The break comes a moment later, so the head and the first half are on the wire first.
    let tail = futures::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected: the connection broke in the middle of the answer",
        ))
    });
    Body::from_stream(head.chain(tail))
}

/// Closes the request's connection and never answers.
async fn close(conn: Option<Connection>) -> Response {
    match conn {
        Some(c) => {
            c.close();
            std::future::pending().await
        }
        // Served without the sandbox's own loop (cannot happen through `Sandbox::start`): the
        // nearest a handler can do is a gateway's 502.
        None => status_response(502, None),
    }
}

const GATEWAY_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or incomplete response.</p></body></html>\n";

const GATEWAY_TIMEOUT_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>504 Gateway Time-out</title></head>\n<body><h1>504 Gateway Time-out</h1><p>The upstream server did not answer in time.</p></body></html>\n";

/// A 5xx as a service (500, 503: a JSON error) or its load balancer (502, 504: an HTML page)
/// sends it.
fn status_response(status: u16, retry_after: Option<Duration>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = match code {
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => {
            let page = if code == StatusCode::BAD_GATEWAY {
                GATEWAY_PAGE
            } else {
                GATEWAY_TIMEOUT_PAGE
            };
            let mut r = Response::new(Body::from(page));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            r
        }
        _ => raw_json(
            code,
            serde_json::json!({"error": {
                "code": if code == StatusCode::SERVICE_UNAVAILABLE { "ServiceUnavailable" } else { "InternalServerError" },
                "message": if code == StatusCode::SERVICE_UNAVAILABLE {
                    "The service is temporarily unavailable. Please try again later."
                } else {
                    "An unexpected error occurred."
                },
            }})
            .to_string(),
        ),
    };
    *r.status_mut() = code;
    if let Some(after) = retry_after {
        set_header(&mut r, "retry-after", &after.as_secs().max(1).to_string());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_classed_by_method_and_last_segment() {
        let get = Method::GET;
        assert_eq!(class(&get, "/api/data/v9.2/accounts"), Requests::Collection);
        assert_eq!(
            class(&get, "/api/data/v9.2/accounts(0a1b)"),
            Requests::Single
        );
        assert_eq!(
            class(&get, "/v2.0/t/e/api/v2.0/companies(1)/customers"),
            Requests::Collection
        );
        assert_eq!(class(&get, "/api/data/v9.2/$metadata"), Requests::Any);
        assert_eq!(class(&Method::PATCH, "/data/Customers(x)"), Requests::Write);
        assert_eq!(class(&Method::POST, "/data/$batch"), Requests::Write);
    }

    #[test]
    fn gateway_statuses_are_html_and_retry_after_is_optional() {
        let r = status_response(502, None);
        assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
        assert!(r.headers().get("retry-after").is_none());
        let r = status_response(503, Some(Duration::from_secs(2)));
        assert_eq!(r.headers()["retry-after"], "2");
    }
}
