//! Dead letters: permanently failed messages, with why and where they came from.

use std::sync::Arc;

use crate::bus::{Bus, BusError, Message};

/// Appends `msg`'s value to the dead-letter topic with headers naming the error class, the
/// reason, the source topic/partition/offset and the attempts made.
pub async fn dead_letter(
    bus: &Arc<dyn Bus>,
    dlq: &str,
    msg: &Message,
    class: &str,
    reason: &str,
    attempts: u32,
) -> Result<(), BusError> {
    crate::metrics::metrics()
        .produced
        .with_label_values(&[dlq])
        .inc();
    let headers = vec![
        ("couplet-error-class".to_string(), class.to_string()),
        ("couplet-error-reason".to_string(), reason.to_string()),
        ("couplet-source-topic".to_string(), msg.topic.clone()),
        (
            "couplet-source-partition".to_string(),
            msg.partition.to_string(),
        ),
        ("couplet-source-offset".to_string(), msg.offset.to_string()),
        ("couplet-attempts".to_string(), attempts.to_string()),
    ];
    bus.produce(dlq, &msg.key, msg.value.as_deref(), &headers)
        .await
        .map(|_| ())
}

/// A message of `stage`'s input topic that does not decode: dead-lettered with the reason,
/// listed in the errors list under its key, counted; the stage then moves on.
pub async fn undecodable(
    bus: &Arc<dyn Bus>,
    dlq: &str,
    store: &crate::store::Store,
    stage: &str,
    msg: &Message,
    e: &crate::event::avro::CodecError,
) -> Result<(), super::PipelineError> {
    use crate::error::Classify;
    let reason = format!(
        "message {}/{}@{} (key {}) does not decode: {e}",
        msg.topic, msg.partition, msg.offset, msg.key
    );
    tracing::error!(stage, topic = %msg.topic, partition = msg.partition, offset = msg.offset, key = %msg.key, error = %e, "Undecodable message moved to the dead-letter topic.");
    dead_letter(bus, dlq, msg, e.class(), &reason, 1).await?;
    let m = crate::metrics::metrics();
    m.failures
        .with_label_values(&["unknown", stage, e.class()])
        .inc();
    m.dead_lettered
        .with_label_values(&["unknown", stage, e.class()])
        .inc();
    let now = crate::event::types::now_millis();
    store.record_error(&crate::store::ErrorEntry {
        record: msg.key.clone(),
        mapping: "(undecodable)".into(),
        class: e.class().into(),
        actor: e.actor().as_str().into(),
        field: None,
        reason,
        first_at: now,
        last_at: now,
        attempts: 1,
        event: None,
    })?;
    Ok(())
}
