//! A member of a consumer group on the embedded log.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use super::group::TopicPartition;
use super::log::{Log, Topic};
use crate::bus::api::{BusError, Consumer, Message, StartFrom};
use crate::metrics::metrics;

/// A group member. Leaves its group when dropped.
pub(super) struct EmbeddedConsumer {
    log: Arc<Log>,
    group: String,
    member: u64,
    topics: HashMap<String, Arc<Topic>>,
    start: StartFrom,
    /// The group generation the positions reflect; `None` before the first assignment.
    generation: Option<u64>,
    /// Assigned partitions and the next offset to read on each.
    positions: BTreeMap<TopicPartition, u64>,
    /// Rotates the partition polled first, for fairness.
    cursor: usize,
}

impl EmbeddedConsumer {
    /// Joins `group` on `topics`.
    pub(super) fn join(
        log: Arc<Log>,
        group: &str,
        topics: Vec<Arc<Topic>>,
        start: StartFrom,
    ) -> EmbeddedConsumer {
        let member = log.groups.join(
            group,
            topics
                .iter()
                .map(|t| (t.name.clone(), t.partitions()))
                .collect(),
        );
        wake_all(&log);
        EmbeddedConsumer {
            log,
            group: group.to_string(),
            member,
            topics: topics.into_iter().map(|t| (t.name.clone(), t)).collect(),
            start,
            generation: None,
            positions: BTreeMap::new(),
            cursor: 0,
        }
    }

    /// Picks up a new assignment. Partitions kept keep their position; partitions gained
    /// start per `StartFrom` in the first assignment, and from the group's committed offset
    /// afterwards (falling back to `StartFrom` when the group has none).
    fn refresh(&mut self) -> Result<(), BusError> {
        let (generation, assigned) = self.log.groups.assignment(&self.group, self.member);
        if self.generation == Some(generation) {
            return Ok(());
        }
        let initial = self.generation.is_none();
        let mut positions = BTreeMap::new();
        for tp in assigned {
            let pos = match self.positions.get(&tp) {
                Some(p) => *p,
                None => self.start_position(&tp, initial)?,
            };
            positions.insert(tp, pos);
        }
        self.positions = positions;
        self.generation = Some(generation);
        Ok(())
    }

    fn start_position(&self, (topic, p): &TopicPartition, initial: bool) -> Result<u64, BusError> {
        let committed = self.log.committed(&self.group, topic, *p)?;
        if let (false, Some(c)) = (initial, committed) {
            return Ok(c);
        }
        Ok(match self.start {
            StartFrom::Committed => committed.unwrap_or(0),
            StartFrom::Earliest => self.log.topic(topic)?.start_of(*p),
            StartFrom::Offset(n) => n,
            StartFrom::Timestamp(at) => {
                let t = self.log.topic(topic)?;
                self.log.offset_for_time(&t, *p, at)?
            }
        })
    }

    /// Up to `max` available messages, round-robin between partitions.
    fn fetch(&mut self, max: usize) -> Result<Vec<Message>, BusError> {
        let parts: Vec<TopicPartition> = self.positions.keys().cloned().collect();
        let n = parts.len();
        let mut out = Vec::new();
        if n == 0 || max == 0 {
            return Ok(out);
        }
        let first = self.cursor % n;
        self.cursor = self.cursor.wrapping_add(1);
        loop {
            let share = (max - out.len()).div_ceil(n).max(1);
            let mut progressed = false;
            for i in 0..n {
                let room = max - out.len();
                if room == 0 {
                    return Ok(out);
                }
                let tp = &parts[(first + i) % n];
                let Some(topic) = self.topics.get(&tp.0).cloned() else {
                    continue;
                };
                let pos = self.position(&topic, tp);
                let got = self.log.read(&topic, tp.1, pos, share.min(room))?;
                if let Some(last) = got.last() {
                    self.positions.insert(tp.clone(), last.offset + 1);
                    progressed = true;
                    out.extend(got);
                }
            }
            if !progressed || out.len() >= max {
                return Ok(out);
            }
        }
    }
}

impl EmbeddedConsumer {
    /// The position on `tp`, moved to the log start when retention deleted the messages
    /// there (Kafka's `auto.offset.reset=earliest`): logged and counted, never an error.
    fn position(&mut self, topic: &Topic, tp: &TopicPartition) -> u64 {
        let pos = self.positions.get(tp).copied().unwrap_or(0);
        let start = topic.start_of(tp.1);
        if pos >= start {
            return pos;
        }
        tracing::warn!(
            group = %self.group, topic = %tp.0, partition = tp.1, position = pos,
            log_start = start, skipped = start - pos,
            "The consumer's position is below the log start (retention deleted those \
             messages before they were read); resuming at the log start."
        );
        metrics()
            .bus_offset_resets
            .with_label_values(&[&tp.0])
            .inc();
        self.positions.insert(tp.clone(), start);
        start
    }
}

/// Wakes every waiting poll (after a membership change, so members pick up their share).
fn wake_all(log: &Log) {
    for t in log.all_topics() {
        t.notify.notify_waiters();
    }
}

#[async_trait]
impl Consumer for EmbeddedConsumer {
    async fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Message>, BusError> {
        let deadline = Instant::now() + timeout;
        loop {
            let topics: Vec<Arc<Topic>> = self.topics.values().cloned().collect();
            // Register for wake-ups before looking, so a produce in between is not missed.
            let mut waits: Vec<_> = topics
                .iter()
                .map(|t| Box::pin(t.notify.notified()))
                .collect();
            for w in &mut waits {
                w.as_mut().enable();
            }
            self.refresh()?;
            let msgs = self.fetch(max)?;
            if !msgs.is_empty() || max == 0 {
                return Ok(msgs);
            }
            let now = Instant::now();
            if now >= deadline || waits.is_empty() {
                return Ok(msgs);
            }
            let _ = tokio::time::timeout(deadline - now, futures::future::select_all(waits)).await;
        }
    }

    async fn commit(
        &mut self,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), BusError> {
        let t = self.log.topic(topic)?;
        self.log
            .commit(&self.group, &t, partition, next_offset)
            .await
    }

    fn assignment(&self) -> Vec<(String, u32)> {
        self.positions.keys().cloned().collect()
    }
}

impl Drop for EmbeddedConsumer {
    fn drop(&mut self) {
        self.log.groups.leave(&self.group, self.member);
        wake_all(&self.log);
    }
}
