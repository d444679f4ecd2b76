//! A member of a Kafka consumer group.
//!
//! Offsets are committed only through [`Consumer::commit`] (`enable.auto.commit=false`). Where
//! a member starts on a partition is decided in the rebalance callback, like the embedded log:
//!
//! - in the member's first assignment, per [`StartFrom`] (`Committed`: the group's committed
//!   offset, else the beginning);
//! - in later assignments, a partition the member already had continues where the member's
//!   last `poll` left it; a partition it gains starts at the group's committed offset, or per
//!   `StartFrom` when the group has none.
//!
//! The group uses the eager protocol (`range,roundrobin`): every rebalance revokes and
//! re-assigns, so the callback sees the whole assignment each time.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers as _, Message as _};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;

use super::client::{Ctx, base_config, blocking, map_err};
use super::config::KafkaConfig;
use crate::bus::api::{BusError, Consumer, Message, StartFrom};

type Tp = (String, i32);

/// What the rebalance callback and `poll` share.
#[derive(Default)]
struct State {
    /// True once the first assignment was made.
    assigned_once: bool,
    /// Next offset to read on the partitions of the current (or just revoked) assignment, as
    /// far as `poll` delivered messages.
    positions: HashMap<Tp, i64>,
    /// Messages received but not yet returned by `poll`.
    pending: VecDeque<Message>,
}

/// The consumer's context: decides start offsets on every assignment.
struct GroupCtx {
    base: Ctx,
    start: StartFrom,
    timeout: Duration,
    state: Arc<Mutex<State>>,
}

impl ClientContext for GroupCtx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, line: &str) {
        self.base.log(level, fac, line);
    }
    fn error(&self, error: KafkaError, reason: &str) {
        self.base.error(error, reason);
    }
}

impl GroupCtx {
    /// The offset to start at on each partition of a new assignment.
    fn start_offsets(
        &self,
        c: &BaseConsumer<Self>,
        tpl: &TopicPartitionList,
    ) -> TopicPartitionList {
        let (initial, kept) = {
            let st = self.state.lock();
            (!st.assigned_once, st.positions.clone())
        };
        let parts: Vec<Tp> = tpl
            .elements()
            .iter()
            .map(|e| (e.topic().to_string(), e.partition()))
            .collect();
        let mut committed = HashMap::new();
        if !initial && self.start != StartFrom::Committed {
            match c.committed_offsets(tpl.clone(), self.timeout) {
                Ok(got) => {
                    for e in got.elements() {
                        if let Offset::Offset(o) = e.offset() {
                            committed.insert((e.topic().to_string(), e.partition()), o);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading committed offsets on rebalance"),
            }
        }
        let by_time = match self.start {
            StartFrom::Timestamp(at) => self.offsets_for_time(c, tpl, at),
            _ => HashMap::new(),
        };
        let mut out = TopicPartitionList::new();
        for tp in parts {
            let offset = if let Some(pos) = kept.get(&tp) {
                Offset::Offset(*pos)
            } else if let Some(o) = committed.get(&tp) {
                Offset::Offset(*o)
            } else {
                match self.start {
                    StartFrom::Committed => Offset::Stored,
                    StartFrom::Earliest => Offset::Beginning,
                    StartFrom::Offset(n) => Offset::Offset(i64::try_from(n).unwrap_or(i64::MAX)),
                    StartFrom::Timestamp(_) => by_time.get(&tp).copied().unwrap_or(Offset::End),
                }
            };
            if let Err(e) = out.add_partition_offset(&tp.0, tp.1, offset) {
                tracing::warn!(topic = %tp.0, partition = tp.1, error = %e, "setting start offset");
            }
        }
        out
    }

    fn offsets_for_time(
        &self,
        c: &BaseConsumer<Self>,
        tpl: &TopicPartitionList,
        at: DateTime<Utc>,
    ) -> HashMap<Tp, Offset> {
        let mut q = TopicPartitionList::new();
        for e in tpl.elements() {
            let _ = q.add_partition_offset(
                e.topic(),
                e.partition(),
                Offset::Offset(at.timestamp_millis()),
            );
        }
        match c.offsets_for_times(q, self.timeout) {
            Ok(got) => got
                .elements()
                .iter()
                .map(|e| ((e.topic().to_string(), e.partition()), e.offset()))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "offsets for a timestamp; starting at the end");
                HashMap::new()
            }
        }
    }
}

impl ConsumerContext for GroupCtx {
    fn rebalance(&self, c: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let offsets = self.start_offsets(c, tpl);
                if let Err(e) = c.assign(&offsets) {
                    tracing::warn!(error = %e, "assigning partitions");
                }
                let mut st = self.state.lock();
                st.assigned_once = true;
                let now: Vec<Tp> = offsets
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect();
                st.positions.retain(|tp, _| now.contains(tp));
            }
            other => {
                if other != RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
                    tracing::warn!(error = ?other, "rebalance error; dropping the assignment");
                }
                if let Err(e) = c.unassign() {
                    tracing::warn!(error = %e, "revoking partitions");
                }
                // Buffered messages of revoked partitions belong to their next owner.
                self.state.lock().pending.clear();
            }
        }
    }
}

/// A group member. Leaves its group when dropped.
pub(super) struct KafkaConsumer {
    consumer: Arc<StreamConsumer<GroupCtx>>,
    state: Arc<Mutex<State>>,
    brokers: String,
}

impl KafkaConsumer {
    /// Joins `group` on `topics` (which must exist).
    pub(super) fn join(
        cfg: &KafkaConfig,
        ctx: Ctx,
        group: &str,
        topics: &[String],
        start: StartFrom,
    ) -> Result<KafkaConsumer, BusError> {
        let mut c = base_config(cfg)?;
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("partition.assignment.strategy", "range,roundrobin")
            .set("fetch.wait.max.ms", "100")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000");
        for (k, v) in &cfg.extra {
            c.set(k, v);
        }
        let state = Arc::new(Mutex::new(State::default()));
        let gctx = GroupCtx {
            base: ctx,
            start,
            timeout: cfg.timeout(),
            state: state.clone(),
        };
        let consumer: StreamConsumer<GroupCtx> = c
            .create_with_context(gctx)
            .map_err(|e| map_err(&cfg.brokers, "", "creating a Kafka consumer", &e))?;
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|e| map_err(&cfg.brokers, &topics.join(","), "subscribing", &e))?;
        Ok(KafkaConsumer {
            consumer: Arc::new(consumer),
            state,
            brokers: cfg.brokers.clone(),
        })
    }
}

fn convert(brokers: &str, m: &BorrowedMessage<'_>) -> Result<Message, BusError> {
    let corrupt = |what: String| BusError::Corrupt {
        location: format!("{} on {brokers}", m.topic()),
        reason: what,
    };
    let partition = u32::try_from(m.partition())
        .map_err(|_| corrupt(format!("message with partition {}", m.partition())))?;
    let offset = u64::try_from(m.offset())
        .map_err(|_| corrupt(format!("message with offset {}", m.offset())))?;
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    let v = h.value.map(String::from_utf8_lossy).unwrap_or_default();
                    (h.key.to_string(), v.into_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    let timestamp = m
        .timestamp()
        .to_millis()
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or(DateTime::UNIX_EPOCH);
    Ok(Message {
        topic: m.topic().to_string(),
        partition,
        offset,
        key: m
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default(),
        value: m.payload().map(<[u8]>::to_vec),
        headers,
        timestamp,
    })
}

#[async_trait]
impl Consumer for KafkaConsumer {
    async fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Message>, BusError> {
        let deadline = Instant::now() + timeout;
        let mut out: Vec<Message> = {
            let mut st = self.state.lock();
            let n = max.min(st.pending.len());
            st.pending.drain(..n).collect()
        };
        loop {
            if max > 0 && out.len() >= max {
                break;
            }
            // Wait for the first message only; then take what is already there.
            let wait = if out.is_empty() {
                deadline.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            match tokio::time::timeout(wait, self.consumer.recv()).await {
                Err(_) => break,
                Ok(Ok(m)) => {
                    let msg = convert(&self.brokers, &m)?;
                    if out.len() < max {
                        out.push(msg);
                    } else {
                        self.state.lock().pending.push_back(msg);
                        break;
                    }
                }
                Ok(Err(e)) => {
                    let err = map_err(&self.brokers, "", "consuming", &e);
                    if out.is_empty() {
                        return Err(err);
                    }
                    tracing::warn!(error = %err, "consuming; returning what arrived before");
                    break;
                }
            }
        }
        let mut st = self.state.lock();
        for m in &out {
            let next = i64::try_from(m.offset)
                .unwrap_or(i64::MAX)
                .saturating_add(1);
            st.positions.insert(
                (
                    m.topic.clone(),
                    i32::try_from(m.partition).unwrap_or(i32::MAX),
                ),
                next,
            );
        }
        Ok(out)
    }

    async fn commit(
        &mut self,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), BusError> {
        let consumer = self.consumer.clone();
        let brokers = self.brokers.clone();
        let t = topic.to_string();
        blocking(&self.brokers, move || {
            let mut tpl = TopicPartitionList::new();
            let p = i32::try_from(partition).unwrap_or(i32::MAX);
            let o = i64::try_from(next_offset).unwrap_or(i64::MAX);
            tpl.add_partition_offset(&t, p, Offset::Offset(o))
                .and_then(|()| consumer.commit(&tpl, CommitMode::Sync))
                .map_err(|e| map_err(&brokers, &t, "committing", &e))
        })
        .await
    }

    fn assignment(&self) -> Vec<(String, u32)> {
        match self.consumer.assignment() {
            Ok(tpl) => tpl
                .elements()
                .iter()
                .filter_map(|e| Some((e.topic().to_string(), u32::try_from(e.partition()).ok()?)))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Drop for KafkaConsumer {
    fn drop(&mut self) {
        // Closing leaves the group (a round trip to the coordinator): off the async threads.
        let consumer = self.consumer.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(h) => {
                h.spawn_blocking(move || drop(consumer));
            }
            Err(_) => drop(consumer),
        }
    }
}
