//! End-to-end checks of the sandbox emulators over real HTTP.

use std::time::Duration;

use couplet::sandbox::{Fault, Sandbox, SandboxConfig};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::sandbox_support::{bearer, token};

#[tokio::test]
async fn sandbox_over_http() {
    let sb = Sandbox::start(SandboxConfig {
        records: 30,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Client::new();
    let dv_res = sb.dataverse_url().trim_end_matches('/').to_string();
    let dv = format!("{}api/data/v9.2/", sb.dataverse_url());
    let bc = format!("{}companies({})/", sb.bc_api_url(), sb.bc_company_id());

    // --- Entra errors
    let cr = sb.credentials();
    let r = c
        .post(format!(
            "{}{}/oauth2/v2.0/token",
            sb.entra_authority(),
            cr.tenant_id
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id={}&scope=x&client_secret=wrong&grant_type=client_credentials",
            cr.client_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "invalid_client");
    assert_eq!(v["error_codes"], json!([7000215]));
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: ")
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("\r\nTrace ID: ")
    );
    let r = token(&c, &sb, "https://example.com").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error_codes"],
        json!([70011])
    );

    let dv_tok = bearer(&c, &sb, &dv_res).await;
    let bc_tok = bearer(&c, &sb, &sb.bc_resource()).await;
    assert_eq!(dv_tok.split('.').count(), 3);
    assert_eq!(sb.tokens_issued(), 2);

    // --- 401s: none, wrong audience
    let r = c.get(format!("{dv}accounts")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer authorization_uri=")
    );
    assert!(r.text().await.unwrap().is_empty());
    let r = c
        .get(format!("{dv}accounts"))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = c.get(format!("{bc}customers")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "Authentication_InvalidCredentials"
    );
    let r = c
        .get(format!("{bc}customers"))
        .bearer_auth(&dv_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let dvget = |url: String, prefer: Option<&'static str>| {
        let mut rb = c.get(url).bearer_auth(&dv_tok);
        if let Some(p) = prefer {
            rb = rb.header("prefer", p);
        }
        rb.send()
    };

    // --- DV paging
    let total = sb.rows(couplet::systems::DATAVERSE, "accounts").len();
    assert!(total > 5);
    let mut url = format!("{dv}accounts?$select=name,accountnumber");
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let r = dvget(url.clone(), Some("odata.maxpagesize=4"))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["preference-applied"], "odata.maxpagesize=4");
        let v: Value = r.json().await.unwrap();
        let rows = v["value"].as_array().unwrap();
        assert!(rows.len() <= 4);
        assert!(rows[0]["@odata.etag"].as_str().unwrap().starts_with("W/\""));
        assert!(rows[0].get("telephone1").is_none() && rows[0].get("accountid").is_some());
        seen += rows.len();
        pages += 1;
        match v["@odata.nextLink"].as_str() {
            Some(n) => {
                assert!(n.contains("$skiptoken="));
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, total);
    assert_eq!(pages, total.div_ceil(4));
    let r = dvget(format!("{dv}accounts?$skip=2"), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = dvget(format!("{dv}accounts?$filter=name eq xx"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'xx' at column 9")
    );

    // --- DV change tracking: full read across pages
    let mut url = format!("{dv}accounts?$select=name,telephone1");
    let mut full = 0;
    let delta_link = loop {
        let v: Value = dvget(url.clone(), Some("odata.track-changes,odata.maxpagesize=5"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        full += v["value"].as_array().unwrap().len();
        if let Some(n) = v["@odata.nextLink"].as_str() {
            assert!(
                v.get("@odata.deltaLink").is_none(),
                "deltaLink only on the last page"
            );
            url = n.to_string();
        } else {
            break v["@odata.deltaLink"].as_str().unwrap().to_string();
        }
    };
    assert_eq!(full, total);
    let r = dvget(format!("{dv}accounts?$top=2"), Some("odata.track-changes"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("isn't supported when Change Tracking is enabled")
    );
    // nothing changed: empty value, fresh link
    let v: Value = dvget(delta_link.clone(), Some("odata.track-changes"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["value"], json!([]));
    assert!(v["@odata.context"].as_str().unwrap().ends_with("/$delta"));
    // change one, delete one, create+delete one
    let accounts = sb.rows(couplet::systems::DATAVERSE, "accounts");
    let a0 = accounts[0]["accountid"].as_str().unwrap().to_string();
    let a1 = accounts[1]["accountid"].as_str().unwrap().to_string();
    sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &a0,
        json!({"telephone1":"+1 555-0100"})
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &a0,
        json!({"telephone1":"+1 555-0101"})
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    assert_ne!(
        sb.row(couplet::systems::DATAVERSE, "accounts", &a0)
            .unwrap()["_modifiedby_value"],
        Value::Null
    );
    sb.delete_row(couplet::systems::DATAVERSE, "accounts", &a1)
        .unwrap();
    let tmp = sb
        .insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            json!({"name":"Temp"}).as_object().unwrap().clone(),
        )
        .unwrap();
    sb.delete_row(couplet::systems::DATAVERSE, "accounts", &tmp)
        .unwrap();
    let mut url = delta_link.clone();
    let mut entries = Vec::new();
    let next_delta = loop {
        let v: Value = dvget(url.clone(), Some("odata.track-changes,odata.maxpagesize=2"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["@odata.context"].as_str().unwrap().ends_with("/$delta"));
        entries.extend(v["value"].as_array().unwrap().clone());
        match v["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break v["@odata.deltaLink"].as_str().unwrap().to_string(),
        }
    };
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[0]["accountid"], json!(a0));
    assert_eq!(entries[0]["telephone1"], "+1 555-0101");
    assert_eq!(entries[1]["reason"], "deleted");
    assert!(
        entries[1]["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#accounts/$deletedEntity")
    );
    let deleted: Vec<&Value> = entries[1..].iter().map(|e| &e["id"]).collect();
    assert_eq!(deleted, vec![&json!(a1), &json!(tmp)]);
    // expired token
    sb.expire_change_tracking();
    let r = dvget(next_delta, Some("odata.track-changes"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "0x80044352");

    // --- DV writes
    let post = c
        .post(format!("{dv}accounts"))
        .bearer_auth(&dv_tok)
        .json(&json!({"name":"New Co"}))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::NO_CONTENT);
    let eid = post.headers()["odata-entityid"]
        .to_str()
        .unwrap()
        .to_string();
    let id = eid
        .rsplit_once('(')
        .unwrap()
        .1
        .trim_end_matches(')')
        .to_string();
    let row = sb
        .row(couplet::systems::DATAVERSE, "accounts", &id)
        .unwrap();
    let users = sb.rows(couplet::systems::DATAVERSE, "systemusers");
    let app = users
        .iter()
        .find(|u| u["applicationid"] == json!(cr.client_id))
        .unwrap();
    assert_eq!(row["_modifiedby_value"], app["systemuserid"]);
    let r = c
        .post(format!("{dv}contacts?$select=fullname"))
        .bearer_auth(&dv_tok)
        .header("prefer", "return=representation")
        .json(&json!({"firstname":"Ann","lastname":"Lee","parentcustomerid_account@odata.bind": format!("/accounts({id})")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["fullname"], "Ann Lee");
    let r = c
        .post(format!("{dv}accounts"))
        .bearer_auth(&dv_tok)
        .json(&json!({"name": "x".repeat(161)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "0x80044331");
    assert!(v["error"]["message"].as_str().unwrap().contains("'name'"));
    let patch = |url: String, h: Option<(&'static str, String)>, body: Value| {
        let mut rb = c
            .patch(url)
            .bearer_auth(&dv_tok)
            .header("prefer", "return=representation")
            .json(&body);
        if let Some((k, v)) = h {
            rb = rb.header(k, v);
        }
        rb.send()
    };
    let etag = row["@odata.etag"].as_str().unwrap().to_string();
    let r = patch(
        format!("{dv}accounts({id})"),
        Some(("if-match", etag.clone())),
        json!({"telephone1":"1"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = patch(
        format!("{dv}accounts({id})"),
        Some(("if-match", etag.clone())),
        json!({"telephone1":"2"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert!(r.text().await.unwrap().contains("RowVersion"));
    let r = patch(
        format!("{dv}accounts({id})"),
        Some(("if-none-match", "*".into())),
        json!({"telephone1":"2"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let fresh = "5a0c4e1e-0000-4000-8000-00000000abcd";
    let r = patch(
        format!("{dv}accounts({fresh})"),
        Some(("if-match", "*".into())),
        json!({"name":"Z"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Does Not Exist"));
    let r = patch(format!("{dv}accounts({fresh})"), None, json!({"name":"Z"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = patch(format!("{dv}accounts({fresh})"), None, json!({"name":"Z2"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .delete(format!("{dv}accounts({fresh})"))
        .bearer_auth(&dv_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = c
        .delete(format!("{dv}accounts({fresh})"))
        .bearer_auth(&dv_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "0x80040217"
    );

    // --- BC
    let r = c
        .get(format!("{}companies", sb.bc_api_url()))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["value"][0]["id"],
        json!(sb.bc_company_id())
    );
    let v: Value = c
        .get(format!("{bc}customers?$top=1"))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cust = v["value"][0].clone();
    let cid = cust["id"].as_str().unwrap().to_string();
    let number = cust["number"].as_str().unwrap().to_string();
    let v: Value = c
        .get(format!("{bc}customers?$filter=number eq '{number}' and lastModifiedDateTime gt 2000-01-01T00:00:00Z"))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    let bc_total = sb.rows(couplet::systems::BC, "customers").len();
    let mut url = format!("{bc}customers");
    let mut n = 0;
    loop {
        let v: Value = c
            .get(&url)
            .bearer_auth(&bc_tok)
            .header("prefer", "odata.maxpagesize=3")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        n += v["value"].as_array().unwrap().len();
        match v["@odata.nextLink"].as_str() {
            Some(l) => url = l.to_string(),
            None => break,
        }
    }
    assert_eq!(n, bc_total);
    let bpatch = |h: Option<&str>, body: Value| {
        let mut rb = c
            .patch(format!("{bc}customers({cid})"))
            .bearer_auth(&bc_tok)
            .json(&body);
        if let Some(t) = h {
            rb = rb.header("if-match", t.to_string());
        }
        rb.send()
    };
    let r = bpatch(None, json!({"phoneNumber":"1"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "BadRequest_InvalidToken"
    );
    let tag = cust["@odata.etag"].as_str().unwrap();
    let r = bpatch(Some(tag), json!({"phoneNumber":"+1 555 0199"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["phoneNumber"], "+1 555 0199");
    assert_eq!(v["number"], json!(number));
    assert_ne!(v["@odata.etag"], json!(tag));
    let r = bpatch(Some(tag), json!({"phoneNumber":"x"})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "Request_EntityChanged");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CorrelationId:  ")
    );
    let r = bpatch(Some("*"), json!({"currencyCode":"XYZ"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "Application_FieldValidationException"
    );
    let r = c
        .post(format!("{bc}customers"))
        .bearer_auth(&bc_tok)
        .json(&json!({"displayName":"Brand New"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert!(v["number"].as_str().unwrap().starts_with('C'));
    let r = c
        .post(format!("{bc}customers"))
        .bearer_auth(&bc_tok)
        .json(&json!({"number": number}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "Internal_EntityWithSameKeyExists"
    );

    // --- faults
    sb.inject(
        couplet::systems::BC,
        Fault::Throttle {
            count: 1,
            retry_after: Duration::from_secs(7),
        },
    );
    let r = c
        .get(format!("{bc}customers"))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    sb.inject(
        couplet::systems::DATAVERSE,
        Fault::Throttle {
            count: 1,
            retry_after: Duration::from_secs(2),
        },
    );
    let r = dvget(format!("{dv}accounts"), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "0x80072322"
    );
    sb.inject(
        couplet::systems::DATAVERSE,
        Fault::MalformedPage { count: 1 },
    );
    let r = dvget(format!("{dv}accounts"), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());
    let r = dvget(format!("{dv}accounts"), None).await.unwrap();
    assert!(r.json::<Value>().await.is_ok());
    sb.inject(couplet::systems::BC, Fault::Unavailable { count: 1 });
    let r = c
        .get(format!("{bc}customers"))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(sb.stats(couplet::systems::BC).throttled, 1);
    assert!(sb.stats(couplet::systems::DATAVERSE).writes >= 5);

    sb.shutdown().await;
}

#[tokio::test]
async fn dataverse_service_protection_limits() {
    use couplet::sandbox::RateLimit;
    let cfg = SandboxConfig {
        records: 3,
        dataverse_limits: Some(RateLimit {
            requests: 3,
            window: Duration::from_secs(60),
            concurrent: 10,
            retry_after: Duration::from_secs(4),
        }),
        ..Default::default()
    };
    let sb = Sandbox::start(cfg).await.unwrap();
    let c = Client::new();
    let res = sb.dataverse_url().trim_end_matches('/').to_string();
    let tok = bearer(&c, &sb, &res).await;
    let url = format!("{}api/data/v9.2/accounts", sb.dataverse_url());
    for _ in 0..3 {
        assert_eq!(
            c.get(&url).bearer_auth(&tok).send().await.unwrap().status(),
            StatusCode::OK
        );
    }
    let r = c.get(&url).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "4");
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "0x80072322"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn delta_paging_stays_consistent_while_rows_change() {
    let sb = Sandbox::start(SandboxConfig {
        records: 20,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Client::new();
    let res = sb.dataverse_url().trim_end_matches('/').to_string();
    let tok = bearer(&c, &sb, &res).await;
    let first = format!(
        "{}api/data/v9.2/contacts?$select=fullname",
        sb.dataverse_url()
    );
    let get = |u: String| {
        c.get(u)
            .bearer_auth(&tok)
            .header("prefer", "odata.track-changes,odata.maxpagesize=3")
            .send()
    };
    let v: Value = get(first).await.unwrap().json().await.unwrap();
    let seen_first: Vec<Value> = v["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["contactid"].clone())
        .collect();
    // While paging: edit a row already sent and delete one not yet sent.
    let all = sb.rows(couplet::systems::DATAVERSE, "contacts");
    let unseen = all
        .iter()
        .find(|r| !seen_first.contains(&r["contactid"]))
        .unwrap()["contactid"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = seen_first[0].as_str().unwrap().to_string();
    sb.update_row(
        couplet::systems::DATAVERSE,
        "contacts",
        &seen,
        json!({"lastname":"Changed"}).as_object().unwrap().clone(),
    )
    .unwrap();
    sb.delete_row(couplet::systems::DATAVERSE, "contacts", &unseen)
        .unwrap();
    let mut ids: Vec<Value> = seen_first;
    let mut url = v["@odata.nextLink"].as_str().unwrap().to_string();
    let delta = loop {
        let v: Value = get(url.clone()).await.unwrap().json().await.unwrap();
        ids.extend(
            v["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["contactid"].clone()),
        );
        match v["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break v["@odata.deltaLink"].as_str().unwrap().to_string(),
        }
    };
    let unique: std::collections::HashSet<String> = ids.iter().map(|v| v.to_string()).collect();
    assert_eq!(unique.len(), ids.len(), "no row twice within one read");
    // The next delta carries both changes made during paging.
    let v: Value = get(delta).await.unwrap().json().await.unwrap();
    let vals = v["value"].as_array().unwrap();
    assert!(
        vals.iter().any(|r| r["contactid"] == json!(seen)
            && r["fullname"].as_str().unwrap().ends_with("Changed"))
    );
    assert!(
        vals.iter()
            .any(|r| r["id"] == json!(unseen) && r["reason"] == "deleted")
    );
    sb.shutdown().await;
}

/// The price list custom pages (extended pricing) behave as the other BC pages: ETags,
/// `lastModifiedDateTime`, `$filter` on enum and number fields, lines pointing at headers.
#[tokio::test]
async fn price_list_pages_filter_and_carry_etags() {
    let sb = Sandbox::start(SandboxConfig {
        records: 300,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Client::new();
    let bc = format!("{}companies({})/", sb.bc_api_url(), sb.bc_company_id());
    let tok = bearer(&c, &sb, &sb.bc_resource()).await;
    let get = |url: String| {
        let (c, tok) = (c.clone(), tok.clone());
        async move {
            let r = c.get(url).bearer_auth(&tok).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["value"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let all = get(format!("{bc}priceListHeaders")).await;
    let sales = get(format!(
        "{bc}priceListHeaders?$filter=priceType eq 'Sale' and amountType eq 'Price'"
    ))
    .await;
    assert_eq!(sales.len(), 3, "{sales:?}");
    assert_eq!(all.len(), sales.len() + 2);
    for h in &all {
        assert!(h["@odata.etag"].as_str().unwrap().starts_with("W/\""));
        assert!(h["lastModifiedDateTime"].as_str().unwrap().ends_with('Z'));
        assert_eq!(h["startingDate"].as_str().unwrap().len(), 10);
    }
    let lines = get(format!("{bc}priceListLines")).await;
    let carried = get(format!(
        "{bc}priceListLines?$filter=priceType eq 'Sale' and amountType eq 'Price' and assetType eq 'Item' and minimumQuantity eq 0"
    ))
    .await;
    assert!(!carried.is_empty() && carried.len() < lines.len());
    for l in &lines {
        assert!(
            all.iter().any(|h| h["code"] == l["priceListCode"]),
            "{l:?} has no header"
        );
    }
    let code = sales[0]["code"].as_str().unwrap();
    let of_one = get(format!(
        "{bc}priceListLines?$filter=priceListCode eq '{code}'"
    ))
    .await;
    assert!(!of_one.is_empty() && of_one.iter().all(|l| l["priceListCode"] == code));
}
