//! The sandbox's quote surfaces over real HTTP: the Dataverse Sales actions (`ReviseQuote`,
//! `WinQuote`, `ConvertQuoteToSalesOrder`, `WinOpportunity`) and Business Central's
//! `salesQuotes` with lines, the release guard and the archive extension.

use crate::sandbox_support::bearer;
use couplet::sandbox::{Sandbox, SandboxConfig};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn quote_actions_and_bc_quote_archives_over_http() {
    let sb = Sandbox::start(SandboxConfig {
        records: 3,
        seed: 5,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Client::new();
    let dv = format!("{}api/data/v9.2/", sb.dataverse_url());
    let bc = format!("{}companies({})/", sb.bc_api_url(), sb.bc_company_id());
    let dv_tok = bearer(&c, &sb, sb.dataverse_url().trim_end_matches('/')).await;
    let bc_tok = bearer(&c, &sb, &sb.bc_resource()).await;

    // --- Dataverse: a quote, activated with a PATCH, revised, won, converted.
    let account = sb.rows(couplet::systems::DATAVERSE, "accounts")[0]["accountid"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{dv}quotes"))
        .bearer_auth(&dv_tok)
        .header("prefer", "return=representation")
        .json(
            &json!({"name": "Q", "customerid_account@odata.bind": format!("/accounts({account})")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let q: Value = r.json().await.unwrap();
    let q1 = q["quoteid"].as_str().unwrap().to_string();
    assert!(q["quotenumber"].as_str().unwrap().starts_with("QUO-"));
    assert_eq!(
        (q["statecode"].clone(), q["revisionnumber"].clone()),
        (json!(0), json!(0))
    );
    let post = |action: &str, body: Value| {
        c.post(format!("{dv}{action}"))
            .bearer_auth(&dv_tok)
            .json(&body)
            .send()
    };
    // A draft cannot be revised.
    let r = post("ReviseQuote", json!({"QuoteId": q1})).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = c
        .patch(format!("{dv}quotes({q1})"))
        .bearer_auth(&dv_tok)
        .json(&json!({"statecode": 1, "statuscode": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = post(
        "ReviseQuote",
        json!({"QuoteId": q1, "ColumnSet": {"AllColumns": true}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let q2: Value = r.json().await.unwrap();
    assert_eq!(q2["quotenumber"], q["quotenumber"]);
    assert_eq!(q2["revisionnumber"], json!(1));
    let q2 = q2["quoteid"].as_str().unwrap().to_string();
    let old = sb.row(couplet::systems::DATAVERSE, "quotes", &q1).unwrap();
    assert_eq!(
        (old["statecode"].clone(), old["statuscode"].clone()),
        (json!(3), json!(7))
    );
    // Winning a draft is refused; an active quote is won, then converted.
    let win = json!({"QuoteClose": {"subject": "Won", "quoteid@odata.bind": format!("/quotes({q2})")}, "Status": -1});
    assert_eq!(
        post("WinQuote", win.clone()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    sb.update_row(
        couplet::systems::DATAVERSE,
        "quotes",
        &q2,
        json!({"statecode": 1, "statuscode": 3})
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    assert_eq!(
        post("WinQuote", win).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let r = post("ConvertQuoteToSalesOrder", json!({"QuoteId": q2}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let order: Value = r.json().await.unwrap();
    assert_eq!(order["_quoteid_value"], json!(q2));
    assert!(order["ordernumber"].as_str().unwrap().starts_with("ORD-"));
    assert_eq!(
        sb.rows(couplet::systems::DATAVERSE, "quotecloses").len(),
        1,
        "one close activity"
    );
    let r = post("WinOpportunity", json!({"OpportunityClose": {}}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // --- Business Central: a quote with a line, archived, released (then read-only).
    let customer = sb.rows(couplet::systems::BC, "customers")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = sb.rows(couplet::systems::BC, "items")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = c
        .post(format!("{bc}salesQuotes"))
        .bearer_auth(&bc_tok)
        .json(&json!({"customerId": customer, "validUntilDate": "2026-12-31", "yourReference": "QUO-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let bq: Value = r.json().await.unwrap();
    let id = bq["id"].as_str().unwrap().to_string();
    assert!(bq["number"].as_str().unwrap().starts_with("S-QUO"));
    assert_eq!(bq["documentStatus"], "Open");
    let r = c
        .post(format!("{bc}salesQuotes({id})/salesQuoteLines"))
        .bearer_auth(&bc_tok)
        .json(&json!({"lineType": "Item", "itemId": item, "quantity": 2, "unitPrice": 5, "sequence": 10000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let action = |a: &str| {
        c.post(format!("{bc}salesQuotes({id})/Microsoft.NAV.{a}"))
            .bearer_auth(&bc_tok)
            .send()
    };
    assert_eq!(
        action("archive").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let arch: Value = c
        .get(format!("{bc}salesQuoteArchives?$filter=quoteId eq {id}"))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(arch["value"].as_array().unwrap().len(), 1);
    assert_eq!(arch["value"][0]["versionNumber"], json!(1));
    assert_eq!(arch["value"][0]["totalAmountExcludingTax"], json!(10.0));
    let archive_id = arch["value"][0]["id"].as_str().unwrap();
    let lines: Value = c
        .get(format!(
            "{bc}salesQuoteArchiveLines?$filter=archiveId eq {archive_id}"
        ))
        .bearer_auth(&bc_tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lines["value"][0]["quantity"], json!(2));
    let r = c
        .post(format!("{bc}salesQuoteArchives"))
        .bearer_auth(&bc_tok)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        action("release").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let r = c
        .patch(format!("{bc}salesQuotes({id})"))
        .bearer_auth(&bc_tok)
        .header("if-match", "*")
        .json(&json!({"externalDocumentNumber": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Status must be equal to 'Open'"),
        "{e}"
    );
    assert_eq!(
        action("reopen").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        action("bogus").await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    sb.shutdown().await;
}
