//! A credential set: what one system signs in with. Secrets are [`Secret`]s (`Debug` prints
//! `***`); only the store serialises them, into its encrypted payload.

use serde::{Deserialize, Serialize, Serializer};

use crate::systems::Secret;

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
                format!(
                    "tenant {} client {} at {}",
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
    /// The client secret's value.
    #[serde(serialize_with = "expose")]
    pub client_secret: Secret,
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
        });
        let u = CredentialSet::UserPassword(UserPassword {
            user: "manager".into(),
            password: Secret::new("s3cr3t-u"),
            company_db: Some("SBODEMOUS".into()),
        });
        for set in [&e, &u] {
            let d = format!("{set:?}");
            assert!(!d.contains("s3cr3t") && d.contains("***"), "{d}");
            assert!(!set.identity().contains("s3cr3t"));
            let json = serde_json::to_string(set).unwrap();
            assert!(
                json.contains("s3cr3t"),
                "the payload carries the secret: {json}"
            );
            assert_eq!(&serde_json::from_str::<CredentialSet>(&json).unwrap(), set);
        }
        assert_eq!(u.kind(), "user-password");
        assert!(u.identity().contains("SBODEMOUS"));
    }
}
