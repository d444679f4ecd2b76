//! A credential set: what one system signs in with. Secrets are [`Secret`]s (`Debug` prints
//! `***`); only the store serialises them, into its encrypted payload.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};

use crate::systems::client_assertion::{
    CertificateError, ClientCertificate, certificate_der, portal_thumbprint, thumbprint_s256,
};
use crate::systems::{ClientProof, Secret};

/// The Entra ID authority used when none is given.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com/";

/// One system's credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CredentialSet {
    /// An Entra ID app registration (client credentials): Dataverse, Business Central, F&O.
    Entra(EntraApp),
    /// A user name and password: SAP Business One's Service Layer (`POST /b1s/v1/Login`).
    UserPassword(UserPassword),
}

impl CredentialSet {
    /// The kind's name, as `credentials list` shows it and `--kind` takes it.
    pub fn kind(&self) -> &'static str {
        match self {
            CredentialSet::Entra(_) => "entra",
            CredentialSet::UserPassword(_) => "user-password",
        }
    }

    /// The identity it signs in as (tenant and client id, or the user), never the secret.
    pub fn identity(&self) -> String {
        match self {
            CredentialSet::Entra(a) => {
                let proof = match &a.certificate {
                    Some(c) => match certificate_der(c.certificate.as_bytes()) {
                        Ok(der) => format!(
                            " with certificate x5t#S256 {} (thumbprint {})",
                            thumbprint_s256(&der),
                            portal_thumbprint(&der)
                        ),
                        Err(_) => " with an unreadable certificate".to_string(),
                    },
                    None => String::new(),
                };
                format!(
                    "tenant {} client {} at {}{proof}",
                    a.tenant_id, a.client_id, a.authority
                )
            }
            CredentialSet::UserPassword(u) => match &u.company_db {
                Some(db) => format!("user {} company {db}", u.user),
                None => format!("user {}", u.user),
            },
        }
    }
}

/// An Entra ID app registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntraApp {
    /// The authority (token host), ending in `/`.
    pub authority: String,
    /// Directory (tenant) id or domain.
    pub tenant_id: String,
    /// Application (client) id.
    pub client_id: String,
    /// The client secret's value; empty when the app signs in with a certificate.
    #[serde(
        default,
        skip_serializing_if = "Secret::is_empty",
        serialize_with = "expose"
    )]
    pub client_secret: Secret,
    /// The certificate and key the app signs in with instead of a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificatePem>,
}

impl EntraApp {
    /// How the app proves who it is: its certificate when it has one, else its secret.
    pub fn proof(&self) -> Result<ClientProof, CertificateError> {
        match &self.certificate {
            Some(c) => Ok(ClientProof::Certificate(Arc::new(
                ClientCertificate::from_pem(
                    c.certificate.as_bytes(),
                    c.private_key.expose().as_bytes(),
                )?,
            ))),
            None => Ok(ClientProof::Secret(self.client_secret.clone())),
        }
    }
}

/// A certificate uploaded to the app registration and its private key, as PEM texts
/// (certificate credentials). `Debug` shows neither.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificatePem {
    /// The certificate (PEM `CERTIFICATE`).
    pub certificate: String,
    /// Its private key (PEM `PRIVATE KEY` or `RSA PRIVATE KEY`).
    #[serde(serialize_with = "expose")]
    pub private_key: Secret,
}

impl fmt::Debug for CertificatePem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificatePem")
            .field(
                "certificate",
                &format_args!("<{} bytes of PEM>", self.certificate.len()),
            )
            .field("private_key", &self.private_key)
            .finish()
    }
}

/// A user name and password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPassword {
    /// The user name.
    pub user: String,
    /// The password.
    #[serde(serialize_with = "expose")]
    pub password: Secret,
    /// SAP Business One's company database, when the system needs one to sign in.
    #[serde(default)]
    pub company_db: Option<String>,
}

/// Serialises a secret's value: used only for the store's payload, which is encrypted
/// before it leaves memory.
fn expose<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_secret_and_serde_round_trips() {
        let e = CredentialSet::Entra(EntraApp {
            authority: DEFAULT_AUTHORITY.into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("s3cr3t-e"),
            certificate: None,
        });
        let c = CredentialSet::Entra(EntraApp {
            authority: DEFAULT_AUTHORITY.into(),
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::default(),
            certificate: Some(CertificatePem {
                certificate: include_str!("../../tests/fixtures/certs/app.crt").into(),
                private_key: Secret::new(include_str!("../../tests/fixtures/certs/app.key")),
            }),
        });
        let u = CredentialSet::UserPassword(UserPassword {
            user: "manager".into(),
            password: Secret::new("s3cr3t-u"),
            company_db: Some("SBODEMOUS".into()),
        });
        for set in [&e, &u, &c] {
            let d = format!("{set:?}");
            assert!(
                !d.contains("s3cr3t") && !d.contains("PRIVATE KEY") && d.contains("***"),
                "{d}"
            );
            assert!(!set.identity().contains("s3cr3t"));
            let json = serde_json::to_string(set).unwrap();
            assert!(
                json.contains("s3cr3t") || json.contains("PRIVATE KEY"),
                "the payload carries the secret: {json}"
            );
            assert_eq!(&serde_json::from_str::<CredentialSet>(&json).unwrap(), set);
        }
        assert_eq!(u.kind(), "user-password");
        assert!(u.identity().contains("SBODEMOUS"));
        assert!(
            c.identity().contains("with certificate x5t#S256 "),
            "{}",
            c.identity()
        );
        // A set stored before certificates (a secret, no certificate key) still reads.
        let old = r#"{"kind":"entra","authority":"https://login.microsoftonline.com/","tenant_id":"t","client_id":"c","client_secret":"s3cr3t-e"}"#;
        assert_eq!(serde_json::from_str::<CredentialSet>(old).unwrap(), e);
    }
}
