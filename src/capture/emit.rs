//! Appending a page of captured changes to the log.

use std::sync::Arc;

use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::Instrument;

use crate::bus::{Bus, Topics};
use crate::event::ChangeEvent;
use crate::event::avro::encode_change;
use crate::metrics::metrics;
use crate::pipeline::PipelineError;

/// Appends `events` to the changes topic (concurrently; one record never appears twice in a
/// page, so per-key order is kept) and returns once all are durable.
pub async fn emit_all(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    events: Vec<ChangeEvent>,
) -> Result<(), PipelineError> {
    let m = metrics();
    stream::iter(events)
        .map(|ev| {
            let span = tracing::info_span!(
                "capture",
                record = %ev.source,
                mapping = %ev.mapping,
                correlation_id = %ev.correlation_id
            );
            async move {
                let bytes = encode_change(&ev).map_err(|e| PipelineError::Stage {
                    stage: "capture".into(),
                    reason: e.to_string(),
                })?;
                bus.produce(&topics.changes, &ev.source.to_string(), Some(&bytes), &[])
                    .await?;
                m.captured
                    .with_label_values(&[ev.source.system.as_str(), &ev.source.entity, &ev.mapping])
                    .inc();
                m.produced
                    .with_label_values(&[topics.changes.as_str()])
                    .inc();
                tracing::debug!(op = ?ev.op, "Captured.");
                Ok::<(), PipelineError>(())
            }
            .instrument(span)
        })
        .buffer_unordered(64)
        .try_collect::<Vec<_>>()
        .await
        .map(|_| ())
}

/// A change event for a record read in full (a full synchronisation, a scheduled read, a
/// restore): an upsert with the record's modified-on and ETag as the source returned them.
pub fn upsert_event(
    mapping: &str,
    key: crate::event::RecordKey,
    fields: crate::event::Fields,
) -> ChangeEvent {
    let modified = (key.system.rules().modified_column)(&key.entity);
    let modified_on = parse_time(fields.get(&modified));
    let etag = key.system.record_etag(&fields);
    ChangeEvent::new(
        mapping,
        key,
        crate::event::ChangeOp::Upsert,
        modified_on,
        etag,
        fields,
    )
}

/// Parses an RFC 3339 timestamp column (`modifiedon`, `lastModifiedDateTime`, a checkpoint's
/// `at`).
pub fn parse_time(v: Option<&serde_json::Value>) -> Option<chrono::DateTime<chrono::Utc>> {
    v.and_then(|v| v.as_str())
        .and_then(super::watermark::columns::parse_instant)
}
