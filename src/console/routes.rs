//! The console's HTTP routes under `/console`, their guard (authentication, cross-site
//! checks, CSRF) and the response headers every page gets.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Extension, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use serde::Deserialize;

use super::Console;
use super::auth::{
    Flash, Refusal, Who, cross_site, csrf_ok, session_clear_cookie, session_set_cookie,
};
use super::layout::{Frame, Nav, login_page, page};
use super::metrics::console_metrics;
use super::{pages, records};
use crate::error::Classify as _;

/// The largest form body the console reads.
const FORM_LIMIT: usize = 64 * 1024;

/// The console's routes (to merge into the HTTP listener's router).
pub fn router(console: Console) -> Router {
    let guarded = Router::new()
        .route("/console", get(overview))
        .route("/console/errors", get(errors))
        .route("/console/parked", get(parked))
        .route("/console/couplings", get(couplings))
        .route("/console/record", get(record))
        .route("/console/errors/retry", post(retry))
        .route("/console/errors/skip", post(skip))
        .route("/console/couple", post(couple))
        .route("/console/uncouple", post(uncouple))
        .route("/console/sync-now", post(sync_now))
        .route("/console/logout", post(logout))
        .route_layer(middleware::from_fn_with_state(console.clone(), guard));
    Router::new()
        .route("/console/login", get(login_form).post(login))
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .merge(guarded)
        .layer(middleware::map_response(headers))
        .with_state(console)
}

/// Security headers on every console response: no framing, no other origins' scripts or
/// forms, no caching of pages that show records.
async fn headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on
    // POSTs, which the cross-site check refuses.
    set(h, "referrer-policy", "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    r
}

fn refuse(reason: Refusal, status: StatusCode, text: &'static str) -> Response {
    console_metrics()
        .refused
        .with_label_values(&[reason.as_str()])
        .inc();
    tracing::warn!(reason = reason.as_str(), "Console request refused.");
    (status, text).into_response()
}

/// Lets through authenticated requests; a POST also must come from this site and, on a
/// session, carry the session's CSRF token.
async fn guard(State(c): State<Console>, req: Request, next: Next) -> Response {
    let Some(who) = c.inner.auth.who(req.headers()) else {
        if req.method() == Method::GET {
            return Redirect::to("/console/login").into_response();
        }
        return refuse(
            Refusal::Unauthenticated,
            StatusCode::UNAUTHORIZED,
            "Log in to the console first (or send Authorization: Bearer <token>).\n",
        );
    };
    let (mut parts, body) = req.into_parts();
    if parts.method == Method::GET {
        parts.extensions.insert(who);
        return next.run(Request::from_parts(parts, body)).await;
    }
    if cross_site(&parts.method, &parts.headers) {
        return refuse(
            Refusal::CrossSite,
            StatusCode::FORBIDDEN,
            "Refused: this request comes from another site.\n",
        );
    }
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "Form too large.\n").into_response();
    };
    let presented = url::form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    if !csrf_ok(&who, presented.as_deref()) {
        return refuse(
            Refusal::Csrf,
            StatusCode::FORBIDDEN,
            "Refused: the form's CSRF token is missing or wrong; reload the page and try again.\n",
        );
    }
    parts.extensions.insert(who);
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("assets/console.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("assets/console.js"),
    )
        .into_response()
}

async fn login_form() -> Markup {
    login_page(false)
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(c): State<Console>, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    if cross_site(&Method::POST, &headers) {
        return refuse(
            Refusal::CrossSite,
            StatusCode::FORBIDDEN,
            "Refused: this request comes from another site.\n",
        );
    }
    let m = console_metrics();
    if !c.inner.auth.is_token(&f.token) {
        m.logins.with_label_values(&["wrong_token"]).inc();
        tracing::warn!("Console login with a wrong token.");
        // Slows down guessing.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        return (StatusCode::UNAUTHORIZED, login_page(true)).into_response();
    }
    m.logins.with_label_values(&["ok"]).inc();
    tracing::info!("Console login.");
    let id = c.inner.auth.login();
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session_set_cookie(&id, &headers)),
            (header::LOCATION, "/console".to_string()),
        ],
    )
        .into_response()
}

async fn logout(State(c): State<Console>, Extension(who): Extension<Who>) -> Response {
    c.inner.auth.logout(&who);
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, session_clear_cookie()),
            (header::LOCATION, "/console/login".to_string()),
        ],
    )
        .into_response()
}

/// Renders a page in the frame, or says the engine is starting.
async fn framed<F, Fut>(c: &Console, who: &Who, title: &str, nav: Nav, body: F) -> Response
where
    F: FnOnce(super::actions::Live) -> Fut,
    Fut: std::future::Future<Output = Markup>,
{
    let flash = c.inner.auth.take_flash(who);
    let Some(live) = c.live() else {
        let f = Frame {
            title,
            nav,
            csrf: who.csrf(),
            counts: (0, 0),
            flash,
        };
        let body = maud::html! { p { "The engine is still starting; this page refreshes when you reload it." } };
        return (StatusCode::SERVICE_UNAVAILABLE, page(f, body)).into_response();
    };
    let counts = (
        live.parts
            .store
            .errors()
            .map(|e| e.len())
            .unwrap_or_default(),
        live.parts
            .store
            .parked()
            .map(|p| p.len())
            .unwrap_or_default(),
    );
    let body = body(live).await;
    let f = Frame {
        title,
        nav,
        csrf: who.csrf(),
        counts,
        flash,
    };
    page(f, body).into_response()
}

async fn overview(State(c): State<Console>, Extension(who): Extension<Who>) -> Response {
    let activity = c.inner.activity.clone();
    let csrf = who.csrf().to_string();
    framed(&c, &who, "Mappings", Nav::Overview, |live| async move {
        pages::overview(&live, &activity, &csrf)
    })
    .await
}

async fn errors(State(c): State<Console>, Extension(who): Extension<Who>) -> Response {
    let csrf = who.csrf().to_string();
    framed(
        &c,
        &who,
        "Synchronisation errors",
        Nav::Errors,
        |live| async move { pages::errors(&live, &csrf).await },
    )
    .await
}

async fn parked(State(c): State<Console>, Extension(who): Extension<Who>) -> Response {
    framed(&c, &who, "Parked records", Nav::Parked, |live| async move {
        pages::parked(&live)
    })
    .await
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    mapping: String,
}

async fn couplings(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Query(s): Query<SearchQuery>,
) -> Response {
    let csrf = who.csrf().to_string();
    framed(&c, &who, "Couplings", Nav::Couplings, |live| async move {
        let only = Some(s.mapping.as_str()).filter(|m| !m.is_empty());
        records::search_page(&live, &s.q, only, &csrf)
    })
    .await
}

#[derive(Deserialize)]
struct RecordQuery {
    mapping: String,
    key: String,
}

async fn record(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Query(r): Query<RecordQuery>,
) -> Response {
    let csrf = who.csrf().to_string();
    framed(&c, &who, "Record", Nav::Couplings, |live| async move {
        records::record_page(&live, &r.mapping, &r.key, &csrf).await
    })
    .await
}

/// The fields of the action forms.
#[derive(Deserialize)]
struct ActionForm {
    mapping: String,
    record: String,
    /// `record` (the record's page) or a console path to return to.
    #[serde(default)]
    back: String,
    /// Couple: the other side's id.
    #[serde(default)]
    other: String,
}

impl ActionForm {
    /// Where to go after the action: the record's page, or a console page (never elsewhere).
    fn back(&self) -> String {
        if self.back == "record" {
            return format!(
                "/console/record?mapping={}&key={}",
                urlencoding::encode(&self.mapping),
                urlencoding::encode(&self.record)
            );
        }
        match self.back.as_str() {
            "/console/errors" | "/console/parked" | "/console/couplings" => self.back.clone(),
            _ => "/console".into(),
        }
    }
}

/// Answers an action: on a session, the message waits for the next page and the browser
/// goes back; on a bearer request, the message is the answer.
fn answer(
    c: &Console,
    who: &Who,
    action: &'static str,
    f: &ActionForm,
    result: Result<(bool, String), super::error::ConsoleError>,
) -> Response {
    let (ok, text, status) = match result {
        Ok((ok, text)) => (ok, text, StatusCode::OK),
        Err(e) => {
            tracing::warn!(action, mapping = %f.mapping, record = %f.record, class = e.class(), error = %e, "Console action failed.");
            let status = match e.actor() {
                crate::error::Actor::User => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            (false, e.to_string(), status)
        }
    };
    console_metrics()
        .actions
        .with_label_values(&[action, if ok { "ok" } else { "failed" }])
        .inc();
    match who {
        Who::Bearer => (status, format!("{text}\n")).into_response(),
        Who::Session { .. } => {
            c.inner.auth.flash(who, Flash { ok, text });
            Redirect::to(&f.back()).into_response()
        }
    }
}

/// The running engine, or "starting".
fn live(c: &Console) -> Result<super::actions::Live, super::error::ConsoleError> {
    c.live().ok_or(super::error::ConsoleError::Starting)
}

async fn retry(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Form(f): Form<ActionForm>,
) -> Response {
    let r = match live(&c) {
        Ok(l) => l.retry(&f.mapping, &f.record).await,
        Err(e) => Err(e),
    };
    answer(&c, &who, "retry", &f, r)
}

async fn skip(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Form(f): Form<ActionForm>,
) -> Response {
    let r = live(&c).and_then(|l| l.skip(&f.mapping, &f.record).map(|t| (true, t)));
    answer(&c, &who, "skip", &f, r)
}

async fn couple_ids(
    c: &Console,
    f: &ActionForm,
) -> Result<(bool, String), super::error::ConsoleError> {
    let l = live(c)?;
    let m = l.mapping(&f.mapping)?;
    let (key, side) = l.record_of(&m, &f.record)?;
    let other = f.other.trim();
    let (crm, erp) = if side.is_crm() {
        (key.id.as_str(), other)
    } else {
        (other, key.id.as_str())
    };
    l.couple(&f.mapping, crm, erp).await.map(|t| (true, t))
}

async fn couple(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Form(f): Form<ActionForm>,
) -> Response {
    let r = couple_ids(&c, &f).await;
    answer(&c, &who, "couple", &f, r)
}

async fn uncouple(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Form(f): Form<ActionForm>,
) -> Response {
    let r = match live(&c) {
        Ok(l) => l.uncouple(&f.mapping, &f.record).await.map(|t| (true, t)),
        Err(e) => Err(e),
    };
    answer(&c, &who, "uncouple", &f, r)
}

async fn sync_now(
    State(c): State<Console>,
    Extension(who): Extension<Who>,
    Form(f): Form<ActionForm>,
) -> Response {
    let r = match live(&c) {
        Ok(l) => l.sync_now(&f.mapping, &f.record).await,
        Err(e) => Err(e),
    };
    answer(&c, &who, "sync_now", &f, r)
}
