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
    vec![(FORCE_HEADER.to_string(), "sync-now".to_string())]
}
