//! The credential store's key: 32 random bytes, written as base64 (44 characters), read from
//! an environment variable or from a key file that only its owner may read (`0600`).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Generate as _, Key};
use sha2::{Digest as _, Sha256};

use super::error::CredentialError;
use crate::private_fs;

/// Length of a key in bytes.
pub const KEY_LEN: usize = 32;

/// A store key and where it came from. `Debug` shows its origin and id, never the key.
#[derive(Clone)]
pub struct StoreKey {
    bytes: [u8; KEY_LEN],
    origin: String,
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreKey")
            .field("origin", &self.origin)
            .field("id", &self.id())
            .finish()
    }
}

impl StoreKey {
    /// A new random key (from the operating system's generator).
    pub fn generate(origin: impl Into<String>) -> StoreKey {
        let key = Key::<XChaCha20Poly1305>::generate();
        let mut bytes = [0u8; KEY_LEN];
        bytes.copy_from_slice(key.as_slice());
        StoreKey {
            bytes,
            origin: origin.into(),
        }
    }

    /// Reads a key written as base64 (surrounding white space ignored).
    pub fn parse(text: &str, origin: impl Into<String>) -> Result<StoreKey, CredentialError> {
        let origin = origin.into();
        let bad = |reason: &str| CredentialError::BadKey {
            origin: origin.clone(),
            reason: reason.to_string(),
        };
        let raw = STANDARD
            .decode(text.trim())
            .map_err(|_| bad("not base64; a key is 44 base64 characters, as `couplet credentials new-key` prints"))?;
        let bytes: [u8; KEY_LEN] = raw
            .try_into()
            .map_err(|_| bad("not 32 bytes; a key is 44 base64 characters, as `couplet credentials new-key` prints"))?;
        Ok(StoreKey { bytes, origin })
    }

    /// The key in environment variable `var`, or `None` when it is not set.
    pub fn from_env(var: &str) -> Result<Option<StoreKey>, CredentialError> {
        match std::env::var(var) {
            Ok(v) => StoreKey::parse(&v, format!("environment variable {var}")).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(CredentialError::BadKey {
                origin: format!("environment variable {var}"),
                reason: "not valid text".into(),
            }),
        }
    }

    /// The key in `file`, which must not be readable by group or others.
    pub fn from_file(file: &Path) -> Result<StoreKey, CredentialError> {
        let origin = format!("key file {}", file.display());
        let loose = private_fs::loose_bits(file).map_err(|e| CredentialError::BadKey {
            origin: origin.clone(),
            reason: if e.kind() == std::io::ErrorKind::NotFound {
                "it does not exist: the first `couplet credentials set` creates it, or `couplet credentials new-key --file FILE`".into()
            } else {
                format!("cannot read it: {e}")
            },
        })?;
        if loose != 0 {
            return Err(CredentialError::KeyFileMode {
                file: file.to_path_buf(),
                mode: file_mode(file),
            });
        }
        let text = std::fs::read_to_string(file).map_err(|e| CredentialError::BadKey {
            origin: origin.clone(),
            reason: format!("cannot read it: {e}"),
        })?;
        StoreKey::parse(&text, origin)
    }

    /// A new random key written to `file` (`0600`), which must not exist yet.
    pub fn create_file(file: &Path) -> Result<StoreKey, CredentialError> {
        if file.exists() {
            return Err(CredentialError::Io {
                file: file.to_path_buf(),
                reason: "exists already; a new key is never written over an old one".into(),
            });
        }
        let key = StoreKey::generate(format!("key file {}", file.display()));
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            private_fs::create_private_dir(dir).map_err(|e| CredentialError::Io {
                file: dir.to_path_buf(),
                reason: format!("cannot create the key file's directory: {e}"),
            })?;
        }
        private_fs::write_private(file, format!("{}\n", key.encoded()).as_bytes()).map_err(
            |e| CredentialError::Io {
                file: file.to_path_buf(),
                reason: format!("cannot write the key file: {e}"),
            },
        )?;
        Ok(key)
    }

    /// The key as base64, for a key file or an environment variable.
    pub fn encoded(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    /// A short public id of the key (8 hex digits of a hash of it), written in the store so
    /// that a wrong key is told apart from a damaged file.
    pub fn id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"couplet credential store key\0")
            .chain_update(self.bytes)
            .finalize();
        hex::encode(&digest[..4])
    }

    /// Where it came from (`environment variable X`, `key file Y`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The raw bytes, for the cipher.
    pub(super) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

fn file_mode(file: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        0
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn key_files_are_0600_and_a_looser_one_is_refused_naming_the_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keys/store.key");
        let k = StoreKey::create_file(&file).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = StoreKey::from_file(&file).unwrap();
        assert_eq!(again.bytes(), k.bytes());
        assert_eq!(again.id(), k.id());
        assert!(StoreKey::create_file(&file).is_err(), "never overwritten");

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = StoreKey::from_file(&file).unwrap_err().to_string();
        assert!(
            e.contains("chmod 600") && e.contains("store.key") && e.contains("0644"),
            "{e}"
        );

        let d = format!("{k:?}");
        assert!(!d.contains(&k.encoded()) && d.contains(&k.id()), "{d}");
    }

    #[test]
    fn a_key_must_be_32_bytes_of_base64() {
        let k = StoreKey::generate("test");
        assert_eq!(k.encoded().len(), 44);
        assert_eq!(
            StoreKey::parse(&format!(" {}\n", k.encoded()), "x")
                .unwrap()
                .id(),
            k.id()
        );
        assert!(StoreKey::parse("not base64!", "x").is_err());
        let e = StoreKey::parse("c2hvcnQ=", "variable V")
            .unwrap_err()
            .to_string();
        assert!(e.contains("variable V") && e.contains("32 bytes"), "{e}");
        assert_ne!(StoreKey::generate("a").id(), k.id());
    }
}
