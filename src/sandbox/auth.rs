//! Bearer-token validation for the resource servers, against the tokens Entra issued.

use std::time::SystemTime;

use axum::http::HeaderMap;

use super::http::header;
use super::shared::{Shared, TokenInfo};

/// Why a request's token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Missing,
    Unknown,
    Expired,
    WrongAudience(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Missing => f.write_str("no bearer token"),
            Refusal::Unknown => f.write_str("token not issued by this tenant"),
            Refusal::Expired => f.write_str("token expired"),
            Refusal::WrongAudience(a) => write!(f, "token audience '{a}' is not this resource"),
        }
    }
}

/// Checks the `Authorization: Bearer` header for `audience`.
pub(crate) fn check(
    shared: &Shared,
    headers: &HeaderMap,
    audience: &str,
) -> Result<TokenInfo, Refusal> {
    let value = header(headers, "authorization").ok_or(Refusal::Missing)?;
    let (scheme, token) = value.split_once(' ').ok_or(Refusal::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::Missing);
    }
    let info = shared
        .tokens
        .lock()
        .get(token.trim())
        .cloned()
        .ok_or(Refusal::Unknown)?;
    if info.expires <= SystemTime::now() {
        return Err(Refusal::Expired);
    }
    if info.audience.trim_end_matches('/') != audience.trim_end_matches('/') {
        return Err(Refusal::WrongAudience(info.audience));
    }
    Ok(info)
}
