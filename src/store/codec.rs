//! Private helpers shared by the store modules: JSON values, readable keys.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::transaction::ConflictableTransactionError;

use super::db::StoreError;

/// Separator between the parts of a composite key.
pub(crate) const SEP: u8 = 0;

/// Builds a composite key from parts separated by [`SEP`].
pub(crate) fn key(parts: &[&str]) -> Vec<u8> {
    let mut k = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(SEP);
        }
        k.extend_from_slice(p.as_bytes());
    }
    k
}

/// A composite key as text for error messages (separators shown as `/`).
pub(crate) fn show(key: &[u8]) -> String {
    String::from_utf8_lossy(key).replace('\0', "/")
}

/// Serialises a value as JSON.
pub(crate) fn encode<T: Serialize>(
    tree: &'static str,
    key: &[u8],
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        tree,
        key: show(key),
        reason: format!("cannot encode: {e}"),
    })
}

/// Deserialises a stored JSON value; failures name the tree and the key.
pub(crate) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: show(key),
        reason: e.to_string(),
    })
}

/// [`decode`] inside a sled transaction.
pub(crate) fn decode_tx<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, ConflictableTransactionError<StoreError>> {
    decode(tree, key, bytes).map_err(ConflictableTransactionError::Abort)
}
