//! The mark of a forced change (sync-now, errors retry with force): the transform and apply
//! stages skip the echo, stale and unchanged checks for it.

use crate::bus::Message;

/// The header marking a forced change (and the command that follows from it).
pub const FORCE_HEADER: &str = "couplet-force";

/// True when a message carries the force header.
pub fn is_forced(msg: &Message) -> bool {
    msg.headers.iter().any(|(k, _)| k == FORCE_HEADER)
}

/// The headers of a forced message.
pub fn force_headers() -> Vec<(String, String)> {
    force_headers_for("sync-now")
}

/// The headers of a message forced by `origin` (`sync-now`, `reconcile`): the value says who
/// forced it, for the audit trail.
pub fn force_headers_for(origin: &str) -> Vec<(String, String)> {
    vec![(FORCE_HEADER.to_string(), origin.to_string())]
}

/// Who forced a message (the force header's value), if it is forced.
pub fn forced_by(msg: &Message) -> Option<&str> {
    msg.headers
        .iter()
        .find(|(k, _)| k == FORCE_HEADER)
        .map(|(_, v)| v.as_str())
}
