//! Storage of the embedded log: topics, partitions, appends, reads and committed offsets.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::group::Groups;
use super::record::{self, message_key, offset_of, partition_for};
use crate::bus::api::{BusError, Cleanup, Message, Produced, TopicSpec};

/// The state shared by the bus handle and its consumers.
pub(super) struct Log {
    pub(super) dir: PathBuf,
    pub(super) db: sled::Db,
    meta: sled::Tree,
    offsets: sled::Tree,
    /// `<topic>\0<partition u32 BE>` → the partition's log start offset (u64 BE), once
    /// retention has deleted messages.
    starts: sled::Tree,
    topics: RwLock<HashMap<String, Arc<Topic>>>,
    pub(super) groups: Groups,
    /// Sequence of writes (appends and commits) inserted so far.
    writes: AtomicU64,
    /// Every write up to this sequence number is on disk.
    flushed: AtomicU64,
    /// One flush at a time; writers queued behind it are covered by the next one.
    flush_lock: tokio::sync::Mutex<()>,
}

/// One topic.
pub(super) struct Topic {
    pub(super) name: String,
    pub(super) tree: sled::Tree,
    pub(super) parts: Vec<Partition>,
    /// What the cleaner removes (from the latest `ensure_topics`, else as stored).
    pub(super) cleanup: RwLock<Cleanup>,
    /// Woken when a message becomes durable (or when group membership changes).
    pub(super) notify: Notify,
}

pub(super) struct Partition {
    tail: Mutex<Tail>,
    /// Offsets below this are durable and visible to consumers.
    pub(super) durable: AtomicU64,
    /// The log start: offsets below it were deleted by retention.
    pub(super) start: AtomicU64,
    /// Messages appended since the last compaction (all of them after opening).
    pub(super) dirty: AtomicU64,
    /// Messages left by the last compaction.
    pub(super) live: AtomicU64,
    /// When the earliest tombstone becomes removable (ms since the epoch; `i64::MAX`: none).
    pub(super) tombstone_due: AtomicI64,
}

struct Tail {
    next: u64,
    last_ts: i64,
}

/// What `meta` stores per topic.
#[derive(Serialize, Deserialize)]
struct StoredSpec {
    partitions: u32,
    compact: bool,
    /// Absent in topics created before retention existed: compacted with the defaults, or
    /// kept for ever.
    #[serde(default)]
    cleanup: Option<StoredCleanup>,
}

/// [`Cleanup`] as stored.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq)]
enum StoredCleanup {
    Compact {
        tombstone_ms: u64,
        dirty_percent: u8,
    },
    Delete {
        max_age_ms: Option<u64>,
        max_bytes: Option<u64>,
    },
}

impl From<Cleanup> for StoredCleanup {
    fn from(c: Cleanup) -> Self {
        match c {
            Cleanup::Compact {
                tombstone_ms,
                dirty_percent,
            } => StoredCleanup::Compact {
                tombstone_ms,
                dirty_percent,
            },
            Cleanup::Delete {
                max_age_ms,
                max_bytes,
            } => StoredCleanup::Delete {
                max_age_ms,
                max_bytes,
            },
        }
    }
}

impl StoredSpec {
    fn new(spec: &TopicSpec) -> StoredSpec {
        StoredSpec {
            partitions: spec.partitions,
            compact: spec.compact(),
            cleanup: Some(spec.cleanup.into()),
        }
    }

    fn cleanup(&self) -> Cleanup {
        match self.cleanup {
            Some(StoredCleanup::Compact {
                tombstone_ms,
                dirty_percent,
            }) => Cleanup::Compact {
                tombstone_ms,
                dirty_percent,
            },
            Some(StoredCleanup::Delete {
                max_age_ms,
                max_bytes,
            }) => Cleanup::Delete {
                max_age_ms,
                max_bytes,
            },
            None if self.compact => Cleanup::COMPACT,
            None => Cleanup::KEEP,
        }
    }
}

impl Topic {
    /// The partition count.
    pub(super) fn partitions(&self) -> u32 {
        self.parts.len() as u32
    }

    /// The log start of each partition.
    pub(super) fn start_offsets(&self) -> Vec<u64> {
        self.parts
            .iter()
            .map(|p| p.start.load(Ordering::Acquire))
            .collect()
    }

    /// The log start of one partition (0 for a partition that does not exist).
    pub(super) fn start_of(&self, partition: u32) -> u64 {
        self.parts
            .get(partition as usize)
            .map_or(0, |p| p.start.load(Ordering::Acquire))
    }

    /// The durable end (next offset) of each partition.
    pub(super) fn end_offsets(&self) -> Vec<u64> {
        self.parts
            .iter()
            .map(|p| p.durable.load(Ordering::Acquire))
            .collect()
    }
}

impl Log {
    /// Opens the database and restores topics and partition tails. A database that cannot
    /// be read (damaged files) is a [`BusError::Damaged`] naming the directory, what is lost
    /// and what to do; sled's own panics on some damage are caught and reported the same way.
    pub(super) fn open(dir: &Path) -> Result<Log, BusError> {
        let (db, meta, offsets, starts) = super::damage::open_db(dir)?;
        let log = Log {
            dir: dir.to_path_buf(),
            db,
            meta,
            offsets,
            starts,
            topics: RwLock::new(HashMap::new()),
            groups: Groups::default(),
            writes: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            flush_lock: tokio::sync::Mutex::new(()),
        };
        let mut topics = HashMap::new();
        for item in log.meta.iter() {
            let (k, v) = item.map_err(|e| log.unavailable(e))?;
            let name = String::from_utf8(k.to_vec())
                .map_err(|e| log.corrupt("meta", format!("topic name: {e}")))?;
            let spec: StoredSpec = serde_json::from_slice(&v)
                .map_err(|e| log.corrupt(&format!("meta/{name}"), e.to_string()))?;
            let topic = log.load_topic(&name, spec.partitions, spec.cleanup())?;
            topics.insert(name, Arc::new(topic));
        }
        *log.topics.write() = topics;
        Ok(log)
    }

    pub(super) fn unavailable(&self, e: impl std::fmt::Display) -> BusError {
        BusError::Unavailable {
            location: self.dir.display().to_string(),
            reason: e.to_string(),
        }
    }

    pub(super) fn corrupt(&self, what: &str, reason: impl Into<String>) -> BusError {
        BusError::Corrupt {
            location: format!("{} ({what})", self.dir.display()),
            reason: reason.into(),
        }
    }

    /// Opens a topic's tree and finds each partition's last message.
    fn load_topic(&self, name: &str, partitions: u32, cleanup: Cleanup) -> Result<Topic, BusError> {
        let tree = self
            .db
            .open_tree(format!("topic/{name}"))
            .map_err(|e| self.unavailable(e))?;
        let mut parts = Vec::with_capacity(partitions as usize);
        for p in 0..partitions {
            let last = tree
                .scan_prefix(p.to_be_bytes())
                .next_back()
                .transpose()
                .map_err(|e| self.unavailable(e))?;
            let start = self.stored_start(name, p)?;
            let (next, last_ts) = match last {
                None => (0, i64::MIN),
                Some((k, v)) => {
                    let where_ = || format!("{name}/{p}");
                    let offset =
                        offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
                    let ts = record::decode_ts(&v).map_err(|e| self.corrupt(&where_(), e))?;
                    (offset + 1, ts)
                }
            };
            // Retention may have deleted every message: the end is then the log start.
            let next = next.max(start);
            parts.push(Partition {
                tail: Mutex::new(Tail { next, last_ts }),
                durable: AtomicU64::new(next),
                start: AtomicU64::new(start),
                dirty: AtomicU64::new(next - start),
                live: AtomicU64::new(0),
                tombstone_due: AtomicI64::new(i64::MIN),
            });
        }
        Ok(Topic {
            name: name.to_string(),
            tree,
            parts,
            cleanup: RwLock::new(cleanup),
            notify: Notify::new(),
        })
    }

    /// The stored log start of a partition (0 when retention never deleted anything).
    fn stored_start(&self, topic: &str, partition: u32) -> Result<u64, BusError> {
        let k = start_key(topic, partition);
        match self.starts.get(k).map_err(|e| self.unavailable(e))? {
            None => Ok(0),
            Some(v) => {
                let bytes: [u8; 8] = v.as_ref().try_into().map_err(|_| {
                    self.corrupt(
                        &format!("starts/{topic}/{partition}"),
                        format!("{} bytes instead of 8", v.len()),
                    )
                })?;
                Ok(u64::from_be_bytes(bytes))
            }
        }
    }

    /// Records a partition's new log start (before the messages below it are deleted, so a
    /// crash in between leaves only invisible leftovers, deleted by the next pass).
    pub(super) fn store_start(
        &self,
        topic: &str,
        partition: u32,
        start: u64,
    ) -> Result<(), BusError> {
        self.starts
            .insert(start_key(topic, partition), &start.to_be_bytes())
            .map_err(|e| self.unavailable(e))?;
        self.db.flush().map_err(|e| self.unavailable(e))?;
        Ok(())
    }

    /// The topic, or an error telling to create it.
    pub(super) fn topic(&self, name: &str) -> Result<Arc<Topic>, BusError> {
        self.topics
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| BusError::Topic {
                topic: name.to_string(),
                reason: "does not exist in the embedded log; create it first with ensure_topics \
                         (Couplet creates its topics at start-up)"
                    .to_string(),
            })
    }

    /// Every topic.
    pub(super) fn all_topics(&self) -> Vec<Arc<Topic>> {
        self.topics.read().values().cloned().collect()
    }

    /// Creates the missing topics.
    pub(super) async fn ensure(&self, specs: &[TopicSpec]) -> Result<(), BusError> {
        let mut created = false;
        for spec in specs {
            if spec.partitions == 0 {
                return Err(BusError::Topic {
                    topic: spec.name.clone(),
                    reason: "a topic needs at least one partition".to_string(),
                });
            }
            let mut topics = self.topics.write();
            if let Some(t) = topics.get(&spec.name) {
                // The shape stays; the cleanup follows the configuration.
                if *t.cleanup.read() != spec.cleanup {
                    let stored = StoredSpec {
                        partitions: t.partitions(),
                        ..StoredSpec::new(spec)
                    };
                    let bytes = serde_json::to_vec(&stored).map_err(|e| self.unavailable(e))?;
                    self.meta
                        .insert(spec.name.as_bytes(), bytes)
                        .map_err(|e| self.unavailable(e))?;
                    tracing::info!(topic = %spec.name, cleanup = ?spec.cleanup,
                        "The embedded log's topic follows the new [bus.retention] settings.");
                    *t.cleanup.write() = spec.cleanup;
                    created = true;
                }
                continue;
            }
            let bytes =
                serde_json::to_vec(&StoredSpec::new(spec)).map_err(|e| self.unavailable(e))?;
            let topic = self.load_topic(&spec.name, spec.partitions, spec.cleanup)?;
            self.meta
                .insert(spec.name.as_bytes(), bytes)
                .map_err(|e| self.unavailable(e))?;
            topics.insert(spec.name.clone(), Arc::new(topic));
            created = true;
        }
        if created {
            let seq = self.writes.fetch_add(1, Ordering::AcqRel) + 1;
            self.sync(seq).await?;
            super::damage::mark(&self.dir)?;
        }
        Ok(())
    }

    /// Appends a message and returns once it is on disk.
    pub(super) async fn append(
        &self,
        topic: &str,
        partition: Option<u32>,
        key: &str,
        value: Option<&[u8]>,
        headers: &[(String, String)],
    ) -> Result<Produced, BusError> {
        let t = self.topic(topic)?;
        let partition = match partition {
            None => partition_for(key, t.partitions()),
            Some(p) if p < t.partitions() => p,
            Some(p) => {
                return Err(BusError::Topic {
                    topic: topic.to_string(),
                    reason: format!(
                        "partition {p} does not exist (the topic has {})",
                        t.partitions()
                    ),
                });
            }
        };
        let part = &t.parts[partition as usize];
        let (offset, seq) = {
            let mut tail = part.tail.lock();
            // Timestamps never go backwards within a partition, so time searches can bisect.
            let ts = Utc::now().timestamp_millis().max(tail.last_ts);
            let offset = tail.next;
            let bytes = record::encode(ts, key, headers, value);
            t.tree
                .insert(message_key(partition, offset), bytes)
                .map_err(|e| self.unavailable(e))?;
            tail.next += 1;
            tail.last_ts = ts;
            part.dirty.fetch_add(1, Ordering::AcqRel);
            if value.is_none()
                && let Cleanup::Compact { tombstone_ms, .. } = *t.cleanup.read()
            {
                let due = ts.saturating_add(i64::try_from(tombstone_ms).unwrap_or(i64::MAX));
                part.tombstone_due.fetch_min(due, Ordering::AcqRel);
            }
            // Taken under the lock: a flush covering `seq` covers every earlier offset.
            (offset, self.writes.fetch_add(1, Ordering::AcqRel) + 1)
        };
        self.sync(seq).await?;
        part.durable.fetch_max(offset + 1, Ordering::AcqRel);
        t.notify.notify_waiters();
        Ok(Produced {
            partition,
            offset: Some(offset),
        })
    }

    /// Waits until write `seq` is on disk. Concurrent writers share flushes (group commit).
    async fn sync(&self, seq: u64) -> Result<(), BusError> {
        if self.flushed.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let _guard = self.flush_lock.lock().await;
        if self.flushed.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let target = self.writes.load(Ordering::Acquire);
        self.db
            .flush_async()
            .await
            .map_err(|e| self.unavailable(e))?;
        self.flushed.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }

    /// Up to `max` durable messages of a partition from offset `from`.
    pub(super) fn read(
        &self,
        t: &Topic,
        partition: u32,
        from: u64,
        max: usize,
    ) -> Result<Vec<Message>, BusError> {
        let Some(part) = t.parts.get(partition as usize) else {
            return Ok(Vec::new());
        };
        let end = part.durable.load(Ordering::Acquire);
        // Below the log start, messages are deleted or about to be.
        let from = from.max(part.start.load(Ordering::Acquire));
        if from >= end || max == 0 {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(max.min((end - from) as usize));
        // Compaction leaves gaps: read up to `max` messages, wherever they are before the end.
        let range = message_key(partition, from)..message_key(partition, end);
        for item in t.tree.range(range).take(max) {
            let (k, v) = item.map_err(|e| self.unavailable(e))?;
            let where_ = || format!("{}/{partition}", t.name);
            let offset = offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
            let r = record::decode(&v)
                .map_err(|e| self.corrupt(&format!("{}@{offset}", where_()), e))?;
            out.push(Message {
                topic: t.name.clone(),
                partition,
                offset,
                key: r.key,
                value: r.value,
                headers: r.headers,
                timestamp: to_time(r.ts_ms),
            });
        }
        Ok(out)
    }

    /// The first offset whose message was appended at or after `at` (the end if none).
    pub(super) fn offset_for_time(
        &self,
        t: &Topic,
        partition: u32,
        at: DateTime<Utc>,
    ) -> Result<u64, BusError> {
        let Some(part) = t.parts.get(partition as usize) else {
            return Ok(0);
        };
        let target = at.timestamp_millis();
        let (mut lo, mut hi) = (
            part.start.load(Ordering::Acquire),
            part.durable.load(Ordering::Acquire),
        );
        // Timestamps are non-decreasing per partition: bisect, each probe reading the first
        // message at or after the middle (compaction leaves gaps).
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let next = t
                .tree
                .range(message_key(partition, mid)..message_key(partition, hi))
                .next()
                .transpose()
                .map_err(|e| self.unavailable(e))?;
            let Some((k, v)) = next else {
                // Nothing from the middle on: the answer is at or before it.
                hi = mid;
                continue;
            };
            let where_ = || format!("{}/{partition}@{mid}", t.name);
            let found = offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
            let ts = record::decode_ts(&v).map_err(|e| self.corrupt(&where_(), e))?;
            if ts < target {
                // Every offset up to `found` leads to a message older than `at`.
                lo = found + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Persists a group's committed offset.
    pub(super) async fn commit(
        &self,
        group: &str,
        t: &Topic,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), BusError> {
        if partition >= t.partitions() {
            return Err(BusError::Topic {
                topic: t.name.clone(),
                reason: format!(
                    "has {} partitions; cannot commit partition {partition}",
                    t.partitions()
                ),
            });
        }
        let k = offset_key(group, &t.name, partition);
        self.offsets
            .insert(k, &next_offset.to_be_bytes())
            .map_err(|e| self.unavailable(e))?;
        let seq = self.writes.fetch_add(1, Ordering::AcqRel) + 1;
        self.sync(seq).await
    }

    /// A group's committed offset on one partition.
    pub(super) fn committed(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, BusError> {
        let k = offset_key(group, topic, partition);
        match self.offsets.get(k).map_err(|e| self.unavailable(e))? {
            None => Ok(None),
            Some(v) => {
                let bytes: [u8; 8] = v.as_ref().try_into().map_err(|_| {
                    self.corrupt(
                        &format!("offsets/{group}/{topic}/{partition}"),
                        format!("{} bytes instead of 8", v.len()),
                    )
                })?;
                Ok(Some(u64::from_be_bytes(bytes)))
            }
        }
    }
}

fn offset_key(group: &str, topic: &str, partition: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(group.len() + topic.len() + 6);
    k.extend_from_slice(group.as_bytes());
    k.push(0);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k.extend_from_slice(&partition.to_be_bytes());
    k
}

fn start_key(topic: &str, partition: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(topic.len() + 5);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k.extend_from_slice(&partition.to_be_bytes());
    k
}

fn to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
