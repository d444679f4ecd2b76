//! The system clients against a tiny scripted HTTP server: tokens, throttling, retries,
//! error mapping, Dataverse change tracking and Business Central concurrency.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use couplet::error::Classify;
use couplet::event::key::Fields;
use couplet::systems::{
    BcClient, BcConfig, DATAVERSE, DataverseClient, DataverseConfig, HttpConfig, Secret,
    SystemError, Target, TokenCache,
};
use parking_lot::Mutex;
use serde_json::json;
use tokio::time::Instant;

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

fn tokens(srv: &Server) -> Arc<TokenCache> {
    Arc::new(TokenCache::new(
        &srv.base,
        "contoso.onmicrosoft.com",
        "app-id",
        Secret::new("s/cr&t="),
        http(),
    ))
}

fn dataverse(srv: &Server) -> DataverseClient {
    let cfg = DataverseConfig {
        url: srv.base.clone(),
        page_size: 2,
    };
    DataverseClient::new(&cfg, tokens(srv), http()).expect("client")
}

fn bc(srv: &Server) -> BcClient {
    let cfg = BcConfig {
        api_url: format!("{}v2.0/t/prod/api/v2.0/", srv.base),
        company_id: "11111111-1111-1111-1111-111111111111".into(),
        resource: "https://api.businesscentral.dynamics.com".into(),
        page_size: 100,
    };
    BcClient::new(&cfg, tokens(srv), http()).expect("client")
}

const ID: &str = "00000000-0000-0000-0000-000000000001";

#[tokio::test]
async fn tokens_are_cached_refreshed_and_fetched_once_for_concurrent_callers() {
    let srv = serve(|_, n| {
        let mut r = reply(
            200,
            json!({"token_type":"Bearer","expires_in":1,"access_token":format!("short-{n}")}),
        );
        r.delay = Duration::from_millis(150);
        Some(r)
    })
    .await;
    let cache = Arc::new(TokenCache::new(
        &srv.base,
        "short",
        "app-id",
        Secret::new("s/cr&t="),
        http(),
    ));
    let scope = "https://org.crm.dynamics.com/.default";
    let calls = (0..5).map(|_| {
        let c = cache.clone();
        tokio::spawn(async move { c.token(DATAVERSE, scope).await })
    });
    for call in calls {
        assert_eq!(call.await.expect("join").expect("token"), "short-0");
    }
    let fetches = srv.seen("/oauth2/v2.0/token");
    assert_eq!(fetches.len(), 1, "single flight");
    let form = &fetches[0].body;
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(form.contains("client_secret=s%2Fcr%26t%3D"), "{form}");
    assert!(
        form.contains("scope=https%3A%2F%2Forg.crm.dynamics.com%2F.default"),
        "{form}"
    );
    assert_eq!(fetches[0].path, "/short/oauth2/v2.0/token");
    assert_eq!(
        cache.token(DATAVERSE, scope).await.expect("cached"),
        "short-0"
    );
    assert_eq!(srv.seen("/oauth2").len(), 1);
    // expires_in 1 s: refreshed 10% (0.1 s) before expiry.
    tokio::time::sleep(Duration::from_millis(950)).await;
    assert_eq!(
        cache.token(DATAVERSE, scope).await.expect("refreshed"),
        "short-1"
    );
    cache.invalidate(scope);
    assert_eq!(
        cache.token(DATAVERSE, scope).await.expect("refetched"),
        "short-2"
    );
    assert!(!format!("{cache:?}").contains("s/cr&t="));
}

#[tokio::test]
async fn entra_errors_name_the_setting_and_hide_the_secret() {
    let srv = serve(|s, _| {
        s.path.ends_with("/token").then(|| {
            reply(
                401,
                json!({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1","error_codes":[7000215]}),
            )
        })
    })
    .await;
    let cache = TokenCache::new(
        &srv.base,
        "tenant",
        "app-id",
        Secret::new("topsecret"),
        http(),
    );
    let err = cache
        .token(DATAVERSE, "https://org.crm.dynamics.com/.default")
        .await
        .expect_err("bad secret");
    let text = err.to_string();
    assert!(matches!(err, SystemError::Auth { .. }), "{err:?}");
    assert!(
        text.contains("AADSTS7000215") && text.contains("not its id"),
        "{text}"
    );
    assert!(!text.contains("topsecret") && !format!("{err:?}").contains("topsecret"));
    assert_eq!(srv.seen("/token").len(), 1, "auth failures are not retried");
}

#[tokio::test]
async fn retry_after_pauses_the_whole_host() {
    let srv = serve(|s, n| {
        if s.path.ends_with("/token") {
            return None;
        }
        if s.path.contains(ID) && n < 2 {
            let mut r = reply(
                429,
                json!({"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}),
            );
            r.headers.push(("retry-after", "1".into()));
            return Some(r);
        }
        Some(reply(200, json!({"accountid": "x", "name": "A"})))
    })
    .await;
    let dv = dataverse(&srv);
    let throttled_before = couplet::metrics::metrics()
        .http_throttled
        .with_label_values(&["dataverse"])
        .get();
    let started = Instant::now();
    let first = {
        let dv = dv.clone();
        tokio::spawn(async move { dv.get("accounts", ID, &["name"]).await })
    };
    // Once the first 429 has arrived, a request for another record must wait too.
    while srv.seen(ID).is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let first_429 = srv.seen(ID)[0].at;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let other = "00000000-0000-0000-0000-000000000002";
    let second = dv.get("accounts", other, &[]).await.expect("second");
    assert!(second.is_some());
    let got = first.await.expect("join").expect("first").expect("found");
    assert_eq!(got.get("name"), Some(&json!("A")));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(srv.seen(ID).len(), 3);
    let other_at = srv.seen(other)[0].at;
    assert!(
        other_at.duration_since(first_429) >= Duration::from_millis(900),
        "the concurrent request was not held back"
    );
    let throttled_after = couplet::metrics::metrics()
        .http_throttled
        .with_label_values(&["dataverse"])
        .get();
    assert!(throttled_after >= throttled_before + 2);
    let seen = &srv.seen(ID)[2];
    assert_eq!(seen.header("authorization"), "Bearer tok-1");
    assert_eq!(seen.header("odata-version"), "4.0");
    assert_eq!(seen.header("if-none-match"), "null");
    assert_eq!(seen.query, "$select=name");
}

/// A 429 with `Retry-After` is back-pressure: more of them than `max_attempts` (4 here) still
/// end in the answer, and only a system that throttles past `max_throttled` fails the request.
#[tokio::test]
async fn throttling_uses_up_no_attempt_and_is_bounded_in_time() {
    let throttle =
        |r: &mut crate::systems_support::Reply| r.headers.push(("retry-after", "0.05".into()));
    let srv = serve(move |s, n| {
        if s.path.ends_with("/token") {
            return None;
        }
        if s.path.contains(ID) && n < 9 {
            let mut r = reply(429, json!({"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}));
            throttle(&mut r);
            return Some(r);
        }
        if s.path.contains(ID) {
            return Some(reply(200, json!({"accountid": ID, "name": "A"})));
        }
        let mut r = reply(429, json!({"error":{"code":"0x80072322","message":"Number of requests exceeded the limit"}}));
        throttle(&mut r);
        Some(r)
    })
    .await;
    let dv = dataverse(&srv);
    let got = dv
        .get("accounts", ID, &["name"])
        .await
        .expect("answered")
        .expect("found");
    assert_eq!(got.get("name"), Some(&json!("A")));
    assert_eq!(
        srv.seen(ID).len(),
        10,
        "9 throttled answers, then the record"
    );

    // A system that never stops throttling fails the request once the waits add up past
    // max_throttled (here 0.3 s: about 7 answers of 0.05 s), as throttled, not before.
    let bounded = DataverseClient::new(
        &DataverseConfig {
            url: srv.base.clone(),
            page_size: 10,
        },
        tokens(&srv),
        HttpConfig {
            max_throttled: Duration::from_millis(300),
            ..http()
        },
    )
    .expect("client");
    let other = "00000000-0000-0000-0000-000000000003";
    let err = bounded
        .get("accounts", other, &[])
        .await
        .expect_err("throttled for good");
    assert_eq!(err.class(), "throttled");
    let answers = srv.seen(other).len();
    assert!(
        (6..=8).contains(&answers),
        "{answers} throttled answers before giving up"
    );
}

#[tokio::test]
/// A 503 refuses a request before it is processed: the create is sent again. A 502 (a gateway
/// gave up) may hide a create that happened: it is not sent again by the client but returned
/// as unavailable (the apply stage waits and retries the write through its create intent, which
/// first looks for the record). A validation error is not retried.
async fn a_refused_create_is_resent_an_unknown_outcome_is_not_and_validation_is_not() {
    let srv = serve(|s, n| {
        if s.path.ends_with("/token") {
            return None;
        }
        if s.path.ends_with("/contacts") && s.method == Method::POST {
            return Some(reply(
                400,
                json!({"error":{"code":"0x80044331","message":"The length of the 'lastname' attribute of the 'contact' entity exceeded the maximum allowed length of '50'."}}),
            ));
        }
        if n == 0 {
            return Some(reply(503, json!({"error":{"code":"","message":"busy"}})));
        }
        if n == 1 {
            return Some(reply(502, serde_json::Value::Null));
        }
        Some(reply(
            201,
            json!({"@odata.etag":"W/\"7\"","accountid":ID,"name":"A","modifiedon":"2024-05-01T10:00:00Z"}),
        ))
    })
    .await;
    let dv = dataverse(&srv);
    let mut body = Fields::new();
    body.insert("name".into(), json!("A"));
    let unknown = dv
        .create("accounts", &body)
        .await
        .expect_err("a 502 after a POST is not resent");
    assert!(
        matches!(
            unknown,
            SystemError::Unavailable {
                status: Some(502),
                ..
            }
        ),
        "{unknown:?}"
    );
    assert!(
        unknown.to_string().contains("outcome is unknown"),
        "{unknown}"
    );
    assert_eq!(
        srv.seen("/accounts").len(),
        2,
        "the 503 was resent, the 502 not"
    );
    let w = dv.create("accounts", &body).await.expect("created");
    assert_eq!(w.id, ID);
    assert_eq!(w.etag.as_deref(), Some("W/\"7\""));
    assert!(w.modified_on.is_some());
    let posts = srv.seen("/accounts");
    assert_eq!(posts.len(), 3);
    // The representation is read like a record: with the lookup annotation Couplet reads.
    assert_eq!(
        posts[2].header("prefer"),
        "return=representation,odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\""
    );
    assert_eq!(posts[2].header("content-type"), "application/json");
    assert_eq!(posts[2].body, r#"{"name":"A"}"#);

    let err = dv.create("contacts", &body).await.expect_err("rejected");
    match &err {
        SystemError::Rejected {
            status,
            code,
            field,
            ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(code, "0x80044331");
            assert_eq!(field.as_deref(), Some("lastname"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.class(), "validation");
    assert_eq!(srv.seen("/contacts").len(), 1);
}

#[tokio::test]
async fn dataverse_writes_are_update_only_and_deletes_idempotent() {
    let srv = serve(|s, _| {
        if s.path.ends_with("/token") {
            return None;
        }
        match s.method {
            Method::PATCH if s.header("if-match") == "W/\"1\"" => Some(reply(
                412,
                json!({"error":{"code":"0x80060882","message":"The version of the existing record doesn't match the RowVersion property provided."}}),
            )),
            Method::PATCH => Some(reply(200, json!({"accountid":ID,"name":"B"}))),
            _ => Some(reply(
                404,
                json!({"error":{"code":"0x80040217","message":"account With Id = x Does Not Exist"}}),
            )),
        }
    })
    .await;
    let dv = Target::new(std::sync::Arc::new(dataverse(&srv)));
    let body = Fields::new();
    let w = dv
        .update("accounts", ID, &body, None)
        .await
        .expect("updated");
    assert_eq!(w.fields.get("name"), Some(&json!("B")));
    assert_eq!(srv.seen(ID)[0].header("if-match"), "*");
    let err = dv
        .update("accounts", ID, &body, Some("W/\"1\""))
        .await
        .expect_err("stale");
    assert_eq!(err.class(), "conflict");
    assert_eq!(dv.get("accounts", ID).await.expect("get"), None);
    dv.delete("accounts", ID).await.expect("idempotent delete");
    let found = dv
        .find_eq("accounts", "name", &json!("O'Brien"))
        .await
        .expect_err("404 on query is an error");
    assert!(found.is_not_found());
    let q = srv.seen("/accounts").last().cloned().expect("query");
    assert_eq!(q.query, "$filter=name eq 'O''Brien'");
}

#[tokio::test]
async fn dataverse_delta_pages_and_expiry() {
    let srv = Arc::new(Mutex::new(String::new()));
    let base_cell = srv.clone();
    let server = serve(move |s, _| {
        if s.path.ends_with("/token") {
            return None;
        }
        let base = base_cell.lock().clone();
        let link = |q: &str| format!("{base}api/data/v9.2/accounts?{q}");
        if s.query.contains("$deltatoken=old") {
            return Some(reply(
                400,
                json!({"error":{"code":"0x80044352","message":"Version stamp associated with the client has expired. Please perform a full sync."}}),
            ));
        }
        if s.query.contains("$skiptoken=2") {
            return Some(reply(
                200,
                json!({"@odata.deltaLink": link("$select=name&$deltatoken=919042%2108"),
                       "value":[{"accountid":"c","name":"C"},
                                {"@odata.context":"x/$metadata#accounts/$deletedEntity","id":"gone","reason":"deleted"}]}),
            ));
        }
        Some(reply(
            200,
            json!({"@odata.nextLink": link("$select=name&$skiptoken=2"),
                   "value":[{"accountid":"a","name":"A"},{"accountid":"b","name":"B"}]}),
        ))
    })
    .await;
    *srv.lock() = server.base.clone();
    let dv = dataverse(&server);
    let first = dv.delta("accounts", &["name"], None).await.expect("page 1");
    assert_eq!(first.rows.len(), 2);
    assert!(first.delta_link.is_none());
    let next = first.next_link.expect("next link");
    let req = &server.seen("/accounts")[0];
    assert_eq!(req.query, "$select=name");
    assert_eq!(
        req.header("prefer"),
        "odata.track-changes,odata.maxpagesize=2,odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\""
    );
    let last = dv
        .delta("accounts", &["name"], Some(&next))
        .await
        .expect("page 2");
    assert_eq!(last.rows.len(), 1);
    assert_eq!(last.deleted, vec!["gone".to_string()]);
    assert!(last.next_link.is_none());
    assert!(last.delta_link.is_some());
    assert_eq!(
        server.seen("/accounts")[1].header("prefer"),
        "odata.track-changes,odata.maxpagesize=2,odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\""
    );
    let old = format!("{}api/data/v9.2/accounts?$deltatoken=old", server.base);
    let err = dv
        .delta("accounts", &["name"], Some(&old))
        .await
        .expect_err("expired");
    assert!(matches!(err, SystemError::DeltaExpired { .. }), "{err:?}");
    assert_eq!(err.class(), "delta_expired");
    let foreign = dv
        .delta(
            "accounts",
            &["name"],
            Some("http://elsewhere.example/steal"),
        )
        .await
        .expect_err("foreign link");
    assert_eq!(foreign.class(), "malformed");
}

#[tokio::test]
async fn bc_sends_if_match_and_maps_conflicts() {
    let srv = serve(|s, _| {
        if s.path.ends_with("/token") {
            return None;
        }
        match s.method {
            Method::PATCH if s.header("if-match") == "W/\"fresh\"" => Some(reply(
                200,
                json!({"@odata.etag":"W/\"newer\"","id":ID,"displayName":"B","lastModifiedDateTime":"2024-05-01T10:00:00.123Z"}),
            )),
            Method::PATCH => Some(reply(
                409,
                json!({"error":{"code":"Request_EntityChanged","message":"Another user has already changed the record."}}),
            )),
            _ => Some(reply(200, json!({"value":[{"id":"c1"}]}))),
        }
    })
    .await;
    let client = bc(&srv);
    let mut body = Fields::new();
    body.insert("displayName".into(), json!("B"));
    let w = client
        .update("customers", ID, &body, "W/\"fresh\"")
        .await
        .expect("updated");
    assert_eq!(w.etag.as_deref(), Some("W/\"newer\""));
    assert!(w.modified_on.is_some());
    let patch = &srv.seen("/customers")[0];
    assert_eq!(
        patch.path,
        format!(
            "/v2.0/t/prod/api/v2.0/companies(11111111-1111-1111-1111-111111111111)/customers({ID})"
        )
    );
    assert_eq!(patch.header("if-match"), "W/\"fresh\"");
    let err = client
        .update("customers", ID, &body, "W/\"stale\"")
        .await
        .expect_err("conflict");
    assert!(
        matches!(err, SystemError::Conflict { status: 409, .. }),
        "{err:?}"
    );

    let since = chrono::DateTime::parse_from_rfc3339("2024-01-02T03:04:05.678Z")
        .expect("date")
        .with_timezone(&chrono::Utc);
    let page = client
        .changed_since("customers", Some(since), None)
        .await
        .expect("poll");
    assert_eq!(page.rows.len(), 1);
    let poll = srv.seen("/customers").last().cloned().expect("poll");
    assert_eq!(
        poll.query,
        "$filter=lastModifiedDateTime ge 2024-01-02T03:04:05.678Z&$orderby=lastModifiedDateTime"
    );
    assert_eq!(poll.header("prefer"), "odata.maxpagesize=100");
    assert_eq!(client.companies().await.expect("companies").len(), 1);
    let scopes: Vec<String> = srv.seen("/token").iter().map(|s| s.body.clone()).collect();
    assert!(scopes[0].contains("scope=https%3A%2F%2Fapi.businesscentral.dynamics.com%2F.default"));
}

#[tokio::test]
async fn expired_tokens_are_refreshed_once() {
    let srv = serve(|s, _| {
        if s.path.ends_with("/token") {
            return None;
        }
        if s.header("authorization") == "Bearer tok-1" {
            return Some(reply(
                401,
                json!({"error":{"code":"","message":"ExpiredAuthTicket"}}),
            ));
        }
        Some(reply(200, json!({"value":[]})))
    })
    .await;
    let client = bc(&srv);
    assert!(client.companies().await.expect("companies").is_empty());
    assert_eq!(srv.seen("/token").len(), 2);
}

#[tokio::test]
async fn slow_answers_time_out() {
    let srv = serve(|s, _| {
        if s.path.ends_with("/token") {
            return None;
        }
        let mut r = reply(200, json!({"value":[]}));
        r.delay = Duration::from_secs(3);
        Some(r)
    })
    .await;
    let cfg = HttpConfig {
        timeout: Duration::from_millis(300),
        max_attempts: 2,
        ..http()
    };
    let dv = DataverseClient::new(
        &DataverseConfig {
            url: srv.base.clone(),
            page_size: 10,
        },
        tokens(&srv),
        cfg,
    )
    .expect("client");
    let started = Instant::now();
    let err = dv.get("accounts", ID, &[]).await.expect_err("timeout");
    assert!(started.elapsed() < Duration::from_secs(2));
    match &err {
        SystemError::Unavailable {
            status, message, ..
        } => {
            assert_eq!(*status, None);
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.class(), "unavailable");
    assert_eq!(srv.seen(ID).len(), 2);
}
