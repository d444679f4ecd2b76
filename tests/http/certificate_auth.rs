//! Entra ID certificate credentials against the sandbox: a client assertion signed with the
//! key of a certificate registered on the app gets a token; another certificate, a forged
//! signature or an expired assertion is refused with Entra's documented error, and Couplet's
//! error names the setting to fix. Test certificates: `tests/fixtures/certs/` (test only).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use couplet::sandbox::{Sandbox, SandboxConfig};
use couplet::systems::client_assertion::{ASSERTION_TYPE, ClientCertificate};
use couplet::systems::{BC, ClientProof, CredentialOrigin, HttpConfig, SystemError, TokenCache};
use serde_json::Value;

const CERT: &str = include_str!("../fixtures/certs/app.crt");
const KEY: &str = include_str!("../fixtures/certs/app.key");
const OTHER_CERT: &str = include_str!("../fixtures/certs/other.crt");
const OTHER_KEY: &str = include_str!("../fixtures/certs/other.key");
const BC_SCOPE: &str = "https://api.businesscentral.dynamics.com/.default";

async fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        records: 1,
        client_certificates: vec![CERT.to_string()],
        ..Default::default()
    })
    .await
    .expect("sandbox starts")
}

fn certificate(cert: &str, key: &str) -> Arc<ClientCertificate> {
    Arc::new(ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes()).unwrap())
}

fn tokens(sb: &Sandbox, cert: &str, key: &str) -> TokenCache {
    let c = sb.credentials();
    TokenCache::with_proof(
        &sb.entra_authority(),
        &c.tenant_id,
        &c.client_id,
        ClientProof::Certificate(certificate(cert, key)),
        HttpConfig {
            max_attempts: 2,
            ..HttpConfig::default()
        },
    )
    .with_origin(CredentialOrigin::Table("auth.bc".into()))
}

/// Posts a token request with `assertion`; the status and the JSON body.
async fn post(sb: &Sandbox, assertion: &str) -> (u16, Value) {
    let c = sb.credentials();
    let url = format!("{}{}/oauth2/v2.0/token", sb.entra_authority(), c.tenant_id);
    let r = reqwest::Client::new()
        .post(&url)
        .form(&[
            ("client_id", c.client_id.as_str()),
            ("scope", BC_SCOPE),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_registered_certificate_gets_a_token() {
    let sb = sandbox().await;
    let before = sb.tokens_issued();
    let t = tokens(&sb, CERT, KEY).token(BC, BC_SCOPE).await.unwrap();
    assert_eq!(t.split('.').count(), 3, "a JWT access token");
    assert_eq!(sb.tokens_issued(), before + 1);
    let d = format!("{:?}", tokens(&sb, CERT, KEY));
    assert!(!d.contains("PRIVATE KEY") && d.contains("x5t#S256"), "{d}");
}

#[tokio::test]
async fn an_unregistered_certificate_is_refused_naming_the_setting() {
    let sb = sandbox().await;
    let e = tokens(&sb, OTHER_CERT, OTHER_KEY)
        .token(BC, BC_SCOPE)
        .await
        .unwrap_err();
    assert!(matches!(e, SystemError::Auth { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains("AADSTS700027 invalid_client"), "{text}");
    assert!(text.contains("The key was not found"), "{text}");
    assert!(
        text.contains("[auth.bc] certificate_file and private_key_file"),
        "{text}"
    );
}

#[tokio::test]
async fn a_forged_or_expired_assertion_is_refused_as_entra_documents() {
    let sb = sandbox().await;
    let c = sb.credentials();
    let aud = format!("{}{}/oauth2/v2.0/token", sb.entra_authority(), c.tenant_id);
    let good = certificate(CERT, KEY);
    let now = SystemTime::now();
    let (status, _) = post(&sb, &good.assertion(&c.client_id, &aud, now).unwrap()).await;
    assert_eq!(status, 200);

    // The registered certificate's thumbprint, signed with another key.
    let real = good.assertion(&c.client_id, &aud, now).unwrap();
    let other = certificate(OTHER_CERT, OTHER_KEY)
        .assertion(&c.client_id, &aud, now)
        .unwrap();
    let forged = format!(
        "{}.{}",
        real.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    let (status, body) = post(&sb, &forged).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &Value::from("invalid_client"))
    );
    assert_eq!(body["error_codes"][0], 700027);

    // Made an hour ago: expired (valid for 10 minutes).
    let old = good
        .assertion(&c.client_id, &aud, now - Duration::from_secs(3600))
        .unwrap();
    let (status, body) = post(&sb, &old).await;
    assert_eq!(
        (status, &body["error"]),
        (401, &Value::from("invalid_client"))
    );
    assert_eq!(body["error_codes"][0], 700024);
    let d = body["error_description"].as_str().unwrap();
    assert!(
        d.starts_with("AADSTS700024: Client assertion is not within its valid time range.")
            && d.contains("\r\nTrace ID: "),
        "{d}"
    );

    // Another audience.
    let wrong_aud = good
        .assertion(
            &c.client_id,
            "https://login.microsoftonline.com/x/oauth2/v2.0/token",
            now,
        )
        .unwrap();
    assert_eq!(post(&sb, &wrong_aud).await.1["error_codes"][0], 700023);
}
