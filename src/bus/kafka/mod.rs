//! The Kafka backend: [`KafkaBus`] implements [`Bus`](crate::bus::Bus) on any broker that
//! speaks the Kafka protocol, through librdkafka (`rdkafka`).
//!
//! - Produce: one idempotent producer (`enable.idempotence=true`, `acks=all`), keyed records
//!   partitioned with `murmur2_random` (the Java client's partitioner, so every producer puts
//!   a key on the same partition), headers; `produce` returns after the delivery report.
//! - Topics: created by [`Bus::ensure_topics`](crate::bus::Bus::ensure_topics) with the
//!   configured replication factor and explicit cleanup settings (compacted changelogs:
//!   `cleanup.policy=compact`, `delete.retention.ms`, `min.cleanable.dirty.ratio`; event
//!   topics: `cleanup.policy=delete`, `retention.ms`, `retention.bytes`); never
//!   auto-created. Existing topics are left as they are; a setting that differs is logged.
//! - Consumers: one librdkafka consumer per member, `enable.auto.commit=false`; offsets are
//!   committed only by [`Consumer::commit`](crate::bus::Consumer::commit). See
//!   [`consumer`] for where members start.
//!
//! See README.md ("Running on Kafka") for settings and broker compatibility.

mod bus;
mod client;
pub mod config;
pub(crate) mod consumer;
mod topic_config;

pub use bus::KafkaBus;
pub use config::{KafkaConfig, SecurityProtocol};
