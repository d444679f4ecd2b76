//! The embedded log's cleaner: compaction of the compacted topics (the newest value per key;
//! tombstones kept for their delete retention, then removed) and retention of the others
//! (messages older or beyond the size limit deleted, the log start moved past them).
//!
//! Offsets never change: compaction leaves gaps, which readers skip. The newest message of a
//! partition is never removed by compaction, so the partition's end survives a restart;
//! retention records the new log start before deleting, so a partition emptied by retention
//! keeps its end too. A background thread runs a pass every `check_secs`; a compacted
//! partition is compacted only when its dirty share (messages appended since the last
//! compaction) reaches the topic's `dirty_percent`, or a tombstone's retention ran out, so the
//! work stays proportional to what was appended. Removals go in batches, between which the
//! thread yields; appends never wait for a pass (they write other keys of the same tree).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::log::{Log, Topic};
use super::record::{self, message_key, offset_of};
use crate::bus::api::{BusError, Cleanup};
use crate::metrics::metrics;

/// Keys removed per sled batch.
const BATCH: usize = 1000;

/// What one pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cleaned {
    /// Messages removed by compaction (superseded values and expired tombstones).
    pub(super) compacted: u64,
    /// Messages deleted by retention.
    pub(super) deleted: u64,
}

impl Log {
    /// One cleaning pass over every topic, as if the time were `now_ms` (ms since the epoch).
    pub(super) fn clean(&self, now_ms: i64) -> Result<Cleaned, BusError> {
        let mut total = Cleaned::default();
        for t in self.all_topics() {
            let cleanup = *t.cleanup.read();
            for p in 0..t.partitions() {
                match cleanup {
                    Cleanup::Compact {
                        tombstone_ms,
                        dirty_percent,
                    } => {
                        if compaction_due(&t, p, dirty_percent, now_ms) {
                            total.compacted += self.compact(&t, p, tombstone_ms, now_ms)?;
                        }
                    }
                    Cleanup::Delete {
                        max_age_ms,
                        max_bytes,
                    } => total.deleted += self.retain(&t, p, max_age_ms, max_bytes, now_ms)?,
                }
            }
        }
        if let Ok(bytes) = self.db.size_on_disk() {
            metrics()
                .log_disk_bytes
                .with_label_values::<&str>(&[])
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        Ok(total)
    }

    /// Compacts one partition; returns the number of messages removed.
    fn compact(&self, t: &Topic, p: u32, tombstone_ms: u64, now_ms: i64) -> Result<u64, BusError> {
        let part = &t.parts[p as usize];
        let dirty_seen = part.dirty.load(Ordering::Acquire);
        // Taken over: appends of tombstones from now on set it again.
        part.tombstone_due.store(i64::MAX, Ordering::Release);
        let (start, end) = (
            part.start.load(Ordering::Acquire),
            part.durable.load(Ordering::Acquire),
        );
        let range = || t.tree.range(message_key(p, start)..message_key(p, end));
        let where_ = || format!("{}/{p}", t.name);
        // The newest offset of every key, and the newest offset of all.
        let mut latest: HashMap<String, u64> = HashMap::new();
        let mut newest = None;
        for item in range() {
            let (k, v) = item.map_err(|e| self.unavailable(e))?;
            let offset = offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
            let (_, _, key) = record::decode_head(&v).map_err(|e| self.corrupt(&where_(), e))?;
            latest.insert(key, offset);
            newest = Some(offset);
        }
        let tombstone_ms = i64::try_from(tombstone_ms).unwrap_or(i64::MAX);
        let (mut remove, mut live, mut due) = (Vec::new(), 0u64, i64::MAX);
        for item in range() {
            let (k, v) = item.map_err(|e| self.unavailable(e))?;
            let offset = offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
            let (tombstone, ts, key) =
                record::decode_head(&v).map_err(|e| self.corrupt(&where_(), e))?;
            let superseded = latest.get(&key) != Some(&offset);
            let expires = ts.saturating_add(tombstone_ms);
            let expired = tombstone && expires <= now_ms;
            if Some(offset) != newest && (superseded || expired) {
                remove.push(k);
                continue;
            }
            live += 1;
            if tombstone && !expired {
                due = due.min(expires);
            }
        }
        let removed = self.remove(t, &remove)?;
        part.live.store(live, Ordering::Release);
        part.dirty.fetch_sub(dirty_seen, Ordering::AcqRel);
        part.tombstone_due.fetch_min(due, Ordering::AcqRel);
        if removed > 0 {
            metrics()
                .log_compacted
                .with_label_values(&[&t.name])
                .inc_by(removed);
            tracing::debug!(topic = %t.name, partition = p, removed, live,
                "Compacted a partition of the embedded log.");
        }
        Ok(removed)
    }

    /// Applies a delete-policy partition's age and size limits; returns the number of
    /// messages deleted.
    fn retain(
        &self,
        t: &Topic,
        p: u32,
        max_age_ms: Option<u64>,
        max_bytes: Option<u64>,
        now_ms: i64,
    ) -> Result<u64, BusError> {
        let part = &t.parts[p as usize];
        let (start, end) = (
            part.start.load(Ordering::Acquire),
            part.durable.load(Ordering::Acquire),
        );
        let where_ = || format!("{}/{p}", t.name);
        let mut new_start = start;
        if let Some(age) = max_age_ms {
            let cutoff = now_ms.saturating_sub(i64::try_from(age).unwrap_or(i64::MAX));
            // Timestamps never decrease within a partition: stop at the first young one.
            for item in t.tree.range(message_key(p, start)..message_key(p, end)) {
                let (k, v) = item.map_err(|e| self.unavailable(e))?;
                let offset =
                    offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
                let ts = record::decode_ts(&v).map_err(|e| self.corrupt(&where_(), e))?;
                if ts >= cutoff {
                    break;
                }
                new_start = offset + 1;
            }
        }
        if let Some(limit) = max_bytes {
            let mut kept = 0u64;
            for item in t
                .tree
                .range(message_key(p, new_start)..message_key(p, end))
                .rev()
            {
                let (k, v) = item.map_err(|e| self.unavailable(e))?;
                kept += (k.len() + v.len()) as u64;
                if kept > limit {
                    let offset =
                        offset_of(&k).ok_or_else(|| self.corrupt(&where_(), "bad message key"))?;
                    new_start = new_start.max(offset + 1);
                    break;
                }
            }
        }
        if new_start > start {
            self.store_start(&t.name, p, new_start)?;
            part.start.fetch_max(new_start, Ordering::AcqRel);
        }
        // From 0: also what a crash left below an earlier log start.
        let below: Vec<sled::IVec> = t
            .tree
            .range(message_key(p, 0)..message_key(p, new_start))
            .keys()
            .collect::<Result<_, _>>()
            .map_err(|e| self.unavailable(e))?;
        let deleted = self.remove(t, &below)?;
        if deleted > 0 {
            metrics()
                .log_retention_deleted
                .with_label_values(&[&t.name])
                .inc_by(deleted);
            tracing::debug!(topic = %t.name, partition = p, deleted, log_start = new_start,
                "Retention deleted the oldest messages of a partition of the embedded log.");
        }
        Ok(deleted)
    }

    /// Removes message keys in batches, yielding between them.
    fn remove(&self, t: &Topic, keys: &[sled::IVec]) -> Result<u64, BusError> {
        for chunk in keys.chunks(BATCH) {
            let mut batch = sled::Batch::default();
            for k in chunk {
                batch.remove(k.clone());
            }
            t.tree.apply_batch(batch).map_err(|e| self.unavailable(e))?;
            std::thread::yield_now();
        }
        Ok(keys.len() as u64)
    }
}

/// True when a compacted partition's dirty share reached `dirty_percent`, or a tombstone's
/// retention ran out.
fn compaction_due(t: &Topic, p: u32, dirty_percent: u8, now_ms: i64) -> bool {
    let part = &t.parts[p as usize];
    let dirty = part.dirty.load(Ordering::Acquire);
    let live = part.live.load(Ordering::Acquire);
    let share = dirty > 0
        && u128::from(dirty) * 100 >= u128::from(dirty_percent) * u128::from(dirty + live);
    share || part.tombstone_due.load(Ordering::Acquire) <= now_ms
}

/// The background thread running cleaning passes; stops (and is joined) when dropped.
pub(super) struct Cleaner {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Cleaner {
    /// Starts a pass every `every` on `log`, for as long as the log exists.
    pub(super) fn start(log: &Arc<Log>, every: Duration) -> Cleaner {
        let (tx, rx) = mpsc::channel::<()>();
        let weak: Weak<Log> = Arc::downgrade(log);
        let spawned = std::thread::Builder::new()
            .name("couplet-log-cleaner".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    let Some(log) = weak.upgrade() else { return };
                    let now = chrono::Utc::now().timestamp_millis();
                    match log.clean(now) {
                        Ok(c) if c != Cleaned::default() => tracing::info!(
                            dir = %log.dir.display(), compacted = c.compacted,
                            deleted = c.deleted, "Cleaned the embedded log."
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e,
                            "Cleaning the embedded log failed; the next pass tries again."),
                    }
                }
            });
        let thread = match spawned {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e,
                    "Could not start the embedded log's cleaner: the log is neither compacted \
                     nor trimmed in this process.");
                None
            }
        };
        Cleaner {
            stop: Some(tx),
            thread,
        }
    }
}

impl Drop for Cleaner {
    fn drop(&mut self) {
        // Closing the channel ends the thread's wait at once.
        self.stop.take();
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}
