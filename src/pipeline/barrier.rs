//! A read-your-writes barrier over the shared state changelogs (`couplings` and `intents`).
//!
//! Another instance's coupling or create intent reaches this instance's store through the
//! state follower, a moment after it was appended. Before deciding that a captured record is
//! new (and creating it on the other side), the apply stage waits for a barrier: it appends a
//! marker to every partition of those changelogs and waits until its own follower has read
//! each one back. Kafka keeps each partition in order, so everything any instance appended
//! before the barrier began is then in the local store. Concurrent callers share rounds: a
//! caller is served by the first round that starts after it asked.
//!
//! Markers are tombstones (null values) keyed `barrier/<instance>` with the
//! [`BARRIER_HEADER`]; every reader of the changelogs skips them, and on a compacted topic
//! compaction removes them (the key never holds state).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OnceCell};

use super::error::PipelineError;
use super::state::{INSTANCE_HEADER, is_own};
use crate::bus::{Bus, BusError, Message, Topics};
use crate::metrics::metrics;

/// The header marking a barrier marker; its value is `<incarnation>:<round>` (rounds of an
/// earlier run of the same instance never count for this one).
pub const BARRIER_HEADER: &str = "couplet-barrier";

/// True when `msg` is a barrier marker (of any instance): it carries no state.
pub fn is_barrier(msg: &Message) -> bool {
    msg.headers.iter().any(|(k, _)| k == BARRIER_HEADER)
}

/// The barrier of one instance; cheap to clone.
#[derive(Clone)]
pub struct Barrier {
    inner: Arc<Inner>,
}

struct Inner {
    bus: Arc<dyn Bus>,
    topics: Vec<String>,
    instance: String,
    incarnation: String,
    timeout: Duration,
    partitions: OnceCell<Vec<(String, u32)>>,
    /// Rounds started and completed (monotonic; one round runs at a time).
    started: AtomicU64,
    completed: AtomicU64,
    round: tokio::sync::Mutex<()>,
    /// The newest own round read back, per (topic, partition).
    seen: parking_lot::Mutex<HashMap<(String, u32), u64>>,
    read_back: Notify,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier")
            .field("instance", &self.inner.instance)
            .field("completed", &self.inner.completed.load(Ordering::Acquire))
            .finish()
    }
}

impl Barrier {
    /// The barrier of `instance` over `topics`' couplings and intents changelogs; a round not
    /// read back within `timeout` is an error (the state follower is stuck).
    pub fn new(bus: Arc<dyn Bus>, topics: &Topics, instance: &str, timeout: Duration) -> Self {
        Barrier {
            inner: Arc::new(Inner {
                bus,
                topics: vec![topics.couplings.clone(), topics.intents.clone()],
                instance: instance.to_string(),
                incarnation: uuid::Uuid::new_v4().simple().to_string(),
                timeout,
                partitions: OnceCell::new(),
                started: AtomicU64::new(0),
                completed: AtomicU64::new(0),
                round: tokio::sync::Mutex::new(()),
                seen: parking_lot::Mutex::new(HashMap::new()),
                read_back: Notify::new(),
            }),
        }
    }

    /// For the state follower, on every message: true when `msg` is a barrier marker (the
    /// follower skips it); this instance's own markers complete their round.
    pub fn observe(&self, msg: &Message) -> bool {
        let Some((_, round)) = msg.headers.iter().find(|(k, _)| k == BARRIER_HEADER) else {
            return false;
        };
        if is_own(msg, &self.inner.instance)
            && let Some((incarnation, round)) = round.split_once(':')
            && incarnation == self.inner.incarnation
            && let Ok(round) = round.parse::<u64>()
        {
            let mut seen = self.inner.seen.lock();
            let slot = seen.entry((msg.topic.clone(), msg.partition)).or_insert(0);
            *slot = (*slot).max(round);
            drop(seen);
            self.inner.read_back.notify_waiters();
        }
        true
    }

    /// Returns once every coupling and intent appended by any instance before the call is in
    /// the local store.
    pub async fn sync(&self) -> Result<(), PipelineError> {
        let i = &self.inner;
        let asked_after = i.started.load(Ordering::Acquire);
        let _one_round = i.round.lock().await;
        if i.completed.load(Ordering::Acquire) > asked_after {
            // A round that began after this call has completed meanwhile.
            return Ok(());
        }
        let round = i.started.fetch_add(1, Ordering::AcqRel) + 1;
        let began = Instant::now();
        let result = self.run(round).await;
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        metrics()
            .barrier_seconds
            .with_label_values(&[outcome])
            .observe(began.elapsed().as_secs_f64());
        result?;
        i.completed.store(round, Ordering::Release);
        Ok(())
    }

    async fn run(&self, round: u64) -> Result<(), PipelineError> {
        let i = &self.inner;
        let parts = i
            .partitions
            .get_or_try_init(|| async {
                let mut all = Vec::new();
                for t in &i.topics {
                    for p in 0..i.bus.partitions(t).await? {
                        all.push((t.clone(), p));
                    }
                }
                Ok::<_, PipelineError>(all)
            })
            .await?;
        let headers = [
            (INSTANCE_HEADER.to_string(), i.instance.clone()),
            (
                BARRIER_HEADER.to_string(),
                format!("{}:{round}", i.incarnation),
            ),
        ];
        let key = format!("barrier/{}", i.instance);
        let sends = parts
            .iter()
            .map(|(t, p)| i.bus.produce_to(t, *p, &key, None, &headers));
        for r in futures::future::join_all(sends).await {
            r?;
        }
        let deadline = tokio::time::Instant::now() + i.timeout;
        loop {
            let notified = i.read_back.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let missing = {
                let seen = i.seen.lock();
                parts
                    .iter()
                    .filter(|k| seen.get(*k).copied().unwrap_or(0) < round)
                    .count()
            };
            if missing == 0 {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                // Retried like any other unavailability of the log (the consumer loop backs
                // off and tries the message again).
                return Err(PipelineError::Bus(BusError::Unavailable {
                    location: format!("the state changelogs ({})", i.topics.join(", ")),
                    reason: format!(
                        "the state follower of instance {} did not read back its barrier on {missing} of {} partitions within {:?}; is the broker reachable? (a follower that stopped is reported as a failed stage)",
                        i.instance,
                        parts.len(),
                        i.timeout
                    ),
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::{StartFrom, TopicSpec};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_round_completes_only_once_every_marker_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let bus: Arc<dyn Bus> =
            Arc::new(crate::bus::embedded::EmbeddedBus::open(dir.path()).unwrap());
        let topics = Topics::new("t");
        bus.ensure_topics(&[
            TopicSpec::new(&topics.couplings, 3, true),
            TopicSpec::new(&topics.intents, 2, true),
        ])
        .await
        .unwrap();
        let stuck = Barrier::new(bus.clone(), &topics, "me", Duration::from_millis(300));
        // Nobody reads the markers back: the round times out, naming the follower.
        let err = stuck.sync().await.unwrap_err().to_string();
        assert!(
            err.contains("did not read back its barrier on 5 of 5"),
            "{err}"
        );

        // The same instance started again: the earlier run's markers never count.
        let barrier = Barrier::new(bus.clone(), &topics, "me", Duration::from_secs(10));

        // A follower that reads both changelogs completes the next round.
        let follower = barrier.clone();
        let b2 = bus.clone();
        let names = vec![topics.couplings.clone(), topics.intents.clone()];
        let reader = tokio::spawn(async move {
            let mut c = b2
                .subscribe("f", &names, StartFrom::Earliest)
                .await
                .unwrap();
            let mut markers = 0;
            loop {
                for m in c.poll(100, Duration::from_millis(50)).await.unwrap() {
                    assert!(follower.observe(&m));
                    markers += 1;
                }
                assert!(follower.inner.seen.lock().values().all(|r| *r <= 3));
                if markers >= 20 {
                    return markers;
                }
            }
        });
        barrier.sync().await.unwrap();
        // Callers that ask while a round is on share the next one: three callers, two rounds.
        let (a, b, c) = tokio::join!(barrier.sync(), barrier.sync(), barrier.sync());
        for r in [a, b, c] {
            r.unwrap();
        }
        assert_eq!(barrier.inner.started.load(Ordering::Acquire), 3);
        assert_eq!(reader.await.unwrap(), 20, "four rounds of five markers");
    }
}
