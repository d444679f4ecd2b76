//! The embedded log: durable sled-backed topics for a single machine.
//!
//! Layout of the sled database under the data directory:
//!
//! - tree `meta`: topic name → its spec (partition count, cleanup policy);
//! - tree `topic/<name>`: big-endian `(partition u32, offset u64)` → one message (append
//!   timestamp, key, headers, value), so range scans read a partition in offset order;
//! - tree `offsets`: `<group>\0<topic>\0<partition u32 BE>` → committed offset (u64 BE);
//! - tree `starts`: `<topic>\0<partition u32 BE>` → the log start (u64 BE) once retention
//!   deleted messages.
//!
//! A background cleaner ([`clean`]) compacts the compacted topics (`Cleanup::Compact`: the
//! newest value per key; a tombstone is kept for its delete retention, then removed) and
//! applies the others' age and size limits (`Cleanup::Delete`), moving the log start. Offsets
//! never change: compaction leaves gaps that readers skip; a consumer whose position is below
//! the log start resumes there. A tombstone (a null value, `Message::value` `None`) is stored
//! as a record of its own format version, distinct from an empty value.
//!
//! Consumer-group membership lives in the process: it is not persisted, only the committed
//! offsets are.

mod bus;
mod clean;
mod consumer;
mod damage;
mod group;
mod log;
mod record;
#[cfg(test)]
mod tests;

pub use bus::EmbeddedBus;
