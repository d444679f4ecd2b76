//! The embedded log: durable sled-backed topics for a single machine.
//!
//! Layout of the sled database under the data directory:
//!
//! - tree `meta`: topic name → its spec (partition count, cleanup policy);
//! - tree `topic/<name>`: big-endian `(partition u32, offset u64)` → one message (append
//!   timestamp, key, headers, value), so range scans read a partition in offset order;
//! - tree `offsets`: `<group>\0<topic>\0<partition u32 BE>` → committed offset (u64 BE).
//!
//! Compacted topics (`TopicSpec::compact`) keep every message: the embedded log does not
//! compact. Readers of a compacted topic take the newest value per key, which gives the same
//! result; only disk use differs. A tombstone (a null value, `Message::value` `None`) is
//! stored as a record of its own format version, distinct from an empty value.
//!
//! Consumer-group membership lives in the process: it is not persisted, only the committed
//! offsets are.

mod bus;
mod consumer;
mod group;
mod log;
mod record;
#[cfg(test)]
mod tests;

pub use bus::EmbeddedBus;
