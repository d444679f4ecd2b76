//! Content hashes of mapped fields.

use sha2::{Digest, Sha256};

use crate::event::Fields;

/// SHA-256 (hex) of the canonical JSON of `fields` (keys sorted).
pub fn content_hash(fields: &Fields) -> String {
    let sorted: std::collections::BTreeMap<&String, &serde_json::Value> = fields.iter().collect();
    let text = serde_json::to_string(&sorted).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}
