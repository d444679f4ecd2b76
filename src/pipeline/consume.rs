//! The consumer loop every stage shares: poll, process each partition's messages in order
//! (partitions in parallel), commit after the work for a message is done.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};

use super::error::PipelineError;
use crate::bus::{Bus, Message, StartFrom};

/// A partition whose batch was processed: (topic, partition) and the next offset.
type PartitionDone = ((String, u32), u64);

/// Consumes `topics` as `group` until `shutdown`, calling `handle` for every message.
/// A handler error stops the loop (it is for faults of the log or the projection; bad
/// messages are the handler's to dead-letter).
pub async fn consume<F, Fut>(
    bus: Arc<dyn Bus>,
    group: String,
    topics: Vec<String>,
    start: StartFrom,
    concurrency: usize,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    handle: F,
) -> Result<(), PipelineError>
where
    F: Fn(Message) -> Fut + Clone + Send + Sync,
    Fut: Future<Output = Result<(), PipelineError>> + Send,
{
    let mut consumer = bus.subscribe(&group, &topics, start).await?;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let batch = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            b = consumer.poll(512, Duration::from_millis(250)) => b?,
        };
        if batch.is_empty() {
            continue;
        }
        // Split by (topic, partition), keeping offset order within each.
        let mut parts: Vec<((String, u32), Vec<Message>)> = Vec::new();
        for m in batch {
            let k = (m.topic.clone(), m.partition);
            match parts.iter_mut().find(|(pk, _)| *pk == k) {
                Some((_, v)) => v.push(m),
                None => parts.push((k, vec![m])),
            }
        }
        let results: Vec<Result<PartitionDone, PipelineError>> = stream::iter(parts)
            .map(|(k, msgs)| {
                let handle = handle.clone();
                async move {
                    let mut next = 0;
                    for m in msgs {
                        next = m.offset + 1;
                        handle(m).await?;
                    }
                    Ok((k, next))
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for r in results {
            let ((topic, partition), next) = r?;
            consumer.commit(&topic, partition, next).await?;
        }
    }
}
