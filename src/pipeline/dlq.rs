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
    bus.produce(dlq, &msg.key, &msg.value, &headers)
        .await
        .map(|_| ())
}
