//! Who may use the console, and protection of its forms against cross-site requests.
//!
//! - The token is configured (`[console] token_env`), never logged, and compared in constant
//!   time (SHA-256 digests compared with `subtle`). An operator types it once on the login
//!   page, which opens a session: a random id in an `HttpOnly; SameSite=Strict` cookie scoped
//!   to `/console`, kept in memory for [`SESSION_TTL`]. Scripts send it as
//!   `Authorization: Bearer <token>` instead.
//! - Every POST is refused when the browser says it comes from another site
//!   (`Sec-Fetch-Site: cross-site|same-site`) or names another origin (`Origin` not this
//!   host); a POST on a session must also carry the session's CSRF token (a hidden field of
//!   every form), so a forged form fails even where those headers are missing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, header};
use parking_lot::Mutex;
use subtle::ConstantTimeEq as _;

use crate::systems::Secret;

/// The session cookie's name.
pub const COOKIE: &str = "couplet_console";
/// How long a session lasts after login.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at most (the oldest goes first).
const MAX_SESSIONS: usize = 256;

fn digest(s: &str) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(s.as_bytes()).into()
}

/// 32 random bytes, hex.
fn random_hex() -> String {
    use rand::Rng as _;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// One line shown once on the next page (what an action did).
#[derive(Debug, Clone, PartialEq)]
pub struct Flash {
    /// True for success, false for a refusal or failure.
    pub ok: bool,
    /// The message.
    pub text: String,
}

#[derive(Debug)]
struct Session {
    csrf: String,
    expires: Instant,
    flash: Vec<Flash>,
}

/// How a request is authenticated.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    /// A browser session: its id (a digest of the cookie) and CSRF token.
    Session {
        /// The digest of the cookie's value.
        id: [u8; 32],
        /// The token every form of this session carries.
        csrf: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer,
}

impl Who {
    /// The CSRF token forms carry (empty for bearer requests, which need none).
    pub fn csrf(&self) -> &str {
        match self {
            Who::Session { csrf, .. } => csrf,
            Who::Bearer => "",
        }
    }
}

/// Why a request was refused (the label of `couplet_console_refused_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No valid session or token.
    Unauthenticated,
    /// `Sec-Fetch-Site` or `Origin` say another site sent it.
    CrossSite,
    /// A session's POST without its CSRF token.
    Csrf,
}

impl Refusal {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unauthenticated => "unauthenticated",
            Refusal::CrossSite => "cross_site",
            Refusal::Csrf => "csrf",
        }
    }
}

/// The token and the open sessions.
pub struct Auth {
    token: [u8; 32],
    sessions: Mutex<HashMap<[u8; 32], Session>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("sessions", &self.sessions.lock().len())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Auth with `token`.
    pub fn new(token: &Secret) -> Auth {
        Auth {
            token: digest(token.expose().trim()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// True when `presented` is the token (constant time).
    pub fn is_token(&self, presented: &str) -> bool {
        digest(presented.trim()).ct_eq(&self.token).into()
    }

    /// Opens a session; returns the cookie's value.
    pub fn login(&self) -> String {
        let id = random_hex();
        let mut s = self.sessions.lock();
        let now = Instant::now();
        s.retain(|_, v| v.expires > now);
        while s.len() >= MAX_SESSIONS {
            let Some(oldest) = s.iter().min_by_key(|(_, v)| v.expires).map(|(k, _)| *k) else {
                break;
            };
            s.remove(&oldest);
        }
        s.insert(
            digest(&id),
            Session {
                csrf: random_hex(),
                expires: now + SESSION_TTL,
                flash: Vec::new(),
            },
        );
        id
    }

    /// Closes a session.
    pub fn logout(&self, who: &Who) {
        if let Who::Session { id, .. } = who {
            self.sessions.lock().remove(id);
        }
    }

    /// How the request is authenticated, if it is.
    pub fn who(&self, headers: &HeaderMap) -> Option<Who> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(t) = bearer {
            return self.is_token(t).then_some(Who::Bearer);
        }
        let id = session_cookie(headers)?;
        let key = digest(&id);
        let s = self.sessions.lock();
        let session = s.get(&key).filter(|v| v.expires > Instant::now())?;
        Some(Who::Session {
            id: key,
            csrf: session.csrf.clone(),
        })
    }

    /// Notes a message for the session's next page.
    pub fn flash(&self, who: &Who, f: Flash) {
        if let Who::Session { id, .. } = who
            && let Some(s) = self.sessions.lock().get_mut(id)
        {
            s.flash.push(f);
        }
    }

    /// Takes the session's pending messages.
    pub fn take_flash(&self, who: &Who) -> Vec<Flash> {
        match who {
            Who::Session { id, .. } => self
                .sessions
                .lock()
                .get_mut(id)
                .map(|s| std::mem::take(&mut s.flash))
                .unwrap_or_default(),
            Who::Bearer => Vec::new(),
        }
    }
}

/// The session cookie's value, if the request has one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_string())
}

/// The `Set-Cookie` value opening a session (`Secure` when the request came through HTTPS,
/// as a TLS proxy says with `X-Forwarded-Proto`).
pub fn session_set_cookie(id: &str, headers: &HeaderMap) -> String {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    cookie::Cookie::build((COOKIE, id.to_string()))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(https)
        .max_age(cookie::time::Duration::seconds(SESSION_TTL.as_secs() as i64))
        .build()
        .to_string()
}

/// The `Set-Cookie` value closing a session.
pub fn session_clear_cookie() -> String {
    cookie::Cookie::build((COOKIE, ""))
        .path("/console")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// Refuses a state-changing request that a browser says comes from another site: a
/// `Sec-Fetch-Site` other than `same-origin` / `none`, or an `Origin` that is not this host.
pub fn cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return false;
    }
    let text = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    match (text("origin"), text("host")) {
        (None, _) => false,
        (Some(origin), Some(host)) => {
            let bare = origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"));
            bare != Some(host)
        }
        (Some(_), None) => true,
    }
}

/// True when a session's form carries its CSRF token (bearer requests need none).
pub fn csrf_ok(who: &Who, presented: Option<&str>) -> bool {
    match who {
        Who::Bearer => true,
        Who::Session { csrf, .. } => {
            presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(csrf.as_bytes())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_token_opens_a_session_and_nothing_else_does() {
        let auth = Auth::new(&Secret::new("console-token-0123456789"));
        assert!(auth.is_token("console-token-0123456789"));
        assert!(!auth.is_token("console-token-012345678"));
        assert!(auth.who(&HeaderMap::new()).is_none());
        let bad = headers(&[("authorization", "Bearer nope")]);
        assert!(auth.who(&bad).is_none());
        let good = headers(&[("authorization", "Bearer console-token-0123456789")]);
        assert_eq!(auth.who(&good), Some(Who::Bearer));
        let id = auth.login();
        let with = headers(&[("cookie", &format!("other=1; {COOKIE}={id}"))]);
        let who = auth.who(&with).expect("a session");
        assert_eq!(who.csrf().len(), 64);
        assert!(csrf_ok(&who, Some(who.csrf())));
        assert!(!csrf_ok(&who, Some("forged")));
        assert!(!csrf_ok(&who, None));
        let forged = headers(&[("cookie", &format!("{COOKIE}={}", random_hex()))]);
        assert!(auth.who(&forged).is_none());
        auth.logout(&who);
        assert!(auth.who(&with).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_scoped() {
        let c = session_set_cookie("abc", &HeaderMap::new());
        for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Secure"), "{c}");
        let https = headers(&[("x-forwarded-proto", "https")]);
        assert!(session_set_cookie("abc", &https).contains("Secure"));
    }

    #[test]
    fn posts_from_other_sites_are_refused() {
        let post = Method::POST;
        let h = |pairs: &[(&'static str, &str)]| cross_site(&post, &headers(pairs));
        assert!(!h(&[("host", "127.0.0.1:9464")]));
        assert!(!h(&[
            ("host", "127.0.0.1:9464"),
            ("origin", "http://127.0.0.1:9464"),
            ("sec-fetch-site", "same-origin"),
        ]));
        assert!(h(&[
            ("host", "127.0.0.1:9464"),
            ("origin", "http://evil.example")
        ]));
        assert!(h(&[
            ("host", "127.0.0.1:9464"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(h(&[("host", "127.0.0.1:9464"), ("origin", "null"),]));
        assert!(!cross_site(
            &Method::GET,
            &headers(&[("origin", "http://evil.example")])
        ));
    }

    #[test]
    fn flash_messages_are_shown_once() {
        let auth = Auth::new(&Secret::new("console-token-0123456789"));
        let id = auth.login();
        let who = auth
            .who(&headers(&[("cookie", &format!("{COOKIE}={id}"))]))
            .unwrap();
        auth.flash(
            &who,
            Flash {
                ok: true,
                text: "done".into(),
            },
        );
        assert_eq!(auth.take_flash(&who).len(), 1);
        assert!(auth.take_flash(&who).is_empty());
    }
}
