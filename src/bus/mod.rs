//! The log: one interface, an embedded sled backend and a Kafka backend.

pub mod api;
pub mod contract;
pub mod contract_cleanup;
pub mod embedded;
pub mod kafka;
pub mod retention;
pub mod topics;

pub use api::{Bus, BusError, Cleanup, Consumer, Message, Produced, StartFrom, TopicSpec};
pub use embedded::EmbeddedBus;
pub use kafka::{KafkaBus, KafkaConfig};
pub use retention::RetentionConfig;
pub use topics::Topics;
