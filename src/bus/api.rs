//! The `Bus` interface both backends implement.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{Actor, Classify, Retry};

/// A topic to create at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Full topic name (prefix included).
    pub name: String,
    /// Partition count.
    pub partitions: u32,
    /// What the log removes, and when.
    pub cleanup: Cleanup,
}

/// A topic's cleanup policy (Kafka's `cleanup.policy` and its settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleanup {
    /// `cleanup.policy=compact`: keep the newest value per key; a tombstone (a null value)
    /// is kept `tombstone_ms` (`delete.retention.ms`) and then removed with the key. Offsets
    /// never change: removed messages leave gaps that readers skip.
    Compact {
        /// How long a tombstone is kept after it was appended, in milliseconds.
        tombstone_ms: u64,
        /// Share of superseded messages (percent) that triggers a compaction
        /// (`min.cleanable.dirty.ratio`).
        dirty_percent: u8,
    },
    /// `cleanup.policy=delete`: the oldest messages are deleted once older than `max_age_ms`
    /// (`retention.ms`) or beyond `max_bytes` per partition (`retention.bytes`); the
    /// partition's log start offset moves past them. `None`: no such limit.
    Delete {
        /// Maximum age of a message, in milliseconds.
        max_age_ms: Option<u64>,
        /// Maximum bytes per partition.
        max_bytes: Option<u64>,
    },
}

impl Cleanup {
    /// Compaction with Kafka's defaults (tombstones kept a day, compacted at 50% dirty).
    pub const COMPACT: Cleanup = Cleanup::Compact {
        tombstone_ms: 86_400_000,
        dirty_percent: 50,
    };
    /// Nothing is ever deleted.
    pub const KEEP: Cleanup = Cleanup::Delete {
        max_age_ms: None,
        max_bytes: None,
    };
}

impl TopicSpec {
    /// Builds a spec: compacted with Kafka's default settings, or kept for ever.
    pub fn new(name: &str, partitions: u32, compact: bool) -> Self {
        TopicSpec {
            name: name.to_string(),
            partitions,
            cleanup: if compact {
                Cleanup::COMPACT
            } else {
                Cleanup::KEEP
            },
        }
    }

    /// The same topic with another cleanup policy.
    pub fn with_cleanup(mut self, cleanup: Cleanup) -> Self {
        self.cleanup = cleanup;
        self
    }

    /// True for a compacted topic.
    pub fn compact(&self) -> bool {
        matches!(self.cleanup, Cleanup::Compact { .. })
    }
}

/// A message read from a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: u64,
    /// Record key (`<system>/<entity>/<id>`).
    pub key: String,
    /// The value: Avro single-object encoded, or `None` for a tombstone (Kafka's null value:
    /// on a compacted topic, the deletion of the key, which compaction eventually removes; an
    /// empty value would be a value, kept for ever).
    pub value: Option<Vec<u8>>,
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
    /// When the message was appended.
    pub timestamp: DateTime<Utc>,
}

impl Message {
    /// The value's bytes, empty for a tombstone (which no decoder of an event accepts).
    pub fn bytes(&self) -> &[u8] {
        self.value.as_deref().unwrap_or_default()
    }
}

/// Where a produced message landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Produced {
    /// Partition.
    pub partition: u32,
    /// Offset, when the broker reported it. A Kafka broker acknowledges a message that the
    /// idempotent producer re-sent after a connection loss (de-duplicated by its sequence
    /// number) without an offset; the Kafka bus then sends it once more on a new producer,
    /// because a broker that lost it across a restart answers the same (Tansu does), and
    /// reports the second acknowledgement.
    pub offset: Option<u64>,
}

/// Where a consumer starts on partitions that have no committed offset for its group
/// (and, for `Offset`/`Timestamp`, on every partition regardless of commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
    /// Committed offset, else the beginning.
    Committed,
    /// The beginning (the log start) of every partition, ignoring commits.
    Earliest,
    /// This offset on every partition, ignoring commits.
    Offset(u64),
    /// The first message at or after this time on every partition, ignoring commits.
    Timestamp(DateTime<Utc>),
}

/// Errors from either backend.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The log's storage failed (embedded) or the broker is unreachable (Kafka).
    #[error("the log at {location} is unavailable: {reason}")]
    Unavailable {
        /// Data directory or broker list.
        location: String,
        /// The cause.
        reason: String,
    },
    /// A topic is missing or has another shape.
    #[error("topic '{topic}': {reason}")]
    Topic {
        /// The topic.
        topic: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Stored data is corrupt.
    #[error("the log's stored data is corrupt at {location}: {reason}; rebuild the data directory")]
    Corrupt {
        /// Where.
        location: String,
        /// What.
        reason: String,
    },
    /// The embedded log's files cannot be read (truncated, overwritten, from another
    /// version): nothing in it can be trusted.
    #[error(
        "the embedded log at {dir} is damaged and cannot be opened ({reason}). It holds the \
         events (changes, commands, outcomes, dead letters) and the state changelogs \
         (couplings, checkpoints, parked changes, create intents): what it held is lost, but \
         the projection beside it keeps the couplings and checkpoints as last applied. To go \
         on: restore {dir} from a backup; or move it aside (mv {dir} {dir}.damaged) and start \
         again with an empty log, then run `couplet full-sync` for the mappings whose changes \
         were in flight (captured but not yet written), and do not run `couplet replay \
         --rebuild` until the log holds the state again, as it would rebuild the projection \
         from the empty changelogs"
    )]
    Damaged {
        /// The log's directory.
        dir: String,
        /// What sled reported.
        reason: String,
    },
}

impl Classify for BusError {
    fn actor(&self) -> Actor {
        match self {
            BusError::Unavailable { .. } => Actor::External,
            BusError::Topic { .. } => Actor::User,
            BusError::Corrupt { .. } => Actor::Internal,
            BusError::Damaged { .. } => Actor::User,
        }
    }
    fn retry(&self) -> Retry {
        match self {
            BusError::Unavailable { .. } => Retry::Backoff,
            _ => Retry::Never,
        }
    }
    fn class(&self) -> &'static str {
        match self {
            BusError::Unavailable { .. } => "bus_unavailable",
            BusError::Topic { .. } => "bus_topic",
            BusError::Corrupt { .. } => "bus_corrupt",
            BusError::Damaged { .. } => "bus_damaged",
        }
    }
}

/// A durable, partitioned, keyed log with consumer groups.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// `embedded` or `kafka`.
    fn backend(&self) -> &'static str;

    /// Creates the topics that do not exist yet; existing ones are left as they are.
    async fn ensure_topics(&self, topics: &[TopicSpec]) -> Result<(), BusError>;

    /// Appends a message; the partition is chosen by a stable hash of the key, so one key's
    /// messages stay in order. Returns once the message is durable. A `None` value is a
    /// tombstone (a null value): the deletion of `key` on a compacted topic.
    async fn produce(
        &self,
        topic: &str,
        key: &str,
        value: Option<&[u8]>,
        headers: &[(String, String)],
    ) -> Result<Produced, BusError>;

    /// Appends a message to one chosen partition (the state log's barrier markers, one per
    /// partition). `partition` must be below the topic's partition count.
    async fn produce_to(
        &self,
        topic: &str,
        partition: u32,
        key: &str,
        value: Option<&[u8]>,
        headers: &[(String, String)],
    ) -> Result<Produced, BusError>;

    /// Joins consumer group `group` on `topics`. Partitions are shared between the members of
    /// a group; each partition is read by one member at a time.
    async fn subscribe(
        &self,
        group: &str,
        topics: &[String],
        start: StartFrom,
    ) -> Result<Box<dyn Consumer>, BusError>;

    /// The number of partitions of a topic.
    async fn partitions(&self, topic: &str) -> Result<u32, BusError>;

    /// The next offset to be written on each partition (the high watermark).
    async fn end_offsets(&self, topic: &str) -> Result<Vec<u64>, BusError>;

    /// The log start offset of each partition: the first offset not deleted by retention
    /// (Kafka's low watermark). A consumer whose position is below it resumes there.
    async fn start_offsets(&self, topic: &str) -> Result<Vec<u64>, BusError>;

    /// The group's committed offset (next to read) on each partition, if any.
    async fn committed(&self, group: &str, topic: &str) -> Result<Vec<Option<u64>>, BusError>;
}

/// A member of a consumer group.
#[async_trait]
pub trait Consumer: Send {
    /// Up to `max` messages from the assigned partitions, in offset order per partition;
    /// waits up to `timeout` for the first one. An empty vector means nothing arrived.
    async fn poll(&mut self, max: usize, timeout: Duration) -> Result<Vec<Message>, BusError>;

    /// Commits `next_offset` (the offset after the last processed message) for the group.
    async fn commit(
        &mut self,
        topic: &str,
        partition: u32,
        next_offset: u64,
    ) -> Result<(), BusError>;

    /// The partitions currently assigned to this member.
    fn assignment(&self) -> Vec<(String, u32)>;
}
