//! librdkafka client settings, the client context (logs and the last error) and error mapping.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::config::KafkaConfig;
use crate::bus::api::BusError;

/// Settings shared by the producer, the admin client and every consumer.
pub(super) fn base_config(cfg: &KafkaConfig) -> Result<ClientConfig, BusError> {
    cfg.validate().map_err(|e| BusError::Unavailable {
        location: cfg.brokers.clone(),
        reason: format!("invalid Kafka settings: {e}"),
    })?;
    let password = cfg.sasl_password().map_err(|e| BusError::Unavailable {
        location: cfg.brokers.clone(),
        reason: format!("invalid Kafka settings: {e}"),
    })?;
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.brokers)
        .set("client.id", &cfg.client_id)
        .set("security.protocol", cfg.security_protocol.as_str())
        .set("socket.connection.setup.timeout.ms", ms(cfg.timeout()))
        .set("allow.auto.create.topics", "false");
    if let Some(m) = &cfg.sasl_mechanism {
        c.set("sasl.mechanism", m);
    }
    if let Some(u) = &cfg.sasl_username {
        c.set("sasl.username", u);
    }
    if let Some(p) = password {
        c.set("sasl.password", p);
    }
    if let Some(ca) = &cfg.ssl_ca_location {
        c.set("ssl.ca.location", ca.to_string_lossy());
    }
    for (k, v) in &cfg.extra {
        c.set(k, v);
    }
    c.set_log_level(RDKafkaLogLevel::Info);
    Ok(c)
}

/// Milliseconds as a librdkafka property value.
pub(super) fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

/// How many distinct recent errors the context remembers.
const RECENT_ERRORS: usize = 3;

/// The client context: forwards librdkafka's logs to `tracing` and remembers the last few
/// distinct errors, so a failed request can say why ("Connection refused") rather than only
/// "timed out" or "all brokers are down".
#[derive(Clone, Default)]
pub(super) struct Ctx {
    recent: Arc<Mutex<Vec<String>>>,
}

impl Ctx {
    /// The recent errors librdkafka reported, oldest first, if any.
    pub(super) fn last_error(&self) -> Option<String> {
        let recent = self.recent.lock();
        (!recent.is_empty()).then(|| recent.join("; "))
    }
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, line: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => tracing::error!(target: "librdkafka", fac, "{line}"),
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", fac, "{line}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", fac, "{line}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", fac, "{line}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(target: "librdkafka", %error, "{reason}");
        let mut recent = self.recent.lock();
        recent.retain(|r| r != reason);
        recent.push(reason.to_string());
        if recent.len() > RECENT_ERRORS {
            recent.remove(0);
        }
    }
}

/// The error code of a librdkafka error, when it carries one.
pub(super) fn code(e: &KafkaError) -> Option<RDKafkaErrorCode> {
    e.rdkafka_error_code()
}

/// True when the error says the topic does not exist.
pub(super) fn is_unknown_topic(e: &KafkaError) -> bool {
    matches!(
        code(e),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic)
    )
}

/// Maps a librdkafka error about `topic` (empty when none) to a [`BusError`].
pub(super) fn map_err(brokers: &str, topic: &str, what: &str, e: &KafkaError) -> BusError {
    match code(e) {
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            BusError::Topic {
                topic: topic.to_string(),
                reason: format!(
                    "{what}: the topic does not exist on {brokers}; Couplet creates its topics at \
                     start-up (brokers do not auto-create them)"
                ),
            }
        }
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed,
        ) => BusError::Topic {
            topic: topic.to_string(),
            reason: format!("{what}: not authorised ({e}); grant Couplet's principal access"),
        },
        Some(RDKafkaErrorCode::MessageSizeTooLarge) => BusError::Topic {
            topic: topic.to_string(),
            reason: format!("{what}: message too large ({e}); raise the topic's max.message.bytes"),
        },
        _ => BusError::Unavailable {
            location: brokers.to_string(),
            reason: format!("{what}: {e}"),
        },
    }
}

/// Runs a blocking librdkafka call off the async threads.
pub(super) async fn blocking<T, F>(brokers: &str, f: F) -> Result<T, BusError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, BusError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BusError::Unavailable {
            location: brokers.to_string(),
            reason: format!("a Kafka client call failed: {e}"),
        })?
}

/// Consumers that join no group (offset queries) need no rebalance handling.
impl rdkafka::consumer::ConsumerContext for Ctx {}
