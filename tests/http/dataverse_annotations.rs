//! Dataverse returns instance annotations only when the request asks for them
//! (`Prefer: odata.include-annotations="…"`), exactly those asked for, and Couplet's client
//! asks for the lookup annotation it reads.

use crate::sandbox_support::bearer;
use couplet::sandbox::{Sandbox, SandboxConfig};
use couplet::systems::DataverseClient;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const LOGICAL: &str = "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname";
const NAV: &str = "_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty";

/// The contacts with a parent customer, as read with `prefer` (if any).
async fn contacts(c: &Client, sb: &Sandbox, token: &str, prefer: Option<&str>) -> Vec<Value> {
    let url = format!(
        "{}api/data/v9.2/contacts?$select=fullname,_parentcustomerid_value",
        sb.dataverse_url()
    );
    let mut rb = c.get(url).bearer_auth(token);
    if let Some(p) = prefer {
        rb = rb.header("Prefer", p);
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["_parentcustomerid_value"].is_null())
        .cloned()
        .collect()
}

fn annotation_keys(row: &Value) -> Vec<String> {
    row.as_object()
        .unwrap()
        .keys()
        .filter(|k| k.contains("@Microsoft.") || k.contains("@OData.Community"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn annotations_come_only_when_asked_for_and_couplet_asks() {
    let sb = Sandbox::start(SandboxConfig {
        records: 20,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Client::new();
    let token = bearer(&c, &sb, sb.dataverse_url().trim_end_matches('/')).await;

    // Unasked: none, not even on a polymorphic lookup.
    let rows = contacts(&c, &sb, &token, None).await;
    assert!(
        !rows.is_empty(),
        "the seeded world has contacts of accounts"
    );
    for r in &rows {
        assert!(annotation_keys(r).is_empty(), "{r}");
    }

    // One term: that one only.
    let rows = contacts(
        &c,
        &sb,
        &token,
        Some("odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\""),
    )
    .await;
    for r in &rows {
        assert_eq!(annotation_keys(r), vec![LOGICAL.to_string()], "{r}");
        assert!(matches!(r[LOGICAL].as_str(), Some("account" | "contact")));
    }

    // All, but one excluded; then all: the navigation property is the lookup's binding.
    let rows = contacts(
        &c,
        &sb,
        &token,
        Some("odata.include-annotations=\"*,-Microsoft.Dynamics.CRM.lookuplogicalname\""),
    )
    .await;
    for r in &rows {
        assert_eq!(annotation_keys(r), vec![NAV.to_string()], "{r}");
    }
    let rows = contacts(&c, &sb, &token, Some("odata.include-annotations=\"*\"")).await;
    for r in &rows {
        let logical = r[LOGICAL].as_str().unwrap();
        assert_eq!(
            r[NAV].as_str(),
            Some(format!("parentcustomerid_{logical}").as_str())
        );
    }

    // A GET asking for annotations never answers 304.
    let id = rows[0]["contactid"].as_str().unwrap();
    let etag = rows[0]["@odata.etag"].as_str().unwrap();
    let one = format!("{}api/data/v9.2/contacts({id})", sb.dataverse_url());
    let r = c
        .get(&one)
        .bearer_auth(&token)
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = c
        .get(&one)
        .bearer_auth(&token)
        .header("If-None-Match", etag)
        .header("Prefer", "odata.include-annotations=\"*\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // Couplet's client asks for the lookup's target table on a GET and on a query.
    let dir = tempfile::tempdir().unwrap();
    let cfg = couplet::cli::build::sandbox_config(&sb, dir.path()).unwrap();
    let targets = couplet::cli::build::targets(&cfg).unwrap();
    let dv = targets.crm.client::<DataverseClient>().unwrap();
    let got = dv.get("contacts", id, &[]).await.unwrap().unwrap();
    assert_eq!(got[LOGICAL], rows[0][LOGICAL]);
    assert!(!got.contains_key(NAV));
    let queried = dv
        .query(
            "contacts",
            &format!("contactid eq {id}"),
            &["_parentcustomerid_value"],
        )
        .await
        .unwrap();
    assert_eq!(queried[0][LOGICAL], rows[0][LOGICAL]);
}
