//! The Finance & Operations emulator over real HTTP, with a plain client: composite keys,
//! the default company and cross-company, F&O's `$filter`, errors, paging, ETags, `$batch`
//! changesets, throttling, the cold start and Business Events.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sandbox_support::bearer;
use couplet::sandbox::{BusinessEventsConfig, Fault, FoConfig, RateLimit, Sandbox, SandboxConfig};
use parking_lot::Mutex;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Fo {
    c: Client,
    base: String,
    token: String,
}

impl Fo {
    async fn new(sb: &Sandbox) -> Fo {
        let c = Client::new();
        let token = bearer(&c, sb, sb.fo_url().trim_end_matches('/')).await;
        Fo {
            c,
            base: sb.fo_data_url(),
            token,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.c.request(method, url).bearer_auth(&self.token)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn inner(v: &Value) -> &str {
    assert_eq!(v["error"]["code"], "", "{v}");
    v["error"]["innererror"]["message"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fo_entities_keys_companies_filters_and_etags() {
    let sb = Sandbox::start(SandboxConfig {
        records: 30,
        ..Default::default()
    })
    .await
    .unwrap();
    let fo = Fo::new(&sb).await;

    // Each system's token is for its own audience only.
    let dv_token = bearer(&fo.c, &sb, &sb.dataverse_url()).await;
    let r =
        fo.c.get(format!("{}CustomersV3", fo.base))
            .bearer_auth(&dv_token)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r =
        fo.c.get(format!("{}api/data/v9.2/accounts", sb.dataverse_url()))
            .bearer_auth(&fo.token)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r =
        fo.c.get(format!("{}companies", sb.bc_api_url()))
            .bearer_auth(&fo.token)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Composite-key GET.
    let (s, list) = fo.get("CustomersV3?$top=1").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let first = &list["value"][0];
    let account = first["CustomerAccount"].as_str().unwrap().to_string();
    let (s, one) = fo
        .get(&format!(
            "CustomersV3(dataAreaId='USMF',CustomerAccount='{account}')"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(one["OrganizationName"], first["OrganizationName"]);
    assert!(one["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    let (s, e) = fo
        .get(&format!("CustomersV3(CustomerAccount='{account}')"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

    // Cross-company: usrt's customers are visible only with cross-company=true.
    let usrt = "CustomersV3?$filter=dataAreaId eq 'usrt'";
    let (_, none) = fo.get(usrt).await;
    assert_eq!(none["value"], json!([]));
    let (_, some) = fo.get(&format!("{usrt}&cross-company=true")).await;
    let shared = some["value"][0]["CustomerAccount"]
        .as_str()
        .unwrap()
        .to_string();
    let key = format!("CustomersV3(dataAreaId='usrt',CustomerAccount='{shared}')");
    assert_eq!(fo.get(&key).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fo.get(&format!("{key}?cross-company=true")).await.0,
        StatusCode::OK
    );
    let usmf_key = format!("CustomersV3(dataAreaId='usmf',CustomerAccount='{shared}')");
    assert_eq!(
        fo.get(&usmf_key).await.0,
        StatusCode::OK,
        "the account exists in both"
    );

    // POST without dataAreaId: F&O's error shape.
    let r = fo
        .req(reqwest::Method::POST, "CustomersV3")
        .json(&json!({"OrganizationName": "No Company Ltd", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "An error has occurred.");
    assert!(
        inner(&v).starts_with("Write failed for table row of type 'CustCustomerV3Entity'."),
        "{v}"
    );
    assert!(inner(&v).contains("Company"), "{v}");
    // A write to another company needs cross-company=true; with it, the number sequence
    // gives the account.
    let new = json!({"dataAreaId": "usrt", "OrganizationName": "Second Co", "CustomerGroupId": "30", "SalesCurrencyCode": "USD"});
    let r = fo
        .req(reqwest::Method::POST, "CustomersV3")
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = fo
        .req(reqwest::Method::POST, "CustomersV3?cross-company=true")
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(r.headers().get("location").is_some());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["dataAreaId"], "usrt");
    assert!(v["CustomerAccount"].as_str().unwrap().starts_with('C'));

    // `in` is not supported; wildcards inside eq are "contains"; enum literals.
    let (s, v) = fo
        .get(&format!(
            "CustomersV3?$filter=CustomerAccount in ('{account}')"
        ))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(inner(&v).contains("'in'"), "{v}");
    let name = first["OrganizationName"].as_str().unwrap();
    let word: String = name
        .split_whitespace()
        .next()
        .unwrap()
        .chars()
        .skip(1)
        .collect();
    let (s, v) = fo
        .get(&format!(
            "CustomersV3?$filter=OrganizationName eq '*{}*'",
            urlencoding::encode(&word)
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let hits = v["value"].as_array().unwrap();
    assert!(hits.iter().any(|h| h["CustomerAccount"] == json!(account)));
    assert!(hits.iter().all(|h| {
        h["OrganizationName"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(&word.to_lowercase())
    }));
    let (s, v) = fo
        .get("SalesPriceAgreements?$filter=WillSearchContinue eq Microsoft.Dynamics.DataEntities.NoYes'Yes'")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["WillSearchContinue"] == "Yes")
    );

    // Server paging.
    let (_, counted) = fo.get("CustomersV3?$count=true&$top=0").await;
    let total = counted["@odata.count"].as_u64().unwrap() as usize;
    let mut seen = 0;
    let mut next = Some(format!("{}CustomersV3", fo.base));
    while let Some(url) = next {
        let r = fo
            .req(reqwest::Method::GET, &url)
            .header("prefer", "odata.maxpagesize=5")
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        let n = v["value"].as_array().unwrap().len();
        assert!(n <= 5);
        seen += n;
        next = v["@odata.nextLink"].as_str().map(str::to_string);
    }
    assert_eq!(seen, total);
    assert!(total > 5);

    // ETags: a stale If-Match is 412.
    let (_, one) = fo
        .get(&format!(
            "CustomersV3(dataAreaId='usmf',CustomerAccount='{account}')"
        ))
        .await;
    let tag = one["@odata.etag"].as_str().unwrap().to_string();
    let path = format!("CustomersV3(dataAreaId='usmf',CustomerAccount='{account}')");
    let patch = |t: &str, phone: &str| {
        fo.req(reqwest::Method::PATCH, &path)
            .header("if-match", t)
            .json(&json!({"PrimaryContactPhone": phone}))
    };
    assert_eq!(
        patch(&tag, "+1 555 0100").send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let r = patch(&tag, "+1 555 0101").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let (_, after) = fo.get(&path).await;
    assert_eq!(after["PrimaryContactPhone"], "+1 555 0100");

    // $metadata.
    let r = fo
        .req(reqwest::Method::GET, "$metadata")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let xml = r.text().await.unwrap();
    assert!(xml.contains("<EntitySet Name=\"SalesOrderLines\" EntityType=\"Microsoft.Dynamics.DataEntities.SalesOrderLine\"/>"));

    batch_changesets(&fo, &account).await;
    sb.shutdown().await;
}

fn changeset(lines: &[(&str, &str, Value)]) -> String {
    let mut body =
        String::from("--batch_b\r\nContent-Type: multipart/mixed; boundary=changeset_c\r\n\r\n");
    for (i, (method, url, json)) in lines.iter().enumerate() {
        body.push_str(&format!(
            "--changeset_c\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\n{method} {url} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{json}\r\n",
            i + 1
        ));
    }
    body.push_str("--changeset_c--\r\n--batch_b--\r\n");
    body
}

async fn batch_changesets(fo: &Fo, account: &str) {
    let (_, products) = fo.get("ReleasedProductsV2?$top=1").await;
    let item = products["value"][0]["ItemNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let header = json!({"dataAreaId": "usmf", "SalesOrderNumber": "SO-BATCH-1", "OrderingCustomerAccountNumber": account, "CustomersOrderReference": "PO 1"});
    let send = |body: String| {
        fo.req(reqwest::Method::POST, "$batch")
            .header("content-type", "multipart/mixed; boundary=batch_b")
            .body(body)
            .send()
    };
    // The line names an item that does not exist: the whole changeset rolls back.
    let bad = changeset(&[
        ("POST", "SalesOrderHeadersV2", header.clone()),
        (
            "POST",
            "SalesOrderLines",
            json!({"dataAreaId": "usmf", "SalesOrderNumber": "SO-BATCH-1", "ItemNumber": "NO-SUCH-ITEM"}),
        ),
    ]);
    let r = send(bad).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("multipart/mixed; boundary=batchresponse_")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("HTTP/1.1 400 Bad Request"), "{text}");
    assert!(!text.contains("HTTP/1.1 201"), "{text}");
    assert!(text.contains("NO-SUCH-ITEM"), "{text}");
    let order = "SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='SO-BATCH-1')";
    assert_eq!(fo.get(order).await.0, StatusCode::NOT_FOUND, "rolled back");

    let good = changeset(&[
        ("POST", "SalesOrderHeadersV2", header),
        (
            "POST",
            "SalesOrderLines",
            json!({"dataAreaId": "usmf", "SalesOrderNumber": "SO-BATCH-1", "ItemNumber": item, "OrderedSalesQuantity": 3}),
        ),
        ("PATCH", "$1", json!({"SalesOrderName": "From a batch"})),
    ]);
    let text = send(good).await.unwrap().text().await.unwrap();
    assert_eq!(text.matches("HTTP/1.1 201 Created").count(), 2, "{text}");
    assert!(text.contains("HTTP/1.1 204 No Content"), "{text}");
    let (s, v) = fo.get(order).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["SalesOrderName"], "From a batch");
    assert_eq!(v["SalesOrderStatus"], "Backorder");
    let (_, lines) = fo
        .get("SalesOrderLines?$filter=SalesOrderNumber eq 'SO-BATCH-1'")
        .await;
    let line = &lines["value"][0];
    assert_eq!(line["OrderedSalesQuantity"], json!(3.0));
    assert_eq!(line["LineNumber"], json!(1.0));
    let (s, v) = fo
        .get(&format!(
            "{order}?$expand=SalesOrderLines($select=ItemNumber)"
        ))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["SalesOrderLines"],
        json!([{"@odata.etag": line["@odata.etag"], "ItemNumber": item}])
    );
    assert!(
        line["InventoryLotId"]
            .as_str()
            .is_some_and(|l| !l.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fo_cold_start_and_throttling() {
    let sb = Sandbox::start(SandboxConfig {
        records: 2,
        fo: FoConfig {
            cold_start: Duration::from_millis(1200),
            limits: Some(RateLimit {
                requests: 3,
                window: Duration::from_secs(60),
                concurrent: 52,
                retry_after: Duration::from_secs(7),
            }),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let fo = Fo::new(&sb).await;
    let started = Instant::now();
    assert_eq!(fo.get("CustomersV3").await.0, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "the first call is cold"
    );
    let started = Instant::now();
    assert_eq!(fo.get("ReleasedProductsV2?$top=1").await.0, StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "later calls are warm"
    );
    // A resource-based throttle (injected) comes before the user's own limits.
    sb.fo_inject(Fault::Throttle {
        count: 1,
        retry_after: Duration::from_secs(2),
    });
    let r = fo
        .req(reqwest::Method::GET, "CustomersV3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");
    let v: Value = r.json().await.unwrap();
    assert!(inner(&v).contains("high resource utilization"), "{v}");
    assert_eq!(fo.get("ReleasedProductsV2?$top=1").await.0, StatusCode::OK);
    let r = fo
        .req(reqwest::Method::GET, "CustomersV3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        inner(&v),
        "Number of requests exeeded the limit of 3 over the time window of 60 seconds."
    );
    assert_eq!(sb.fo_stats().throttled, 2);
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fo_execution_time_limit() {
    let sb = Sandbox::start(SandboxConfig {
        records: 1,
        fo: FoConfig {
            cold_start: Duration::from_millis(300),
            execution_limit: Some(Duration::from_millis(200)),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let fo = Fo::new(&sb).await;
    // The slow first call uses up the user's execution time of the window.
    assert_eq!(fo.get("CustomersV3").await.0, StatusCode::OK);
    let r = fo
        .req(reqwest::Method::GET, "CustomersV3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "5");
    let v: Value = r.json().await.unwrap();
    assert!(
        inner(&v).starts_with("Combined execution time of incoming requests exceeded limit of 0 seconds over time window of 300 seconds."),
        "{v}"
    );
    sb.shutdown().await;
}

type Received = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// An HTTPS-endpoint stand-in: refuses the very first delivery with 503 (F&O retries it),
/// then records every event with its secret header.
async fn receiver() -> (String, Received, Arc<AtomicUsize>) {
    use axum::extract::State;
    let got: Received = Arc::default();
    let attempts = Arc::new(AtomicUsize::new(0));
    let state = (got.clone(), attempts.clone());
    let app = axum::Router::new()
        .route(
            "/events",
            axum::routing::post(
                |State((got, attempts)): State<(Received, Arc<AtomicUsize>)>,
                 headers: axum::http::HeaderMap,
                 body: axum::body::Bytes| async move {
                    if attempts.fetch_add(1, Ordering::SeqCst) == 0 {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let secret = headers
                        .get("x-couplet-event-secret")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    got.lock().push((secret, v));
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state(state);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got, attempts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fo_business_events_have_gaps_and_duplicates() {
    let sb = Sandbox::start(SandboxConfig {
        records: 5,
        fo: FoConfig {
            events: BusinessEventsConfig {
                duplicate_every: Some(2),
                secret: "s3cret".into(),
                retry_interval: Duration::from_millis(100),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let (url, got, attempts) = receiver().await;
    sb.fo_register_endpoint(&url);
    let fo = Fo::new(&sb).await;
    let (_, list) = fo.get("CustomersV3?$top=1").await;
    let account = list["value"][0]["CustomerAccount"]
        .as_str()
        .unwrap()
        .to_string();
    let key = format!("dataAreaId='usmf',CustomerAccount='{account}'");
    let r = fo
        .req(reqwest::Method::PATCH, &format!("CustomersV3({key})"))
        .json(&json!({"PrimaryContactPhone": "+1 555 0001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = fo
        .req(reqwest::Method::POST, "ReleasedProductsV2")
        .json(&json!({"dataAreaId": "usmf", "ItemNumber": "EVT-1", "ProductName": "Event widget", "SalesUnitSymbol": "ea", "SalesPrice": 12.5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A change made in the client raises its event too.
    let patch = json!({"PrimaryContactEmail": "ap@example.com"})
        .as_object()
        .cloned()
        .unwrap();
    sb.fo_update_row("CustomersV3", &key, patch).unwrap();
    let rows = sb.fo_rows("CustomersV3");
    assert!(
        rows.iter()
            .any(|r| r["PrimaryContactEmail"] == "ap@example.com")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().len() < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The refused first event arrives after its retry, likely behind later ones: consumers
    // order by ControlNumber, as Microsoft advises.
    let mut events = got.lock().clone();
    assert_eq!(
        events.len(),
        4,
        "three events, the second delivered twice: {events:?}"
    );
    events.sort_by_key(|(_, e)| e["ControlNumber"].as_u64());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        5,
        "the refused first delivery was retried"
    );
    assert!(events.iter().all(|(s, _)| s.as_deref() == Some("s3cret")));
    let ids: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["EventId"].as_str().unwrap())
        .collect();
    let mut unique_ids = ids.clone();
    unique_ids.sort();
    unique_ids.dedup();
    assert_eq!(unique_ids.len(), 3, "one duplicate delivery: {ids:?}");
    let mut controls: Vec<u64> = events
        .iter()
        .map(|(_, e)| e["ControlNumber"].as_u64().unwrap())
        .collect();
    controls.sort();
    controls.dedup();
    assert_eq!(controls.len(), 3);
    assert!(
        controls.windows(2).any(|w| w[1] - w[0] > 1),
        "control numbers have gaps: {controls:?}"
    );
    let kinds: Vec<&str> = events
        .iter()
        .map(|(_, e)| e["BusinessEventId"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "CustomerChangedBusinessEvent",
            "ReleasedProductChangedBusinessEvent",
            "ReleasedProductChangedBusinessEvent",
            "CustomerChangedBusinessEvent"
        ]
    );
    let e = &events[0].1;
    assert_eq!(e["BusinessEventLegalEntity"], "USMF");
    assert_eq!(e["CustomerAccount"], json!(account));
    assert_eq!(e["ChangeType"], "Updated");
    assert_eq!(events[1].1["ChangeType"], "Created");
    assert!(e["EventTime"].as_str().unwrap().starts_with("/Date("));
    assert!(
        e["InitiatingUserAADObjectId"]
            .as_str()
            .unwrap()
            .starts_with('{')
    );
    assert!(sb.fo_failed_events().is_empty());

    // An endpoint that never answers: after the retries the event is in the error log, and
    // Resend delivers it once a working endpoint is registered.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/events", dead.local_addr().unwrap());
    drop(dead);
    sb.fo_register_endpoint(&dead_url);
    let patch = json!({"PrimaryContactURL": "https://example.com"})
        .as_object()
        .cloned()
        .unwrap();
    sb.fo_update_row("CustomersV3", &key, patch).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sb.fo_failed_events().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = sb.fo_failed_events();
    assert_eq!(failed.len(), 1, "{failed:?}");
    sb.fo_register_endpoint(&url);
    assert_eq!(sb.fo_resend_failed_events(), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().len() < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let last = got.lock().last().cloned().unwrap().1;
    assert_eq!(last["EventId"], failed[0]["EventId"]);
    assert!(sb.fo_failed_events().is_empty());
    sb.shutdown().await;
}
