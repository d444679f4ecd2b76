//! Turning a system's configured credential source into the credentials it signs in with:
//! the stored set it names (the store opened and decrypted once, on first need), or the keys
//! given in the config with the secret from its environment variable or inline.

use std::path::Path;

use super::config::{AuthConfig, AuthSource, CredentialsSection};
use super::error::CredentialError;
use super::model::{CredentialSet, DEFAULT_AUTHORITY, EntraApp};
use super::store::CredentialStore;
use crate::systems::Secret;

/// Resolves the systems' credentials of one configuration.
#[derive(Debug)]
pub struct Resolver<'a> {
    auth: &'a AuthConfig,
    section: &'a CredentialsSection,
    data_dir: &'a Path,
    store: Option<CredentialStore>,
}

impl<'a> Resolver<'a> {
    /// A resolver for a config's `[auth]` and `[credentials]`, with its data directory.
    pub fn new(auth: &'a AuthConfig, section: &'a CredentialsSection, data_dir: &'a Path) -> Self {
        Resolver {
            auth,
            section,
            data_dir,
            store: None,
        }
    }

    /// The setting that gives `system`'s credentials (`auth.bc.credential`, `auth`, …) and
    /// the name of the stored set it refers to, if any.
    pub fn origin(&self, system: &str) -> Option<(String, Option<String>)> {
        self.auth
            .source_for(system)
            .map(|(at, s)| match &s.credential {
                Some(name) => (format!("{at}.credential"), Some(name.clone())),
                None => (at, None),
            })
    }

    /// The Entra ID app `system` signs in with.
    pub fn entra_app(&mut self, system: &str) -> Result<EntraApp, CredentialError> {
        let (at, source) =
            self.auth
                .source_for(system)
                .ok_or_else(|| CredentialError::Setting {
                    setting: format!("auth.{system}"),
                    reason: format!(
                        "no credentials for {system}: add [auth.{system}] with credential = \"<name>\", or a shared [auth] section"
                    ),
                })?;
        let Some(name) = &source.credential else {
            return inline_app(&at, source);
        };
        let store = match self.store.take() {
            Some(s) => s,
            None => self.section.open_store(self.data_dir)?,
        };
        let found = stored_app(&store, &at, name, system);
        self.store = Some(store);
        found
    }
}

/// The Entra ID app stored as `name`, named by setting `at` for `system`.
fn stored_app(
    store: &CredentialStore,
    at: &str,
    name: &str,
    system: &str,
) -> Result<EntraApp, CredentialError> {
    match store.get(name)? {
        CredentialSet::Entra(app) => Ok(app.clone()),
        other => Err(CredentialError::WrongKind {
            setting: format!("{at}.credential"),
            name: name.to_string(),
            system: system.to_string(),
            expected: "an Entra ID app (`couplet credentials set NAME --kind entra`)",
            found: match other.kind() {
                "user-password" => "a user name and password",
                _ => "of another kind",
            },
        }),
    }
}

/// The app given by the keys of table `at`.
fn inline_app(at: &str, s: &AuthSource) -> Result<EntraApp, CredentialError> {
    let need = |key: &str, v: &Option<String>| {
        v.clone().ok_or_else(|| CredentialError::Setting {
            setting: format!("{at}.{key}"),
            reason: format!(
                "missing: [{at}] needs credential, or tenant_id, client_id and client_secret_env"
            ),
        })
    };
    let client_secret = match (&s.client_secret_env, &s.client_secret) {
        (Some(var), _) => Secret::new(std::env::var(var).map_err(|_| CredentialError::Setting {
            setting: format!("{at}.client_secret_env"),
            reason: format!("environment variable {var} is not set; export it with the client secret's value"),
        })?),
        (None, Some(inline)) => inline.clone(),
        (None, None) => {
            return Err(CredentialError::Setting {
                setting: format!("{at}.client_secret_env"),
                reason: format!(
                    "no client secret: set {at}.client_secret_env, or store the set with `couplet credentials set` and name it with {at}.credential"
                ),
            });
        }
    };
    Ok(EntraApp {
        authority: s
            .authority
            .clone()
            .unwrap_or_else(|| DEFAULT_AUTHORITY.to_string()),
        tenant_id: need("tenant_id", &s.tenant_id)?,
        client_id: need("client_id", &s.client_id)?,
        client_secret,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::key::StoreKey;
    use crate::credentials::model::UserPassword;

    #[test]
    fn each_system_gets_its_own_set_from_the_store_or_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("k");
        let key = StoreKey::create_file(&key_file).unwrap();
        let section = CredentialsSection {
            key_file: Some(key_file),
            ..Default::default()
        };
        let mut store = CredentialStore::open(&section.store_file(dir.path()), key).unwrap();
        let app = |secret: &str| EntraApp {
            authority: "http://127.0.0.1:1/".into(),
            tenant_id: "t-bc".into(),
            client_id: "c-bc".into(),
            client_secret: Secret::new(secret),
        };
        store
            .set("bc-prod", CredentialSet::Entra(app("s-bc")))
            .unwrap();
        store
            .set(
                "b1",
                CredentialSet::UserPassword(UserPassword {
                    user: "u".into(),
                    password: Secret::new("p"),
                    company_db: None,
                }),
            )
            .unwrap();
        store.save().unwrap();
        let auth: AuthConfig = toml::from_str::<toml::Value>(
            "[auth]\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret = \"inline\"\n\
             [auth.bc]\ncredential = \"bc-prod\"\n[auth.fo]\ncredential = \"b1\"\n",
        )
        .unwrap()["auth"]
            .clone()
            .try_into()
            .unwrap();
        let mut r = Resolver::new(&auth, &section, dir.path());
        assert_eq!(r.entra_app("bc").unwrap(), app("s-bc"));
        let dv = r.entra_app("dataverse").unwrap();
        assert_eq!(
            (dv.tenant_id.as_str(), dv.client_secret.expose()),
            ("t", "inline")
        );
        assert_eq!(dv.authority, DEFAULT_AUTHORITY);
        let e = r.entra_app("fo").unwrap_err().to_string();
        assert!(
            e.contains("auth.fo.credential") && e.contains("user name and password"),
            "{e}"
        );
        assert_eq!(
            r.origin("bc"),
            Some(("auth.bc.credential".into(), Some("bc-prod".into())))
        );
    }

    #[test]
    fn a_missing_key_or_variable_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let auth: AuthConfig = toml::from_str::<toml::Value>(
            "[auth.bc]\ncredential = \"x\"\n[auth.dataverse]\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"COUPLET_TEST_UNSET_SECRET_VAR\"\n",
        )
        .unwrap()["auth"]
            .clone()
            .try_into()
            .unwrap();
        let section = CredentialsSection {
            key_env: "COUPLET_TEST_UNSET_KEY_VAR".into(),
            ..Default::default()
        };
        let mut r = Resolver::new(&auth, &section, dir.path());
        let e = r.entra_app("bc").unwrap_err().to_string();
        assert!(
            e.contains("COUPLET_TEST_UNSET_KEY_VAR") && e.contains("new-key"),
            "{e}"
        );
        let e = r.entra_app("dataverse").unwrap_err().to_string();
        assert!(
            e.contains("auth.dataverse.client_secret_env")
                && e.contains("COUPLET_TEST_UNSET_SECRET_VAR"),
            "{e}"
        );
        assert!(
            r.entra_app("fo")
                .unwrap_err()
                .to_string()
                .contains("[auth.fo]")
        );
    }
}
