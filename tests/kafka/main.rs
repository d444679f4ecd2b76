//! On a Kafka-protocol broker: the bus contract, Avro interop with Python's confluent-kafka,
//! scale-out over a consumer group, a broker restart mid-sync, and the chaos suite on Kafka.
//! Most tests need `COUPLET_KAFKA_BROKERS` (`scripts/kafka-broker.sh start`) and fail, not skip, without it.
//!
//! One test binary, so the library and librdkafka are linked once for all of them. Each module
//! is a former `tests/<name>.rs`: run one with `cargo test --test kafka <name>::`
//! (e.g. `cargo test --test kafka kafka_interop::`).

#[path = "../common/mod.rs"]
mod common;

mod bus_contract_kafka;
mod chaos_kafka;
mod kafka_broker_restart;
mod kafka_dry_run;
mod kafka_interop;
mod kafka_scale_out;
