//! `POST /data/$batch`: OData v4 multipart/mixed batches. Requests outside a changeset run
//! one by one; a changeset runs atomically, all or nothing (`data-entities/odata.md`, "Batch
//! requests"; the .NET client's `SaveChangesOptions.BatchWithSingleChangeset`): on its first
//! failure every change it made is rolled back, and the changeset answers with that one
//! failure. `$n` at the start of a URL in a changeset names the entity created by the
//! request with `Content-ID: n`. Business events of a changeset are raised only once it
//! commits.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::FoError;
use super::exec::{Ctx, Request, exec};
use super::reply::Reply;
use crate::sandbox::http::{new_guid, parse_query};
use crate::sandbox::shared::Shared;

/// The path segment.
pub(crate) const BATCH: &str = "$batch";

/// The most operations a batch holds (`data-entities/service-protection-api-limits.md`: "A
/// batch can contain up to 5000 operations").
const MAX_OPERATIONS: usize = 5000;

/// One part of a batch: a request, or a changeset of requests.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Single(Http),
    Changeset(Vec<Http>),
}

/// A request inside a batch.
#[derive(Debug, Clone, PartialEq)]
struct Http {
    content_id: Option<String>,
    method: Method,
    url: String,
    if_match: Option<String>,
    body: Vec<u8>,
}

fn malformed(why: &str) -> FoError {
    FoError {
        status: StatusCode::BAD_REQUEST,
        message: format!("The batch request is not valid: {why}"),
        inner: format!("The batch request is not valid: {why}"),
        kind: super::QUERY_EXCEPTION,
    }
}

/// The `boundary` parameter of a multipart content type.
fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Splits a header block from its content at the first empty line.
fn split_head(text: &str) -> (Vec<(String, String)>, &str) {
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .or_else(|| text.split_once("\n\n"))
        .unwrap_or((text, ""));
    let headers = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (headers, rest)
}

fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The parts between `--boundary` delimiters, up to `--boundary--`.
fn parts<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut out = Vec::new();
    for chunk in body.split(&delimiter).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        out.push(
            chunk
                .trim_start_matches(['\r', '\n'])
                .trim_end_matches(['\r', '\n']),
        );
    }
    out
}

/// An `application/http` part: request line, headers, body.
fn http(part: &str) -> Result<Http, FoError> {
    let (outer, inner) = split_head(part);
    let (line, rest) = inner
        .trim_start_matches(['\r', '\n'])
        .split_once('\n')
        .unwrap_or((inner, ""));
    let mut words = line.split_whitespace();
    let method = words
        .next()
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| malformed("a part has no request line"))?;
    let url = words
        .next()
        .ok_or_else(|| malformed("a request line has no URL"))?
        .to_string();
    let (headers, body) = split_head(rest);
    Ok(Http {
        content_id: get(&outer, "content-id")
            .or(get(&headers, "content-id"))
            .map(str::to_string),
        method,
        url,
        if_match: get(&headers, "if-match").map(str::to_string),
        body: body.trim_end_matches(['\r', '\n']).as_bytes().to_vec(),
    })
}

/// Parses a batch body.
fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, FoError> {
    let b = boundary(content_type)
        .ok_or_else(|| malformed("the content type must be multipart/mixed with a boundary"))?;
    let text = std::str::from_utf8(body).map_err(|_| malformed("the body is not UTF-8"))?;
    let mut out = Vec::new();
    for part in parts(text, &b) {
        let (headers, content) = split_head(part);
        match get(&headers, "content-type").and_then(boundary) {
            Some(cb) => {
                let requests = parts(content, &cb)
                    .into_iter()
                    .map(http)
                    .collect::<Result<Vec<_>, _>>()?;
                if requests.iter().any(|r| r.method == Method::GET) {
                    return Err(malformed("a changeset cannot contain a GET request"));
                }
                out.push(Part::Changeset(requests));
            }
            None => out.push(Part::Single(http(part)?)),
        }
    }
    let operations: usize = out
        .iter()
        .map(|p| match p {
            Part::Single(_) => 1,
            Part::Changeset(r) => r.len(),
        })
        .sum();
    if operations > MAX_OPERATIONS {
        return Err(malformed(&format!(
            "it holds {operations} operations, more than the {MAX_OPERATIONS} a batch can contain"
        )));
    }
    Ok(out)
}

/// The request's path relative to the service root, and its query.
fn target(ctx: &Ctx<'_>, url: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let path = path
        .strip_prefix(ctx.base)
        .or_else(|| path.find("/data/").map(|at| &path[at + "/data/".len()..]))
        .unwrap_or(path);
    (
        crate::sandbox::http::decode(path),
        parse_query((!query.is_empty()).then_some(query)),
    )
}

/// Resolves `$n` (the entity created by the request with Content-ID n) at the start of a URL.
fn resolve(url: &str, created: &[(String, String)]) -> Result<String, FoError> {
    let Some(rest) = url.strip_prefix('$') else {
        return Ok(url.to_string());
    };
    let end = rest
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(rest.len());
    let (id, tail) = rest.split_at(end);
    created
        .iter()
        .find(|(cid, _)| cid == id)
        .map(|(_, location)| format!("{location}{tail}"))
        .ok_or_else(|| {
            malformed(&format!(
                "the reference '${id}' names no earlier request of the changeset"
            ))
        })
}

fn run(
    ctx: &Ctx<'_>,
    data: &mut super::state::Data,
    h: &Http,
    url: &str,
) -> Result<Reply, FoError> {
    let (path, params) = target(ctx, url);
    exec(
        ctx,
        data,
        &Request {
            method: h.method.clone(),
            path: &path,
            params,
            if_match: h.if_match.as_deref(),
            body: &h.body,
        },
    )
}

/// One response part.
fn response_part(out: &mut String, content_id: Option<&str>, result: &Result<Reply, FoError>) {
    out.push_str("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    let (status, body, etag, location) = match result {
        Ok(r) => (r.status, r.body.clone(), r.etag.clone(), r.location.clone()),
        Err(e) => (e.status, Some(e.body()), None, None),
    };
    let text = result.as_ref().ok().and_then(|r| r.text.clone());
    out.push_str(&format!(
        "\r\nHTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    ));
    if let Some(t) = etag {
        out.push_str(&format!("ETag: {t}\r\n"));
    }
    if let Some(l) = location {
        out.push_str(&format!("Location: {l}\r\n"));
    }
    match (body, text) {
        (Some(b), _) => out.push_str(&format!(
            "Content-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n{b}\r\n"
        )),
        (None, Some(t)) => out.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\n\r\n{t}\r\n"
        )),
        (None, None) => out.push_str("\r\n"),
    }
}

/// Runs a batch and answers it.
pub(crate) fn handle(
    shared: &Shared,
    ctx: &Ctx<'_>,
    content_type: &str,
    body: &[u8],
    user: &str,
) -> Response {
    let parts = match parse(content_type, body) {
        Ok(p) => p,
        Err(e) => return e.response(),
    };
    let boundary = format!("batchresponse_{}", new_guid());
    let mut out = String::new();
    for part in parts {
        out.push_str(&format!("--{boundary}\r\n"));
        match part {
            Part::Single(h) => {
                let result = run(ctx, &mut shared.fo.data.lock(), &h, &h.url);
                if let Ok(r) = &result {
                    if h.method != Method::GET {
                        shared.fo.faults.count_write();
                    }
                    shared.fo.events.publish(r.notes.clone(), user, ctx.now);
                }
                response_part(&mut out, h.content_id.as_deref(), &result);
            }
            Part::Changeset(requests) => changeset(shared, ctx, &requests, user, &mut out),
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    let mut r = Response::new(Body::from(out));
    *r.status_mut() = StatusCode::OK;
    if let Ok(v) = HeaderValue::from_str(&format!("multipart/mixed; boundary={boundary}")) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    r
}

/// Runs a changeset atomically and writes its responses (or its one failure).
fn changeset(shared: &Shared, ctx: &Ctx<'_>, requests: &[Http], user: &str, out: &mut String) {
    let mut data = shared.fo.data.lock();
    let before = data.clone();
    let mut created: Vec<(String, String)> = Vec::new();
    let mut done: Vec<(Option<String>, Result<Reply, FoError>)> = Vec::new();
    for h in requests {
        let result = resolve(&h.url, &created).and_then(|url| run(ctx, &mut data, h, &url));
        match result {
            Ok(r) => {
                if let (Some(id), Some(location)) = (&h.content_id, &r.location) {
                    created.push((id.clone(), location.clone()));
                }
                done.push((h.content_id.clone(), Ok(r)));
            }
            Err(e) => {
                *data = before;
                drop(data);
                tracing::debug!(message = %e.inner, "fo: changeset rolled back");
                response_part(out, h.content_id.as_deref(), &Err(e));
                return;
            }
        }
    }
    drop(data);
    let cs = format!("changesetresponse_{}", new_guid());
    out.push_str(&format!(
        "Content-Type: multipart/mixed; boundary={cs}\r\n\r\n"
    ));
    for (id, result) in &done {
        out.push_str(&format!("--{cs}\r\n"));
        response_part(out, id.as_deref(), result);
        if let Ok(r) = result {
            shared.fo.faults.count_write();
            shared.fo.events.publish(r.notes.clone(), user, ctx.now);
        }
    }
    out.push_str(&format!("--{cs}--\r\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--batch_1\r\nContent-Type: multipart/mixed; boundary=changeset_a\r\n\r\n\
--changeset_a\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
POST SalesOrderHeadersV2 HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"dataAreaId\":\"usmf\"}\r\n\
--changeset_a\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 2\r\n\r\n\
PATCH $1 HTTP/1.1\r\nIf-Match: *\r\nContent-Type: application/json\r\n\r\n{\"SalesOrderName\":\"x\"}\r\n\
--changeset_a--\r\n\
--batch_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
GET http://h/data/CustomersV3?$top=1&cross-company=true HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n\
--batch_1--\r\n";

    #[test]
    fn parses_changesets_and_single_requests() {
        let parts = parse("multipart/mixed; boundary=batch_1", BODY.as_bytes()).unwrap();
        assert_eq!(parts.len(), 2);
        let Part::Changeset(cs) = &parts[0] else {
            panic!("{parts:?}")
        };
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].method, Method::POST);
        assert_eq!(cs[0].url, "SalesOrderHeadersV2");
        assert_eq!(cs[0].content_id.as_deref(), Some("1"));
        assert_eq!(cs[0].body, b"{\"dataAreaId\":\"usmf\"}".to_vec());
        assert_eq!(cs[1].if_match.as_deref(), Some("*"));
        let Part::Single(get) = &parts[1] else {
            panic!("{parts:?}")
        };
        assert_eq!(get.method, Method::GET);
        assert!(get.body.is_empty());
        let ctx = Ctx {
            base: "http://h/data/",
            page_size: 10,
            now: chrono::Utc::now(),
        };
        let (path, params) = target(&ctx, &get.url);
        assert_eq!(path, "CustomersV3");
        assert_eq!(params.len(), 2);
        assert!(parse("application/json", BODY.as_bytes()).is_err());
        let created = vec![("1".to_string(), "http://h/data/X(a='1')".to_string())];
        assert_eq!(
            resolve("$1/y", &created).unwrap(),
            "http://h/data/X(a='1')/y"
        );
        assert!(resolve("$2", &created).is_err());
        let get =
            "--b\r\nContent-Type: application/http\r\n\r\nGET CustomersV3 HTTP/1.1\r\n\r\n\r\n";
        let big = format!("{}--b--\r\n", get.repeat(MAX_OPERATIONS + 1));
        let e = parse("multipart/mixed; boundary=b", big.as_bytes()).unwrap_err();
        assert!(e.inner.contains("5001 operations"), "{}", e.inner);
        let ok = format!("{}--b--\r\n", get.repeat(3));
        assert_eq!(
            parse("multipart/mixed; boundary=b", ok.as_bytes())
                .unwrap()
                .len(),
            3
        );
    }
}
