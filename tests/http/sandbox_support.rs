//! Shared by the tests that drive the sandbox's emulators over HTTP with a plain client: an
//! Entra ID client-credentials token for one resource.

use couplet::sandbox::Sandbox;
use reqwest::{Client, StatusCode};
use serde_json::Value;

/// A token request for `resource` (`<resource>/.default`) with the sandbox's credentials.
pub async fn token(c: &Client, sb: &Sandbox, resource: &str) -> reqwest::Response {
    let cr = sb.credentials();
    let body = format!(
        "client_id={}&scope={}&client_secret={}&grant_type=client_credentials",
        cr.client_id,
        urlencoding::encode(&format!("{resource}/.default")),
        urlencoding::encode(&cr.client_secret)
    );
    c.post(format!(
        "{}{}/oauth2/v2.0/token",
        sb.entra_authority(),
        cr.tenant_id
    ))
    .header("content-type", "application/x-www-form-urlencoded")
    .body(body)
    .send()
    .await
    .unwrap()
}

/// An access token for `resource`, checking the token response's documented shape.
pub async fn bearer(c: &Client, sb: &Sandbox, resource: &str) -> String {
    let r = token(c, sb, resource).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].is_u64() && v["ext_expires_in"].is_u64());
    v["access_token"].as_str().unwrap().to_string()
}
