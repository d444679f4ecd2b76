//! The shared-secret check on the request headers.
//!
//! Both the expected and the presented value are hashed (SHA-256) and the digests compared
//! byte by byte without an early exit, so the time taken tells neither the secret's length nor
//! how many leading characters matched.

use axum::http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

use crate::systems::Secret;

/// The expected secret, as the receiver holds it (its digest only).
pub(crate) struct SecretCheck {
    header: HeaderName,
    digest: [u8; 32],
}

impl std::fmt::Debug for SecretCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCheck")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

fn digest(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

/// Equal in time independent of where the inputs differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl SecretCheck {
    /// Checks `header` against `secret`.
    pub fn new(header: HeaderName, secret: &Secret) -> SecretCheck {
        SecretCheck {
            header,
            digest: digest(secret.expose().as_bytes()),
        }
    }

    /// True when exactly one secret header is present and carries the secret.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let mut values = headers.get_all(&self.header).iter();
        match (values.next(), values.next()) {
            (Some(v), None) => constant_time_eq(&digest(v.as_bytes()), &self.digest),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn check() -> SecretCheck {
        SecretCheck::new(
            HeaderName::from_static("x-couplet-event-secret"),
            &Secret::new("s3cret"),
        )
    }

    #[test]
    fn only_the_right_secret_in_one_header_passes() {
        let c = check();
        let mut h = HeaderMap::new();
        assert!(!c.allows(&h), "missing");
        h.insert("x-couplet-event-secret", HeaderValue::from_static("s3cre"));
        assert!(!c.allows(&h), "prefix");
        let upper = HeaderName::from_bytes(b"X-Couplet-Event-Secret").unwrap();
        h.insert(upper, HeaderValue::from_static("s3cret"));
        assert!(c.allows(&h), "header names are case-insensitive");
        h.append("x-couplet-event-secret", HeaderValue::from_static("other"));
        assert!(!c.allows(&h), "two values");
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("s3cret"));
        assert!(!c.allows(&h), "another header");
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
