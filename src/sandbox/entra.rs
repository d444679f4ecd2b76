//! The Microsoft Entra ID token endpoint (client credentials only), `POST
//! /{tenant}/oauth2/v2.0/token`, with the documented error bodies. The app signs in with its
//! client secret or with a client assertion signed by a certificate registered on it
//! (`SandboxConfig::client_certificates`, checked in [`entra_assertion`]).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use super::entra_assertion;
use super::http::{header, json, new_guid, parse_query};
use super::shared::{BC_RESOURCE, Shared, TokenInfo};
use crate::systems::client_assertion::ASSERTION_TYPE;

/// The Entra router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .fallback(|| async { json(StatusCode::NOT_FOUND, &json!({"error":"not_found"})) })
        .with_state(shared)
}

fn error(status: StatusCode, error: &str, code: u32, text: &str) -> Response {
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace = new_guid();
    let corr = new_guid();
    let description = format!(
        "AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {now}"
    );
    tracing::debug!(code, error, "entra: token request refused");
    json(
        status,
        &json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

fn missing(param: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        &format!("The request body must contain the following parameter: '{param}'."),
    )
}

/// The app proves who it is with a client assertion (a JWT signed with a certificate
/// registered on it, see [`entra_assertion`]) or its client secret; the refusal, if any.
fn client_authentication(
    shared: &Shared,
    tenant: &str,
    client_id: &str,
    assertion: Option<String>,
    assertion_type: Option<String>,
    secret: Option<String>,
) -> Option<Response> {
    if let Some(assertion) = assertion.filter(|a| !a.is_empty()) {
        if assertion_type.as_deref() != Some(ASSERTION_TYPE) {
            return Some(missing("client_assertion_type"));
        }
        let audience = format!("{}{tenant}/oauth2/v2.0/token", shared.entra_authority);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        return entra_assertion::verify(
            &assertion,
            client_id,
            &audience,
            &shared.app_certificates,
            now,
        )
        .err()
        .map(|r| {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNAUTHORIZED);
            error(status, r.error, r.code, &r.text)
        });
    }
    let Some(secret) = secret.filter(|s| !s.is_empty()) else {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ));
    };
    (secret != shared.creds.client_secret).then(|| {
        error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    })
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let creds = &shared.creds;
    if !tenant.eq_ignore_ascii_case(&creds.tenant_id) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let form_ok = header(&headers, "content-type").is_some_and(|c| {
        c.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    let text = if form_ok {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        String::new()
    };
    // Form values use '+' for spaces.
    let form: Vec<(String, String)> = parse_query(Some(&text.replace('+', "%20")));
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut client_id = get("client_id");
    let mut secret = get("client_secret");
    if let Some(basic) = header(&headers, "authorization").and_then(|a| a.strip_prefix("Basic "))
        && let Some((id, s)) = STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| {
                t.split_once(':').map(|(a, b)| {
                    (
                        crate::sandbox::http::decode(a),
                        crate::sandbox::http::decode(b),
                    )
                })
            })
    {
        client_id.get_or_insert(id);
        secret.get_or_insert(s);
    }
    let Some(grant) = get("grant_type") else {
        return missing("grant_type");
    };
    if grant != "client_credentials" {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{grant}'."),
        );
    }
    let Some(client_id) = client_id else {
        return missing("client_id");
    };
    if !client_id.eq_ignore_ascii_case(&creds.client_id) {
        return error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        );
    }
    if let Some(refused) = client_authentication(
        &shared,
        &tenant,
        &client_id,
        get("client_assertion"),
        get("client_assertion_type"),
        secret,
    ) {
        return refused;
    }
    let Some(scope) = get("scope") else {
        return missing("scope");
    };
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    let dv = shared.dv_resource();
    let fo = shared.fo_resource();
    let resource = match scopes.as_slice() {
        [one] => one
            .strip_suffix("/.default")
            .map(|r| r.trim_end_matches('/'))
            .filter(|r| {
                r.eq_ignore_ascii_case(&dv)
                    || r.eq_ignore_ascii_case(&fo)
                    || r.eq_ignore_ascii_case(BC_RESOURCE)
            }),
        _ => None,
    };
    let Some(resource) = resource else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            &format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        );
    };
    let audience = if resource.eq_ignore_ascii_case(&dv) {
        dv
    } else if resource.eq_ignore_ascii_case(&fo) {
        fo
    } else {
        BC_RESOURCE.to_string()
    };
    let lifetime = shared.token_lifetime.as_secs();
    let now = SystemTime::now();
    let iat = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let head = json!({"typ":"JWT","alg":"RS256","kid":"couplet-sandbox"});
    let payload = json!({
        "aud": audience,
        "iss": format!("https://sts.windows.net/{}/", creds.tenant_id),
        "iat": iat, "nbf": iat, "exp": iat + lifetime,
        "appid": creds.client_id, "appidacr": "1",
        "idp": format!("https://sts.windows.net/{}/", creds.tenant_id),
        "oid": creds.client_id, "sub": creds.client_id,
        "tid": creds.tenant_id, "uti": new_guid(), "ver": "1.0", "roles": [],
    });
    let signature: Vec<u8> = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::new_v4().as_bytes())
        .copied()
        .collect();
    let access_token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(head.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    );
    shared.tokens.lock().insert(
        access_token.clone(),
        TokenInfo {
            audience: audience.clone(),
            appid: creds.client_id.clone(),
            expires: now + shared.token_lifetime,
        },
    );
    shared.tokens_issued.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%audience, "entra: token issued");
    json(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }),
    )
}
