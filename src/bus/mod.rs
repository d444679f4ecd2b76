//! The log: one interface, an embedded sled backend and (later) Kafka.

pub mod api;
pub mod contract;
pub mod embedded;
pub mod topics;

pub use api::{Bus, BusError, Consumer, Message, Produced, StartFrom, TopicSpec};
pub use embedded::EmbeddedBus;
pub use topics::Topics;
