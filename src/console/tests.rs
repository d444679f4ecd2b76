//! The console's guard, served on a real listener: the login, the session cookie, the CSRF
//! token and the cross-site checks (the pages and actions against a running engine are in
//! the browser test, `tests/cli/console_browser.rs`).

use super::*;
use crate::metrics_server::MetricsServer;

const TOKEN: &str = "console-test-token-0123456789";

struct Served {
    server: MetricsServer,
    http: reqwest::Client,
}

impl Served {
    async fn start(console: Option<Console>) -> Served {
        let server = MetricsServer::start_with_routes(
            "127.0.0.1:0".parse().unwrap(),
            None,
            console.map(routes::router),
        )
        .await
        .unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Served { server, http }
    }
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.local_addr())
    }
    fn origin(&self) -> String {
        format!("http://{}", self.server.local_addr())
    }
    /// Logs in; returns the cookie header and the session's CSRF token.
    async fn login(&self) -> (String, String) {
        let r = self
            .http
            .post(self.url("/console/login"))
            .header("origin", self.origin())
            .form(&[("token", TOKEN)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let set = r
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        let cookie = set.split(';').next().unwrap().to_string();
        let page = self
            .http
            .get(self.url("/console"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        let csrf = page[at..at + 64].to_string();
        (cookie, csrf)
    }
}

#[tokio::test]
async fn without_a_token_the_console_is_off() {
    let s = Served::start(None).await;
    for path in ["/console", "/console/login", "/console/errors"] {
        let r = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
    }
    let r = s
        .http
        .post(s.url("/console/errors/retry"))
        .form(&[("mapping", "CUSTOMER"), ("record", "bc/customers/1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(
        s.http.get(s.url("/healthz")).send().await.unwrap().status(),
        200
    );
    s.server.shutdown().await;
}

#[tokio::test]
async fn pages_need_a_login_and_a_wrong_token_is_refused() {
    let s = Served::start(Some(Console::new(&Secret::new(TOKEN)))).await;
    let r = s.http.get(s.url("/console/errors")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/console/login");
    let r = s
        .http
        .post(s.url("/console/login"))
        .form(&[("token", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    // A session opens the pages (the engine is not attached here: "starting").
    let (cookie, _) = s.login().await;
    let r = s
        .http
        .get(s.url("/console/errors"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(r.text().await.unwrap().contains("still starting"));
    // So does the token as a bearer header.
    let r = s
        .http
        .get(s.url("/console"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    s.server.shutdown().await;
}

#[tokio::test]
async fn a_post_without_the_csrf_token_or_from_another_origin_is_refused() {
    let s = Served::start(Some(Console::new(&Secret::new(TOKEN)))).await;
    let (cookie, csrf) = s.login().await;
    let form = |csrf: Option<&str>| {
        let mut f = vec![
            ("mapping", "CUSTOMER".to_string()),
            ("record", "bc/customers/1".to_string()),
        ];
        if let Some(c) = csrf {
            f.push(("csrf", c.to_string()));
        }
        f
    };
    let post = |csrf: Option<&str>, origin: Option<&str>, site: Option<&str>| {
        let mut r = s
            .http
            .post(s.url("/console/errors/skip"))
            .header("cookie", &cookie)
            .form(&form(csrf));
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        if let Some(v) = site {
            r = r.header("sec-fetch-site", v);
        }
        r.send()
    };
    let origin = s.origin();
    let refused_before = metrics::console_metrics()
        .refused
        .with_label_values(&["csrf"])
        .get();
    // No CSRF token, a wrong one, another origin, another site: refused.
    let r = post(None, Some(&origin), Some("same-origin"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("CSRF"));
    let r = post(Some("0".repeat(64).as_str()), Some(&origin), None)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = post(Some(&csrf), Some("http://evil.example"), None)
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("another site"));
    let r = post(Some(&csrf), Some(&origin), Some("cross-site"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(
        metrics::console_metrics()
            .refused
            .with_label_values(&["csrf"])
            .get()
            >= refused_before + 2
    );
    // The session's own form goes through the guard (the engine is not attached: the
    // action answers "starting" on the next page).
    let r = post(Some(&csrf), Some(&origin), Some("same-origin"))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/console");
    let page = s
        .http
        .get(s.url("/console"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("the engine is still starting"), "{page}");
    // A logged-out session is refused.
    let r = s
        .http
        .post(s.url("/console/logout"))
        .header("cookie", &cookie)
        .header("origin", &origin)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let r = post(Some(&csrf), Some(&origin), None).await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    s.server.shutdown().await;
}

#[tokio::test]
async fn a_bearer_request_needs_no_form_token_but_still_no_foreign_origin() {
    let s = Served::start(Some(Console::new(&Secret::new(TOKEN)))).await;
    let post = |origin: Option<&str>| {
        let mut r = s
            .http
            .post(s.url("/console/errors/retry"))
            .bearer_auth(TOKEN)
            .form(&[("mapping", "CUSTOMER"), ("record", "bc/customers/1")]);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    let r = post(None).await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().await.unwrap().contains("still starting"));
    let r = post(Some("http://evil.example")).await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = s
        .http
        .post(s.url("/console/errors/retry"))
        .bearer_auth("wrong-token")
        .form(&[("mapping", "CUSTOMER"), ("record", "bc/customers/1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    s.server.shutdown().await;
}
