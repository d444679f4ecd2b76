//! The consumer loop every stage shares: poll, process each partition's messages in order
//! (partitions in parallel), commit after the work for a message is done.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};

use super::error::PipelineError;
use crate::bus::{Bus, Message, StartFrom};
use crate::store::Store;

/// A partition whose batch was processed: (topic, partition) and the next offset to commit
/// (none when shut down before its first message was done).
type PartitionDone = ((String, u32), Option<u64>);

/// What a consumer loop reads, and how.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// The consumer group.
    pub group: String,
    /// The topics.
    pub topics: Vec<String>,
    /// Where to start without a committed offset.
    pub start: StartFrom,
    /// Partitions processed at once.
    pub concurrency: usize,
    /// The projection the handler writes to: flushed to disk before every commit, so a
    /// committed position never runs ahead of what a crash keeps of the projection.
    pub durable: Option<Store>,
}

impl Subscription {
    /// A subscription whose handler writes nothing that must survive a crash before commit.
    pub fn new(group: String, topics: Vec<String>, start: StartFrom, concurrency: usize) -> Self {
        Subscription {
            group,
            topics,
            start,
            concurrency,
            durable: None,
        }
    }

    /// Flushes `store` before every commit.
    pub fn durable(mut self, store: &Store) -> Self {
        self.durable = Some(store.clone());
        self
    }
}

/// Consumes per `sub` until `shutdown`, calling `handle` for every message.
/// A handler error stops the loop (it is for faults of the log or the projection; bad
/// messages are the handler's to dead-letter).
pub async fn consume<F, Fut>(
    bus: Arc<dyn Bus>,
    sub: Subscription,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    handle: F,
) -> Result<(), PipelineError>
where
    F: Fn(Message) -> Fut + Clone + Send + Sync,
    Fut: Future<Output = Result<(), PipelineError>> + Send,
{
    let Subscription {
        group,
        topics,
        start,
        concurrency,
        durable,
    } = sub;
    let mut consumer = bus.subscribe(&group, &topics, start).await?;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let polled = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            b = consumer.poll(512, Duration::from_millis(250)) => b,
        };
        let batch = match polled {
            Ok(b) => b,
            Err(e) => {
                let e = PipelineError::from(e);
                if !e.is_transient() {
                    return Err(e);
                }
                tracing::warn!(group = %group, error = %e, "The log is unavailable; waiting.");
                if pause(&mut shutdown, Duration::from_secs(1)).await {
                    return Ok(());
                }
                continue;
            }
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
                let mut shutdown = shutdown.clone();
                async move {
                    let mut next = None;
                    for m in msgs {
                        let offset = m.offset;
                        // A transient fault of the log (e.g. a broker restart) is waited out
                        // on this message; nothing after it is processed or committed first.
                        let mut wait = Duration::from_millis(500);
                        loop {
                            match handle(m.clone()).await {
                                Ok(()) => break,
                                Err(e) if e.is_transient() => {
                                    tracing::warn!(topic = %m.topic, partition = m.partition, offset, error = %e, "A transient fault; the message is tried again.");
                                    if pause(&mut shutdown, wait).await {
                                        return Ok((k, next));
                                    }
                                    wait = (wait * 2).min(Duration::from_secs(15));
                                }
                                Err(e) => return Err(e),
                            }
                        }
                        next = Some(offset + 1);
                    }
                    Ok((k, next))
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut done = Vec::with_capacity(results.len());
        for r in results {
            done.push(r?);
        }
        if let Some(store) = &durable
            && done.iter().any(|(_, next)| next.is_some())
        {
            store.flush_async().await?;
        }
        for r in done {
            let ((topic, partition), next) = r;
            let Some(next) = next else { continue };
            while let Err(e) = consumer.commit(&topic, partition, next).await {
                let e = PipelineError::from(e);
                if !e.is_transient() {
                    return Err(e);
                }
                tracing::warn!(topic = %topic, partition, error = %e, "Cannot commit yet; retrying.");
                if pause(&mut shutdown, Duration::from_secs(1)).await {
                    return Ok(());
                }
            }
        }
    }
}

/// Sleeps `d`; true when shutdown was signalled meanwhile.
pub async fn pause(shutdown: &mut tokio::sync::watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = shutdown.changed() => true,
        _ = tokio::time::sleep(d) => *shutdown.borrow(),
    }
}
