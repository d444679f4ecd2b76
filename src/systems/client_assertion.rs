//! Entra ID client certificates: the signed JWT (a *client assertion*) an app sends instead of
//! a client secret in the client-credentials flow.
//!
//! As Microsoft documents it ("Microsoft identity platform application authentication
//! certificate credentials", <https://learn.microsoft.com/entra/identity-platform/certificate-credentials>):
//! the header carries `alg` `PS256`, `typ` `JWT` and `x5t#S256`, the base64url SHA-256
//! thumbprint of the certificate's DER encoding; the claims are `aud` (the token endpoint,
//! `https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`), `iss` and `sub` (the client
//! id), `jti` (a new GUID), `nbf` and `iat` (now) and `exp` (a few minutes later: "5-10
//! minutes after nbf at most"); the signature is RSASSA-PSS with SHA-256. The token request
//! sends it as `client_assertion`, with `client_assertion_type=
//! urn:ietf:params:oauth:client-assertion-type:jwt-bearer` (the client-credentials flow,
//! <https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow>).
//!
//! The certificate and its RSA private key are read from PEM (`CERTIFICATE`, and `PRIVATE
//! KEY` (PKCS #8) or `RSA PRIVATE KEY` (PKCS #1)) with `rustls-pki-types`; signing is `ring`'s,
//! and the key is checked against the certificate once, when loaded, with `rustls-webpki`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid after its `nbf`.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(600);

/// Why a certificate or its key cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    /// The certificate's PEM has no readable `CERTIFICATE` block, or it is not X.509.
    #[error("the certificate is not a PEM X.509 certificate ({0})")]
    Certificate(String),
    /// The key's PEM has no readable private key.
    #[error(
        "the private key is not a PEM RSA private key (PKCS #8 `PRIVATE KEY` or PKCS #1 `RSA PRIVATE KEY`) ({0})"
    )]
    Key(String),
    /// The key does not belong to the certificate.
    #[error(
        "the private key does not belong to the certificate (thumbprint {thumbprint}): give the key the certificate was made with"
    )]
    Mismatch {
        /// The certificate's `x5t#S256`.
        thumbprint: String,
    },
    /// Signing failed.
    #[error("signing the client assertion failed")]
    Signing,
}

/// An app's certificate and private key, ready to sign client assertions. `Debug` shows the
/// thumbprint only.
pub struct ClientCertificate {
    key: RsaKeyPair,
    thumbprint: String,
    portal_thumbprint: String,
    rng: SystemRandom,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t#S256", &self.thumbprint)
            .field("private_key", &"***")
            .finish()
    }
}

/// The base64url SHA-256 thumbprint (`x5t#S256`) of a DER certificate.
pub fn thumbprint_s256(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// The thumbprint the Azure portal lists for a DER certificate (*Certificates & secrets*):
/// its SHA-1 digest in upper-case hex. For recognising the certificate only, never signed.
pub fn portal_thumbprint(der: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// The first certificate of a PEM text, as DER.
pub fn certificate_der(pem: &[u8]) -> Result<CertificateDer<'static>, CertificateError> {
    let der = CertificateDer::from_pem_slice(pem)
        .map_err(|e| CertificateError::Certificate(e.to_string()))?;
    webpki::EndEntityCert::try_from(&der)
        .map_err(|e| CertificateError::Certificate(format!("{e:?}")))?;
    Ok(der)
}

fn rsa_key(pem: &[u8]) -> Result<RsaKeyPair, CertificateError> {
    let key =
        PrivateKeyDer::from_pem_slice(pem).map_err(|e| CertificateError::Key(e.to_string()))?;
    let parsed = match &key {
        PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
        _ => return Err(CertificateError::Key("not an RSA key".into())),
    };
    parsed.map_err(|e| CertificateError::Key(e.to_string()))
}

impl ClientCertificate {
    /// Reads a certificate and its private key (PEM texts) and checks that the key is the
    /// certificate's.
    pub fn from_pem(certificate: &[u8], private_key: &[u8]) -> Result<Self, CertificateError> {
        let der = certificate_der(certificate)?;
        let c = ClientCertificate {
            key: rsa_key(private_key)?,
            thumbprint: thumbprint_s256(&der),
            portal_thumbprint: portal_thumbprint(&der),
            rng: SystemRandom::new(),
        };
        let probe = b"couplet: does this key belong to this certificate?";
        let signature = c.sign(probe)?;
        let cert = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| CertificateError::Certificate(format!("{e:?}")))?;
        cert.verify_signature(
            webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            probe,
            &signature,
        )
        .map_err(|_| CertificateError::Mismatch {
            thumbprint: c.thumbprint.clone(),
        })?;
        Ok(c)
    }

    /// The certificate's `x5t#S256` thumbprint (what the app registration lists, in hex).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The thumbprint the Azure portal lists for the certificate (SHA-1, hex).
    pub fn portal_thumbprint(&self) -> &str {
        &self.portal_thumbprint
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CertificateError> {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PSS_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| CertificateError::Signing)?;
        Ok(signature)
    }

    /// A client assertion for `client_id` at the token endpoint `audience`, valid from `now`
    /// for [`ASSERTION_LIFETIME`].
    pub fn assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: SystemTime,
    ) -> Result<String, CertificateError> {
        let now = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let header = json!({"alg": "PS256", "typ": "JWT", "x5t#S256": self.thumbprint});
        let claims = json!({
            "aud": audience,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME.as_secs(),
        });
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign(signed.as_bytes())?;
        Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = include_str!("../../tests/fixtures/certs/app.crt");
    const KEY: &str = include_str!("../../tests/fixtures/certs/app.key");
    const OTHER_KEY: &str = include_str!("../../tests/fixtures/certs/other.key");

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let p = jwt.split('.').nth(i).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
    }

    #[test]
    fn an_assertion_carries_the_documented_header_and_claims_and_verifies() {
        let c = ClientCertificate::from_pem(CERT.as_bytes(), KEY.as_bytes()).unwrap();
        let der = certificate_der(CERT.as_bytes()).unwrap();
        let aud = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let jwt = c.assertion("client-1", aud, now).unwrap();
        let (h, claims) = (part(&jwt, 0), part(&jwt, 1));
        assert_eq!(h["alg"], "PS256");
        assert_eq!(h["typ"], "JWT");
        assert_eq!(h["x5t#S256"], thumbprint_s256(&der));
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(h["x5t#S256"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            (&claims["aud"], &claims["iss"], &claims["sub"]),
            (&json!(aud), &json!("client-1"), &json!("client-1"))
        );
        assert_eq!(claims["nbf"], 1_800_000_000u64);
        assert_eq!(claims["iat"], 1_800_000_000u64);
        assert_eq!(claims["exp"], 1_800_000_600u64);
        assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
        assert_ne!(
            part(&c.assertion("client-1", aud, now).unwrap(), 1)["jti"],
            claims["jti"]
        );
        let (signed, sig) = jwt.rsplit_once('.').unwrap();
        webpki::EndEntityCert::try_from(&der)
            .unwrap()
            .verify_signature(
                webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
                signed.as_bytes(),
                &URL_SAFE_NO_PAD.decode(sig).unwrap(),
            )
            .expect("the signature verifies against the certificate");
        // As `openssl x509 -noout -fingerprint -sha1` prints it, without the colons.
        assert_eq!(
            c.portal_thumbprint(),
            "A7B2218A1F923C42E5CE431415D0FD7FECB65A83"
        );
        let d = format!("{c:?}");
        assert!(d.contains("***") && !d.contains("PRIVATE"), "{d}");
    }

    #[test]
    fn a_key_of_another_certificate_or_not_a_key_is_refused() {
        let e = ClientCertificate::from_pem(CERT.as_bytes(), OTHER_KEY.as_bytes()).unwrap_err();
        assert!(matches!(e, CertificateError::Mismatch { .. }), "{e}");
        let e = ClientCertificate::from_pem(KEY.as_bytes(), KEY.as_bytes()).unwrap_err();
        assert!(matches!(e, CertificateError::Certificate(_)), "{e}");
        let e = ClientCertificate::from_pem(CERT.as_bytes(), CERT.as_bytes()).unwrap_err();
        assert!(matches!(e, CertificateError::Key(_)), "{e}");
    }
}
