//! The credential store: named credential sets in one file, encrypted at rest with
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), an AEAD: a changed byte anywhere, a
//! wrong key, or a header edited to claim another key is refused, never read as garbage.
//!
//! The file is JSON: `{"format": "couplet-credentials", "version": 1, "cipher":
//! "XChaCha20-Poly1305", "key_id": "…", "nonce": "…", "ciphertext": "…"}` (base64). The
//! header fields are the cipher's associated data; the nonce is 24 random bytes, new on every
//! save; the plaintext is the JSON of every set with the time it was stored. The file is
//! written `0600` and atomically (a temporary file renamed over it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, Generate as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::CredentialError;
use super::key::StoreKey;
use super::model::CredentialSet;
use crate::private_fs;

const FORMAT: &str = "couplet-credentials";
const VERSION: u32 = 1;
const CIPHER: &str = "XChaCha20-Poly1305";

/// The file's envelope.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    version: u32,
    cipher: String,
    key_id: String,
    nonce: String,
    ciphertext: String,
}

impl Envelope {
    fn associated_data(&self) -> Vec<u8> {
        format!(
            "{}\0{}\0{}\0{}",
            self.format, self.version, self.cipher, self.key_id
        )
        .into_bytes()
    }
}

/// One stored set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stored {
    /// The credentials.
    pub set: CredentialSet,
    /// When it was last set.
    pub updated: DateTime<Utc>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Plain {
    credentials: BTreeMap<String, Stored>,
}

/// The decrypted store, in memory, with the key it is saved under.
#[derive(Debug)]
pub struct CredentialStore {
    file: PathBuf,
    key: StoreKey,
    entries: BTreeMap<String, Stored>,
}

impl CredentialStore {
    /// Reads and decrypts `file` with `key`; a file that does not exist is an empty store
    /// (written by the first [`CredentialStore::save`]).
    pub fn open(file: &Path, key: StoreKey) -> Result<CredentialStore, CredentialError> {
        let io = |e: std::io::Error| CredentialError::Io {
            file: file.to_path_buf(),
            reason: e.to_string(),
        };
        let entries = match std::fs::read(file) {
            Ok(bytes) => decrypt(file, &key, &bytes)?.credentials,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io(e)),
        };
        Ok(CredentialStore {
            file: file.to_path_buf(),
            key,
            entries,
        })
    }

    /// The store's file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The key it is saved under.
    pub fn key(&self) -> &StoreKey {
        &self.key
    }

    /// The set named `name`.
    pub fn get(&self, name: &str) -> Result<&CredentialSet, CredentialError> {
        self.entries
            .get(name)
            .map(|s| &s.set)
            .ok_or_else(|| CredentialError::NotFound {
                name: name.to_string(),
                file: self.file.clone(),
                known: if self.entries.is_empty() {
                    " (it holds none)".into()
                } else {
                    let names: Vec<&str> = self.entries.keys().map(String::as_str).collect();
                    format!(" (stored: {})", names.join(", "))
                },
            })
    }

    /// Every set, by name.
    pub fn entries(&self) -> &BTreeMap<String, Stored> {
        &self.entries
    }

    /// Stores `set` as `name`, replacing a set of that name; true when it replaced one.
    /// Names are 1 to 64 letters, digits, `-`, `_` or `.`.
    pub fn set(&mut self, name: &str, set: CredentialSet) -> Result<bool, CredentialError> {
        check_name(name)?;
        let stored = Stored {
            set,
            updated: Utc::now(),
        };
        Ok(self.entries.insert(name.to_string(), stored).is_some())
    }

    /// Removes the set named `name`; true when there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        self.entries.remove(name).is_some()
    }

    /// Saves under `key` from now on (the next [`CredentialStore::save`] re-encrypts).
    pub fn rekey(&mut self, key: StoreKey) {
        self.key = key;
    }

    /// Encrypts and writes the store (`0600`, atomically), its directory created `0700`.
    pub fn save(&self) -> Result<(), CredentialError> {
        let plain = Plain {
            credentials: self.entries.clone(),
        };
        let json = serde_json::to_vec(&plain).map_err(|e| CredentialError::Format {
            file: self.file.clone(),
            reason: format!("cannot encode the credentials: {e}"),
        })?;
        let bytes = encrypt(&self.file, &self.key, &json)?;
        if let Some(dir) = self.file.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            private_fs::create_private_dir(dir).map_err(|e| CredentialError::Io {
                file: dir.to_path_buf(),
                reason: format!("cannot create the store's directory: {e}"),
            })?;
        }
        private_fs::write_private(&self.file, &bytes).map_err(|e| CredentialError::Io {
            file: self.file.clone(),
            reason: format!("cannot write: {e}"),
        })
    }
}

fn check_name(name: &str) -> Result<(), CredentialError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CredentialError::BadName {
            name: name.to_string(),
        })
    }
}

fn cipher(key: &StoreKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.bytes().into())
}

fn encrypt(file: &Path, key: &StoreKey, plain: &[u8]) -> Result<Vec<u8>, CredentialError> {
    let nonce = XNonce::generate();
    let mut env = Envelope {
        format: FORMAT.into(),
        version: VERSION,
        cipher: CIPHER.into(),
        key_id: key.id(),
        nonce: STANDARD.encode(nonce.as_slice()),
        ciphertext: String::new(),
    };
    let aad = env.associated_data();
    let sealed = cipher(key)
        .encrypt(
            &nonce,
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .map_err(|_| CredentialError::Format {
            file: file.to_path_buf(),
            reason: "encryption failed".into(),
        })?;
    env.ciphertext = STANDARD.encode(sealed);
    let mut out = serde_json::to_vec_pretty(&env).map_err(|e| CredentialError::Format {
        file: file.to_path_buf(),
        reason: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

fn decrypt(file: &Path, key: &StoreKey, bytes: &[u8]) -> Result<Plain, CredentialError> {
    let format = |reason: String| CredentialError::Format {
        file: file.to_path_buf(),
        reason,
    };
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| {
        format(format!(
            "not a credential store ({e}); it is written by `couplet credentials set`"
        ))
    })?;
    if env.format != FORMAT || env.version != VERSION || env.cipher != CIPHER {
        return Err(format(format!(
            "format {} version {} cipher {}: this Couplet reads {FORMAT} version {VERSION} ({CIPHER})",
            env.format, env.version, env.cipher
        )));
    }
    if env.key_id != key.id() {
        return Err(CredentialError::WrongKey {
            file: file.to_path_buf(),
            stored: env.key_id.clone(),
            given: key.id(),
            origin: key.origin().to_string(),
        });
    }
    let tampered = || CredentialError::Tampered {
        file: file.to_path_buf(),
    };
    let nonce = STANDARD.decode(&env.nonce).map_err(|_| tampered())?;
    let nonce = XNonce::try_from(nonce.as_slice()).map_err(|_| tampered())?;
    let sealed = STANDARD.decode(&env.ciphertext).map_err(|_| tampered())?;
    let aad = env.associated_data();
    let plain = cipher(key)
        .decrypt(
            &nonce,
            Payload {
                msg: &sealed,
                aad: &aad,
            },
        )
        .map_err(|_| tampered())?;
    serde_json::from_slice(&plain).map_err(|e| format(format!("unreadable contents: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::model::{EntraApp, UserPassword};
    use crate::systems::Secret;

    fn entra(secret: &str) -> CredentialSet {
        CredentialSet::Entra(EntraApp {
            authority: "https://login.microsoftonline.com/".into(),
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            client_secret: Secret::new(secret),
            certificate: None,
        })
    }

    #[test]
    fn round_trip_and_nothing_in_clear_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/credentials.enc");
        let key = StoreKey::generate("test");
        let mut s = CredentialStore::open(&file, key.clone()).unwrap();
        assert!(s.entries().is_empty());
        assert!(!s.set("bc-prod", entra("s3cr3t-bc")).unwrap());
        s.set(
            "b1",
            CredentialSet::UserPassword(UserPassword {
                user: "manager".into(),
                password: Secret::new("s3cr3t-b1"),
                company_db: None,
            }),
        )
        .unwrap();
        s.save().unwrap();
        let raw = std::fs::read_to_string(&file).unwrap();
        for clear in ["s3cr3t", "contoso", "manager", "bc-prod"] {
            assert!(!raw.contains(clear), "{clear} in clear: {raw}");
        }
        let again = CredentialStore::open(&file, key.clone()).unwrap();
        assert_eq!(again.get("bc-prod").unwrap(), &entra("s3cr3t-bc"));
        assert_eq!(again.entries().len(), 2);
        let e = again.get("nope").unwrap_err().to_string();
        assert!(e.contains("stored: b1, bc-prod"), "{e}");
        // A second save uses a new nonce.
        again.save().unwrap();
        assert_ne!(std::fs::read_to_string(&file).unwrap(), raw);
        assert!(s.set("bad name", entra("x")).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&file), 0o600);
            assert_eq!(mode(&dir.path().join("data")), 0o700);
        }
    }

    #[test]
    fn a_wrong_key_is_refused_naming_both_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials.enc");
        let key = StoreKey::generate("key file a");
        let mut s = CredentialStore::open(&file, key.clone()).unwrap();
        s.set("x", entra("s")).unwrap();
        s.save().unwrap();
        let other = StoreKey::generate("environment variable K");
        let e = CredentialStore::open(&file, other.clone()).unwrap_err();
        assert!(matches!(e, CredentialError::WrongKey { .. }), "{e}");
        let t = e.to_string();
        assert!(t.contains(&key.id()) && t.contains(&other.id()), "{t}");
        assert!(t.contains("environment variable K"), "{t}");
    }

    #[test]
    fn a_tampered_file_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("credentials.enc");
        let key = StoreKey::generate("k");
        let mut s = CredentialStore::open(&file, key.clone()).unwrap();
        s.set("x", entra("s")).unwrap();
        s.save().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let mut env: serde_json::Value = serde_json::from_str(&text).unwrap();
        // One bit of the ciphertext flipped.
        let mut sealed = STANDARD
            .decode(env["ciphertext"].as_str().unwrap())
            .unwrap();
        sealed[3] ^= 1;
        env["ciphertext"] = STANDARD.encode(&sealed).into();
        std::fs::write(&file, serde_json::to_vec(&env).unwrap()).unwrap();
        let e = CredentialStore::open(&file, key.clone()).unwrap_err();
        assert!(matches!(e, CredentialError::Tampered { .. }), "{e}");
        assert!(e.to_string().contains("altered"), "{e}");
        // The header is authenticated too: an edited version is refused.
        std::fs::write(&file, text.replace("\"version\": 1", "\"version\": 2")).unwrap();
        assert!(CredentialStore::open(&file, key.clone()).is_err());
        std::fs::write(&file, b"{}").unwrap();
        let e = CredentialStore::open(&file, key).unwrap_err().to_string();
        assert!(e.contains("not a credential store"), "{e}");
    }
}
