//! The configuration of credentials: `[auth]` (the shared default credential set of the
//! Microsoft systems), `[auth.<system>]` (one system's own set), and `[credentials]` (the
//! encrypted store and its key). Documented in README.md, "Credentials".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use super::error::CredentialError;
use super::key::StoreKey;
use super::store::CredentialStore;
use crate::error::ConfigError;
use crate::systems::Secret;

/// The environment variable holding the store's key when `[credentials] key_env` is not set.
pub const DEFAULT_KEY_ENV: &str = "COUPLET_CREDENTIALS_KEY";
/// The store's file name in the data directory when `[credentials] file` is not set.
pub const DEFAULT_STORE_FILE: &str = "credentials.enc";

/// Where one system's credentials come from: a set in the encrypted store (`credential`), or
/// the keys of an Entra ID app given here, the secret from an environment variable
/// (`client_secret_env`) or, discouraged and warned about, inline (`client_secret`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSource {
    /// The name of a set in the credential store (`couplet credentials set NAME`).
    #[serde(default)]
    pub credential: Option<String>,
    /// Entra ID authority, ending in `/` (default `https://login.microsoftonline.com/`).
    #[serde(default)]
    pub authority: Option<String>,
    /// Directory (tenant) id or domain.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Application (client) id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client secret's value, inline (a warning names it; prefer `credential`).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// Name of the environment variable that holds the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// A certificate uploaded to the app registration (PEM file), to sign in with instead of
    /// a client secret; with `private_key_file`.
    #[serde(default)]
    pub certificate_file: Option<PathBuf>,
    /// The certificate's private key (PEM file, RSA; warned about unless `0600`).
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
}

impl AuthSource {
    /// Checks that the keys make one way to sign in; `at` is the table (`auth`, `auth.bc`).
    pub fn check(&self, at: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, reason: String| {
            Err(ConfigError::Invalid {
                setting: format!("{at}.{key}"),
                reason,
            })
        };
        if let Some(name) = &self.credential {
            let inline = [
                ("authority", self.authority.is_some()),
                ("tenant_id", self.tenant_id.is_some()),
                ("client_id", self.client_id.is_some()),
                ("client_secret", self.client_secret.is_some()),
                ("client_secret_env", self.client_secret_env.is_some()),
                ("certificate_file", self.certificate_file.is_some()),
                ("private_key_file", self.private_key_file.is_some()),
            ];
            if let Some((key, _)) = inline.iter().find(|(_, set)| *set) {
                return bad(
                    key,
                    format!(
                        "[{at}] names the stored credential '{name}', which holds the whole set; remove {key} (or remove credential to configure it here)"
                    ),
                );
            }
            if name.trim().is_empty() {
                return bad("credential", "give the name of a stored credential".into());
            }
            return Ok(());
        }
        for (key, v) in [
            ("tenant_id", &self.tenant_id),
            ("client_id", &self.client_id),
        ] {
            if v.is_none() {
                return bad(
                    key,
                    format!(
                        "missing: [{at}] needs credential = \"<name>\" (a set stored with `couplet credentials set`), or tenant_id, client_id and client_secret_env"
                    ),
                );
            }
        }
        match (&self.certificate_file, &self.private_key_file) {
            (Some(_), None) => {
                return bad(
                    "private_key_file",
                    format!(
                        "missing: [{at}] certificate_file needs the certificate's private key file"
                    ),
                );
            }
            (None, Some(_)) => {
                return bad(
                    "certificate_file",
                    format!(
                        "missing: [{at}] private_key_file needs the certificate file it belongs to"
                    ),
                );
            }
            (Some(_), Some(_))
                if self.client_secret.is_some() || self.client_secret_env.is_some() =>
            {
                let key = if self.client_secret_env.is_some() {
                    "client_secret_env"
                } else {
                    "client_secret"
                };
                return bad(
                    key,
                    format!(
                        "[{at}] signs in with a certificate (certificate_file); remove {key}, or remove certificate_file and private_key_file to sign in with the secret"
                    ),
                );
            }
            _ => {}
        }
        if let Some(a) = &self.authority {
            crate::systems::registry::check_url(&format!("{at}.authority"), a).map_err(|e| {
                ConfigError::Invalid {
                    setting: e.setting,
                    reason: e.reason,
                }
            })?;
        }
        Ok(())
    }

    /// True when the secret is written in the config file itself.
    pub fn has_inline_secret(&self) -> bool {
        self.client_secret.is_some() && self.client_secret_env.is_none()
    }
}

/// `[auth]`: the shared default (`[auth]`'s own keys, used by every system without a table
/// of its own) and the systems' own sets (`[auth.dataverse]`, `[auth.bc]`, `[auth.fo]`).
/// A system's table is complete by itself: nothing is inherited from the shared keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthConfig {
    /// `[auth]`'s own keys; `None` when it has none.
    pub shared: Option<AuthSource>,
    /// `[auth.<system>]` tables, by system name.
    pub systems: BTreeMap<String, AuthSource>,
}

impl<'de> Deserialize<'de> for AuthConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let table = toml::Table::deserialize(d)?;
        let mut own = toml::Table::new();
        let mut systems = BTreeMap::new();
        for (k, v) in table {
            match v {
                toml::Value::Table(t) => {
                    let src: AuthSource = toml::Value::Table(t)
                        .try_into()
                        .map_err(|e| D::Error::custom(format!("[auth.{k}]: {e}")))?;
                    systems.insert(k, src);
                }
                other => {
                    own.insert(k, other);
                }
            }
        }
        let shared = if own.is_empty() {
            None
        } else {
            Some(
                toml::Value::Table(own)
                    .try_into::<AuthSource>()
                    .map_err(|e| D::Error::custom(format!("[auth]: {e}")))?,
            )
        };
        Ok(AuthConfig { shared, systems })
    }
}

impl AuthConfig {
    /// The source of `system`'s credentials and the table it is in (`auth.bc`, or `auth`
    /// for the shared default); `None` when neither is configured.
    pub fn source_for(&self, system: &str) -> Option<(String, &AuthSource)> {
        match self.systems.get(system) {
            Some(s) => Some((format!("auth.{system}"), s)),
            None => self.shared.as_ref().map(|s| ("auth".to_string(), s)),
        }
    }

    /// Checks every table; `known` tells a registered system's name, listed in `names`.
    pub fn check(&self, known: impl Fn(&str) -> bool, names: &str) -> Result<(), ConfigError> {
        if let Some(s) = &self.shared {
            s.check("auth")?;
        }
        for (system, s) in &self.systems {
            if !known(system) {
                return Err(ConfigError::Invalid {
                    setting: format!("auth.{system}"),
                    reason: format!(
                        "[auth.{system}] is not a system's credentials: the systems are {names}; the shared keys are authority, tenant_id, client_id, client_secret_env, client_secret, certificate_file, private_key_file and credential"
                    ),
                });
            }
            s.check(&format!("auth.{system}"))?;
        }
        Ok(())
    }

    /// Checks that `system` has credentials (its own table or the shared default).
    pub fn require(&self, system: &str) -> Result<(), ConfigError> {
        if self.source_for(system).is_none() {
            return Err(ConfigError::Invalid {
                setting: format!("auth.{system}"),
                reason: format!(
                    "no credentials for {system}: add [auth.{system}] with credential = \"<name>\" (stored with `couplet credentials set`), or a shared [auth] section"
                ),
            });
        }
        Ok(())
    }

    /// The settings holding an inline secret (`auth.client_secret`, `auth.bc.client_secret`).
    pub fn inline_secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self
            .shared
            .as_ref()
            .is_some_and(AuthSource::has_inline_secret)
        {
            out.push("auth.client_secret".to_string());
        }
        for (system, s) in &self.systems {
            if s.has_inline_secret() {
                out.push(format!("auth.{system}.client_secret"));
            }
        }
        out
    }

    /// True when some system's credentials are in the store.
    pub fn uses_store(&self) -> bool {
        self.shared
            .iter()
            .chain(self.systems.values())
            .any(|s| s.credential.is_some())
    }
}

/// `[credentials]`: the encrypted credential store and its key.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSection {
    /// The store's file (default `credentials.enc` in the data directory).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A file holding the key (base64, 44 characters); it must be `0600`. When set it is used
    /// instead of the environment variable.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The environment variable holding the key (default `COUPLET_CREDENTIALS_KEY`).
    #[serde(default = "default_key_env")]
    pub key_env: String,
}

impl Default for CredentialsSection {
    fn default() -> Self {
        CredentialsSection {
            file: None,
            key_file: None,
            key_env: default_key_env(),
        }
    }
}

fn default_key_env() -> String {
    DEFAULT_KEY_ENV.to_string()
}

impl CredentialsSection {
    /// The store's file for data directory `data_dir`.
    pub fn store_file(&self, data_dir: &Path) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| data_dir.join(DEFAULT_STORE_FILE))
    }

    /// The key: from `key_file` when set, else from the `key_env` variable.
    pub fn load_key(&self) -> Result<StoreKey, CredentialError> {
        if let Some(f) = &self.key_file {
            return StoreKey::from_file(f);
        }
        StoreKey::from_env(&self.key_env)?.ok_or_else(|| CredentialError::NoKey {
            env: self.key_env.clone(),
        })
    }

    /// Opens (decrypts) the store of data directory `data_dir`.
    pub fn open_store(&self, data_dir: &Path) -> Result<CredentialStore, CredentialError> {
        CredentialStore::open(&self.store_file(data_dir), self.load_key()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        auth: AuthConfig,
    }

    fn parse(text: &str) -> Result<AuthConfig, String> {
        toml::from_str::<Doc>(text)
            .map(|d| d.auth)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn shared_default_and_per_system_tables() {
        let a = parse(
            "[auth]\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n\
             [auth.bc]\ncredential = \"bc-prod\"\n",
        )
        .unwrap();
        a.check(|s| s == "bc" || s == "dataverse", "dataverse, bc")
            .unwrap();
        assert_eq!(a.source_for("dataverse").unwrap().0, "auth");
        let (at, bc) = a.source_for("bc").unwrap();
        assert_eq!(
            (at.as_str(), bc.credential.as_deref()),
            ("auth.bc", Some("bc-prod"))
        );
        assert!(a.uses_store());
        assert!(a.inline_secrets().is_empty());

        let only = parse("[auth.dataverse]\ncredential = \"dv\"\n").unwrap();
        assert!(only.shared.is_none());
        let e = only.require("bc").unwrap_err().to_string();
        assert!(
            e.contains("[auth.bc]") && e.contains("credentials set"),
            "{e}"
        );
        assert!(parse("").unwrap().source_for("bc").is_none());
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse("[auth.bc]\ncredential = \"x\"\nclient_secret = \"s\"\n")
            .unwrap()
            .check(|_| true, "")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("auth.bc.client_secret") && e.contains("credential"),
            "{e}"
        );
        let e = parse("[auth.bx]\ncredential = \"x\"\n")
            .unwrap()
            .check(|s| s == "bc", "dataverse, bc")
            .unwrap_err()
            .to_string();
        assert!(e.contains("auth.bx") && e.contains("dataverse, bc"), "{e}");
        let e = parse("[auth.bc]\ncredentail = \"x\"\n").unwrap_err();
        assert!(e.contains("credentail") && e.contains("auth.bc"), "{e}");
        let e = parse("[auth]\ntenant = \"x\"\n").unwrap_err();
        assert!(e.contains("tenant"), "{e}");
        let e = parse("[auth.fo]\ntenant_id = \"t\"\n")
            .unwrap()
            .check(|_| true, "")
            .unwrap_err()
            .to_string();
        assert!(e.contains("auth.fo.client_id"), "{e}");
        let inline = parse("[auth]\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret = \"s3\"\n\
                            [auth.bc]\ntenant_id = \"t\"\nclient_id = \"c\"\nclient_secret = \"s4\"\n")
            .unwrap();
        assert_eq!(
            inline.inline_secrets(),
            ["auth.client_secret", "auth.bc.client_secret"]
        );
        assert!(!format!("{inline:?}").contains("s3"));
        let cert = |extra: &str| {
            parse(&format!(
                "[auth.bc]\ntenant_id = \"t\"\nclient_id = \"c\"\n{extra}"
            ))
            .unwrap()
            .check(|_| true, "")
            .map_err(|e| e.to_string())
        };
        cert("certificate_file = \"a.crt\"\nprivate_key_file = \"a.key\"\n").unwrap();
        let e = cert("certificate_file = \"a.crt\"\n").unwrap_err();
        assert!(e.contains("auth.bc.private_key_file"), "{e}");
        let e = cert("private_key_file = \"a.key\"\n").unwrap_err();
        assert!(e.contains("auth.bc.certificate_file"), "{e}");
        let e =
            cert("certificate_file = \"a\"\nprivate_key_file = \"b\"\nclient_secret_env = \"S\"\n")
                .unwrap_err();
        assert!(
            e.contains("auth.bc.client_secret_env") && e.contains("certificate"),
            "{e}"
        );
    }
}
