//! The authenticator a connector gives the shared HTTP client: credentials on every attempt,
//! renewed once after a 401 with the request retried once; Entra ID bearer tokens one per
//! scope; a session-cookie login (as SAP Business One's) written outside the generic files.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use couplet::systems::http::authenticator::set_secret_header;
use couplet::systems::{
    ApiClient, Authenticator, BC, BearerAuth, Credential, DATAVERSE, HttpConfig, Secret,
    SystemError, TokenCache,
};
use parking_lot::Mutex;
use serde_json::json;

use crate::systems_support::{Server, reply, serve};

fn http() -> HttpConfig {
    HttpConfig {
        timeout: Duration::from_secs(5),
        max_attempts: 4,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(100),
        max_retry_after: Duration::from_secs(5),
        max_throttled: Duration::from_secs(60),
    }
}

/// A session login in the manner of SAP B1's Service Layer: a `B1SESSION` cookie per
/// session, a new session after a 401 (here without the login request).
#[derive(Debug, Default)]
struct Sessions {
    session: Mutex<u32>,
    logins: Mutex<u32>,
    unauthorised: Mutex<Vec<String>>,
    give_up: bool,
}

#[async_trait]
impl Authenticator for Sessions {
    async fn authorise(&self, request: &mut reqwest::Request) -> Result<Credential, SystemError> {
        let id = format!("s-{}", *self.session.lock());
        set_secret_header(
            BC,
            request,
            reqwest::header::COOKIE,
            &format!("B1SESSION={id}; ROUTEID=.node1"),
        )?;
        Ok(Credential::new(id))
    }

    fn on_unauthorised(&self, used: &Credential) -> bool {
        self.unauthorised.lock().push(used.expose().to_string());
        let mut session = self.session.lock();
        if format!("s-{}", *session) == used.expose() {
            *session += 1;
            *self.logins.lock() += 1;
        }
        !self.give_up
    }
}

fn client(auth: Arc<dyn Authenticator>) -> ApiClient {
    ApiClient::new(BC, http())
        .expect("client")
        .with_authenticator(auth)
}

async fn get(api: &ApiClient, srv: &Server, path: &str) -> Result<serde_json::Value, SystemError> {
    let url = format!("{}{path}", srv.base);
    api.send_json("get", |c| c.get(&url)).await
}

#[tokio::test]
async fn a_401_renews_the_credentials_once_and_retries_the_request_once() {
    let srv = serve(|s, _| {
        Some(if s.header("cookie").starts_with("B1SESSION=s-0;") {
            reply(
                401,
                json!({"error":{"code":301,"message":{"lang":"en-us","value":"Invalid session."}}}),
            )
        } else {
            reply(200, json!({"value":[]}))
        })
    })
    .await;
    let auth = Arc::new(Sessions::default());
    let api = client(auth.clone());
    assert_eq!(
        get(&api, &srv, "b1s/v1/Orders").await.expect("retried"),
        json!({"value":[]})
    );
    let seen = srv.seen("/Orders");
    assert_eq!(seen.len(), 2, "the request and one retry");
    assert_eq!(seen[1].header("cookie"), "B1SESSION=s-1; ROUTEID=.node1");
    assert_eq!(*auth.unauthorised.lock(), vec!["s-0".to_string()]);
    assert_eq!(*auth.logins.lock(), 1);
    // The renewed session is kept: no further 401, no further login.
    get(&api, &srv, "b1s/v1/Orders").await.expect("second");
    assert_eq!(srv.seen("/Orders").len(), 3);
    assert_eq!(*auth.logins.lock(), 1);
}

#[tokio::test]
async fn a_second_401_fails_without_another_renewal() {
    let srv = serve(|_, _| Some(reply(401, json!({"error":{"code":"","message":"no"}})))).await;
    let auth = Arc::new(Sessions::default());
    let err = get(&client(auth.clone()), &srv, "x")
        .await
        .expect_err("401 twice");
    assert!(matches!(err, SystemError::Auth { .. }), "{err:?}");
    assert_eq!(srv.seen("/x").len(), 2);
    assert_eq!(auth.unauthorised.lock().len(), 1);

    // An authenticator that cannot renew: no retry at all.
    let auth = Arc::new(Sessions {
        give_up: true,
        ..Sessions::default()
    });
    let err = get(&client(auth.clone()), &srv, "y")
        .await
        .expect_err("401");
    assert!(matches!(err, SystemError::Auth { .. }), "{err:?}");
    assert_eq!(srv.seen("/y").len(), 1);
}

#[tokio::test]
async fn bearer_tokens_are_one_per_scope_cached_and_renewed_after_a_401() {
    let srv = serve(|s, _| {
        if s.path.ends_with("/token") {
            return None;
        }
        // The first token of the BC host has been revoked.
        if s.path.starts_with("/bc/") && s.header("authorization") == "Bearer tok-2" {
            return Some(reply(401, json!({"error":{"code":"","message":"revoked"}})));
        }
        Some(reply(200, json!({"auth": s.header("authorization")})))
    })
    .await;
    let tokens = Arc::new(TokenCache::new(
        &srv.base,
        "tenant",
        "app-id",
        Secret::new("s3cr3t"),
        http(),
    ));
    let dv = ApiClient::new(DATAVERSE, http())
        .expect("client")
        .with_authenticator(Arc::new(BearerAuth::new(
            DATAVERSE,
            tokens.clone(),
            "https://org.crm.dynamics.com/.default",
        )));
    let bc = client(Arc::new(BearerAuth::new(
        BC,
        tokens.clone(),
        "https://api.businesscentral.dynamics.com/.default",
    )));
    let auth_of = |v: serde_json::Value| v["auth"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        auth_of(get(&dv, &srv, "dv/a").await.expect("dv")),
        "Bearer tok-1"
    );
    assert_eq!(
        auth_of(get(&bc, &srv, "bc/a").await.expect("bc")),
        "Bearer tok-3"
    );
    assert_eq!(
        auth_of(get(&dv, &srv, "dv/b").await.expect("dv")),
        "Bearer tok-1"
    );
    assert_eq!(
        auth_of(get(&bc, &srv, "bc/b").await.expect("bc")),
        "Bearer tok-3"
    );
    let fetches = srv.seen("/token");
    assert_eq!(fetches.len(), 3, "one per scope, and one after the 401");
    assert!(fetches[0].body.contains("org.crm.dynamics.com"));
    assert!(fetches[1].body.contains("api.businesscentral.dynamics.com"));
    assert!(fetches[2].body.contains("api.businesscentral.dynamics.com"));
    assert_eq!(srv.seen("/bc/").len(), 3, "one 401 retried once");
    let shown = format!("{dv:?} {bc:?}");
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("tok-"),
        "{shown}"
    );
}
