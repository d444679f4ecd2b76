//! Entra ID's checks of a client assertion (a JWT signed with a certificate registered on
//! the app, sent as `client_assertion` instead of a client secret), as Microsoft documents
//! the format ("Microsoft identity platform application authentication certificate
//! credentials", <https://learn.microsoft.com/entra/identity-platform/certificate-credentials>)
//! and the refusals its token endpoint answers with:
//!
//! - not three base64url parts of JSON: `invalid_request`, AADSTS50027 (malformed JWT);
//! - `iss` or `sub` not the `client_id` sent: `invalid_client`, AADSTS700021;
//! - `aud` not this token endpoint: `invalid_client`, AADSTS700023;
//! - no registered certificate with the header's `x5t#S256` (or `x5t`) thumbprint, or a
//!   signature (`PS256`, or `RS256`) that does not verify against it: `invalid_client`,
//!   AADSTS700027;
//! - now outside `nbf`..`exp` (with a few minutes of clock skew): `invalid_client`,
//!   AADSTS700024.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::CertificateDer;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The clock skew tolerated on `nbf` and `exp`.
pub(crate) const CLOCK_SKEW_SECS: u64 = 300;

/// A refusal: the HTTP status, the OAuth `error`, the AADSTS code and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub text: String,
}

fn refuse(code: u32, text: impl Into<String>) -> Refusal {
    let (status, error) = if code == 50027 {
        (400, "invalid_request")
    } else {
        (401, "invalid_client")
    };
    Refusal {
        status,
        error,
        code,
        text: text.into(),
    }
}

fn malformed() -> Refusal {
    refuse(50027, "JWT token is invalid or malformed.")
}

fn decode(part: &str) -> Result<Value, Refusal> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| malformed())?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

/// The hex thumbprint Entra prints, and the registered certificate `header` names.
fn find_key<'a>(
    header: &Value,
    registered: &'a [CertificateDer<'static>],
) -> (String, Option<&'a CertificateDer<'static>>) {
    if let Some(t) = header.get("x5t#S256").and_then(Value::as_str) {
        let found = registered
            .iter()
            .find(|c| URL_SAFE_NO_PAD.encode(Sha256::digest(c.as_ref())) == t);
        let hex = URL_SAFE_NO_PAD
            .decode(t)
            .map(|b| b.iter().map(|x| format!("{x:02X}")).collect())
            .unwrap_or_else(|_| t.to_string());
        return (hex, found);
    }
    if let Some(t) = header.get("x5t").and_then(Value::as_str) {
        let sha1 = |c: &CertificateDer<'_>| {
            let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, c.as_ref());
            URL_SAFE_NO_PAD.encode(d.as_ref())
        };
        let found = registered.iter().find(|c| sha1(c) == t);
        return (t.to_string(), found);
    }
    (String::new(), None)
}

/// Checks `assertion` from `client_id` at the token endpoint `audience` against the
/// certificates registered on the app, at `now` (Unix seconds).
pub(crate) fn verify(
    assertion: &str,
    client_id: &str,
    audience: &str,
    registered: &[CertificateDer<'static>],
    now: u64,
) -> Result<(), Refusal> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err(malformed());
    };
    let (header, claims) = (decode(h)?, decode(c)?);
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed())?;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    if !text("iss").eq_ignore_ascii_case(client_id) || !text("sub").eq_ignore_ascii_case(client_id)
    {
        return Err(refuse(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
        ));
    }
    if !text("aud").eq_ignore_ascii_case(audience) {
        return Err(refuse(
            700023,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
        ));
    }
    let (thumbprint, cert) = find_key(&header, registered);
    let Some(cert) = cert else {
        return Err(refuse(
            700027,
            format!(
                "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'. Review the documentation at https://learn.microsoft.com/graph/api/application-get to learn more.]"
            ),
        ));
    };
    let alg: &dyn rustls_pki_types::SignatureVerificationAlgorithm =
        match header.get("alg").and_then(Value::as_str) {
            Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            _ => return Err(malformed()),
        };
    let verified = webpki::EndEntityCert::try_from(cert)
        .map_err(|_| malformed())?
        .verify_signature(alg, format!("{h}.{c}").as_bytes(), &signature);
    if verified.is_err() {
        return Err(refuse(
            700027,
            format!(
                "Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{thumbprint}']"
            ),
        ));
    }
    let time = |k: &str| claims.get(k).and_then(Value::as_u64);
    let (Some(nbf), Some(exp)) = (time("nbf"), time("exp")) else {
        return Err(malformed());
    };
    if now + CLOCK_SKEW_SECS < nbf || now >= exp + CLOCK_SKEW_SECS {
        let at = |t: u64| {
            chrono::DateTime::from_timestamp(t as i64, 0)
                .map(|d| d.format("%m/%d/%Y %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        return Err(refuse(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                at(now),
                at(nbf),
                at(exp)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::client_assertion::{ClientCertificate, certificate_der};
    use std::time::{Duration, UNIX_EPOCH};

    const CERT: &str = include_str!("../../tests/fixtures/certs/app.crt");
    const KEY: &str = include_str!("../../tests/fixtures/certs/app.key");
    const OTHER_CERT: &str = include_str!("../../tests/fixtures/certs/other.crt");
    const OTHER_KEY: &str = include_str!("../../tests/fixtures/certs/other.key");
    const AUD: &str = "http://127.0.0.1:1/t/oauth2/v2.0/token";
    const NOW: u64 = 1_800_000_000;

    fn assertion(cert: &str, key: &str, at: u64) -> String {
        ClientCertificate::from_pem(cert.as_bytes(), key.as_bytes())
            .unwrap()
            .assertion("app", AUD, UNIX_EPOCH + Duration::from_secs(at))
            .unwrap()
    }

    fn code(r: Result<(), Refusal>) -> u32 {
        r.err().map(|r| r.code).unwrap_or(0)
    }

    #[test]
    fn checks_the_key_the_signature_the_audience_and_the_time() {
        let registered = vec![certificate_der(CERT.as_bytes()).unwrap()];
        let good = assertion(CERT, KEY, NOW);
        assert_eq!(verify(&good, "app", AUD, &registered, NOW + 10), Ok(()));
        // Another app's certificate: not registered.
        let other = assertion(OTHER_CERT, OTHER_KEY, NOW);
        let r = verify(&other, "app", AUD, &registered, NOW).unwrap_err();
        assert_eq!((r.status, r.error, r.code), (401, "invalid_client", 700027));
        assert!(r.text.contains("The key was not found"), "{}", r.text);
        // The registered certificate's thumbprint, signed with another key.
        let (signed, _) = good.rsplit_once('.').unwrap();
        let (_, forged) = other.rsplit_once('.').unwrap();
        let r = verify(&format!("{signed}.{forged}"), "app", AUD, &registered, NOW);
        assert_eq!(code(r), 700027);
        // Expired, and not yet valid.
        let r = verify(&good, "app", AUD, &registered, NOW + 600 + CLOCK_SKEW_SECS).unwrap_err();
        assert_eq!((r.error, r.code), ("invalid_client", 700024));
        assert_eq!(
            code(verify(&good, "app", AUD, &registered, NOW - 3600)),
            700024
        );
        // Another audience, another client, not a JWT.
        let r = verify(
            &good,
            "app",
            "http://127.0.0.1:1/x/oauth2/v2.0/token",
            &registered,
            NOW,
        );
        assert_eq!(code(r), 700023);
        assert_eq!(
            code(verify(&good, "other-app", AUD, &registered, NOW)),
            700021
        );
        assert_eq!(code(verify("abc.def", "app", AUD, &registered, NOW)), 50027);
    }
}
