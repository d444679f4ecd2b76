//! Turning a system's configured credential source into the credentials it signs in with:
//! the stored set it names (the store opened and decrypted once, on first need), or the keys
//! given in the config with the secret from its environment variable or inline.

use std::path::Path;

use super::config::{AuthConfig, AuthSource, CredentialsSection};
use super::error::CredentialError;
use super::model::{CertificatePem, CredentialSet, DEFAULT_AUTHORITY, EntraApp};
use super::store::CredentialStore;
use crate::systems::Secret;
use crate::systems::client_assertion::{CertificateError, ClientCertificate};

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
    let certificate = match (&s.certificate_file, &s.private_key_file) {
        (Some(cert), Some(key)) => Some(certificate_files(at, cert, key)?),
        _ => None,
    };
    let client_secret = match (&s.client_secret_env, &s.client_secret) {
        _ if certificate.is_some() => Secret::default(),
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
        certificate,
    })
}

/// The certificate and private key files of table `at`, read and checked (the key must be
/// the certificate's); a key file others can read is warned about, naming the chmod.
fn certificate_files(at: &str, cert: &Path, key: &Path) -> Result<CertificatePem, CredentialError> {
    let read = |key_name: &str, p: &Path| {
        std::fs::read_to_string(p).map_err(|e| CredentialError::Setting {
            setting: format!("{at}.{key_name}"),
            reason: format!("cannot read {}: {e}", p.display()),
        })
    };
    let pem = CertificatePem {
        certificate: read("certificate_file", cert)?,
        private_key: Secret::new(read("private_key_file", key)?),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(m) = std::fs::metadata(key)
            && m.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                setting = %format!("{at}.private_key_file"),
                file = %key.display(),
                "The certificate's private key file can be read by others than its owner; run `chmod 600 {}`, or store it with `couplet credentials set`.",
                key.display()
            );
        }
    }
    ClientCertificate::from_pem(
        pem.certificate.as_bytes(),
        pem.private_key.expose().as_bytes(),
    )
    .map_err(|e| {
        let setting = match e {
            CertificateError::Certificate(_) => "certificate_file",
            _ => "private_key_file",
        };
        CredentialError::Setting {
            setting: format!("{at}.{setting}"),
            reason: e.to_string(),
        }
    })?;
    Ok(pem)
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
            certificate: None,
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
    fn a_certificate_from_files_is_read_and_checked() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
        let table = |key: &str| {
            let text = format!(
                "[auth.bc]\ntenant_id = \"t\"\nclient_id = \"c\"\ncertificate_file = \"{}\"\nprivate_key_file = \"{}\"\n",
                fixtures.join("app.crt").display(),
                fixtures.join(key).display()
            );
            let auth: AuthConfig = toml::from_str::<toml::Value>(&text).unwrap()["auth"]
                .clone()
                .try_into()
                .unwrap();
            auth
        };
        let section = CredentialsSection::default();
        let dir = tempfile::tempdir().unwrap();
        let auth = table("app.key");
        let app = Resolver::new(&auth, &section, dir.path())
            .entra_app("bc")
            .unwrap();
        assert!(app.client_secret.is_empty() && app.certificate.is_some());
        assert!(matches!(
            app.proof().unwrap(),
            crate::systems::ClientProof::Certificate(_)
        ));
        let auth = table("other.key");
        let e = Resolver::new(&auth, &section, dir.path())
            .entra_app("bc")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("auth.bc.private_key_file") && e.contains("does not belong"),
            "{e}"
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
