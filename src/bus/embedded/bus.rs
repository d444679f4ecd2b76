//! The `Bus` handle of the embedded log.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::clean::Cleaner;
use super::consumer::EmbeddedConsumer;
use super::log::Log;
use crate::bus::api::{Bus, BusError, Consumer, Produced, StartFrom, TopicSpec};

/// A sled-backed log with partitions, offsets and consumer groups. Cheap to clone; clones
/// share one database, one set of consumer groups and one cleaner (the background thread
/// compacting and trimming the topics, stopped when the last clone is dropped).
#[derive(Clone)]
pub struct EmbeddedBus {
    log: Arc<Log>,
    _cleaner: Arc<Cleaner>,
}

impl std::fmt::Debug for EmbeddedBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut topics: Vec<String> = self
            .log
            .all_topics()
            .iter()
            .map(|t| t.name.clone())
            .collect();
        topics.sort();
        f.debug_struct("EmbeddedBus")
            .field("dir", &self.log.dir)
            .field("topics", &topics)
            .finish()
    }
}

impl EmbeddedBus {
    /// Opens (or creates) the log under `dir`, readable by its owner only (the directory
    /// `0700`, its files `0600`; see [`crate::private_fs`]), cleaned every
    /// `[bus.retention] check_secs` by default (60 s).
    pub fn open(dir: &Path) -> Result<EmbeddedBus, BusError> {
        Self::open_cleaning_every(dir, crate::bus::RetentionConfig::default().check_interval())
    }

    /// Opens (or creates) the log under `dir`, private to its owner, with a cleaning pass
    /// every `every`.
    pub fn open_cleaning_every(dir: &Path, every: Duration) -> Result<EmbeddedBus, BusError> {
        let private = |e: std::io::Error| BusError::Unavailable {
            location: dir.display().to_string(),
            reason: format!("cannot make the log private to its owner: {e}"),
        };
        crate::private_fs::create_private_dir(dir).map_err(private)?;
        let log = Arc::new(Log::open(dir)?);
        crate::private_fs::restrict_tree(dir).map_err(private)?;
        Ok(EmbeddedBus {
            _cleaner: Arc::new(Cleaner::start(&log, every)),
            log,
        })
    }

    /// Runs a cleaning pass now (compaction and retention, as the background thread does),
    /// as if the time were `at`: a time ahead shows what later passes will remove. Returns
    /// the messages removed by compaction and deleted by retention.
    pub fn clean_as_of(&self, at: chrono::DateTime<chrono::Utc>) -> Result<(u64, u64), BusError> {
        let c = self.log.clean(at.timestamp_millis())?;
        Ok((c.compacted, c.deleted))
    }

    /// Bytes the log's database takes on disk (sled's own count).
    pub fn size_on_disk(&self) -> Result<u64, BusError> {
        self.log
            .db
            .size_on_disk()
            .map_err(|e| self.log.unavailable(e))
    }
}

#[async_trait]
impl Bus for EmbeddedBus {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    async fn ensure_topics(&self, topics: &[TopicSpec]) -> Result<(), BusError> {
        self.log.ensure(topics).await
    }

    async fn produce(
        &self,
        topic: &str,
        key: &str,
        value: Option<&[u8]>,
        headers: &[(String, String)],
    ) -> Result<Produced, BusError> {
        self.log.append(topic, None, key, value, headers).await
    }

    async fn produce_to(
        &self,
        topic: &str,
        partition: u32,
        key: &str,
        value: Option<&[u8]>,
        headers: &[(String, String)],
    ) -> Result<Produced, BusError> {
        self.log
            .append(topic, Some(partition), key, value, headers)
            .await
    }

    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
        start: StartFrom,
    ) -> Result<Box<dyn Consumer>, BusError> {
        if topics.is_empty() {
            return Err(BusError::Topic {
                topic: String::new(),
                reason: format!("group '{group}' subscribed to no topic"),
            });
        }
        let mut resolved = Vec::with_capacity(topics.len());
        for t in topics {
            let topic = self.log.topic(t)?;
            if !resolved.iter().any(|r: &Arc<_>| Arc::ptr_eq(r, &topic)) {
                resolved.push(topic);
            }
        }
        Ok(Box::new(EmbeddedConsumer::join(
            self.log.clone(),
            group,
            resolved,
            start,
        )))
    }

    async fn partitions(&self, topic: &str) -> Result<u32, BusError> {
        Ok(self.log.topic(topic)?.partitions())
    }

    async fn end_offsets(&self, topic: &str) -> Result<Vec<u64>, BusError> {
        Ok(self.log.topic(topic)?.end_offsets())
    }

    async fn start_offsets(&self, topic: &str) -> Result<Vec<u64>, BusError> {
        Ok(self.log.topic(topic)?.start_offsets())
    }

    async fn committed(&self, group: &str, topic: &str) -> Result<Vec<Option<u64>>, BusError> {
        let t = self.log.topic(topic)?;
        (0..t.partitions())
            .map(|p| self.log.committed(group, topic, p))
            .collect()
    }
}
