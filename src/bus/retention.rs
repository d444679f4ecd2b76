//! `[bus.retention]`: how long the log keeps events, how it compacts the state changelogs,
//! and how long the audit index keeps its entries. Defaults live here and only here.
//!
//! The trade-off: a replay (`couplet replay`, `replay --rebuild`) can only go back as far as
//! the events kept. The state changelogs (couplings, checkpoints, parked changes, create
//! intents) are compacted, never deleted by age: a rebuild of that state stays complete.

use serde::Deserialize;

use super::api::Cleanup;

const HOUR_MS: u64 = 3_600_000;

/// `[bus.retention]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Hours the event topics (changes, commands, outcomes, leases) keep a message; 0: no age
    /// limit. Kafka's `retention.ms`.
    #[serde(default = "default_events_hours")]
    pub events_hours: u64,
    /// Hours the dead-letter topic keeps a message (longer: someone has to look at them); 0:
    /// no age limit.
    #[serde(default = "default_dlq_hours")]
    pub dlq_hours: u64,
    /// Bytes each partition of an event topic (and of the dead-letter topic) keeps at most,
    /// oldest messages deleted first; 0: no size limit. Kafka's `retention.bytes`.
    #[serde(default)]
    pub events_max_bytes: u64,
    /// Hours a deletion (a tombstone) stays on a compacted changelog before compaction removes
    /// it: a reader that reads within this time still sees the deletion. Kafka's
    /// `delete.retention.ms`.
    #[serde(default = "default_tombstone_hours")]
    pub tombstone_hours: u64,
    /// Percentage of a compacted partition that must be superseded values before it is
    /// compacted again (1 to 100). Kafka's `min.cleanable.dirty.ratio`.
    #[serde(default = "default_dirty_percent")]
    pub dirty_percent: u8,
    /// Days the audit index keeps an entry; 0: no age limit.
    #[serde(default = "default_audit_days")]
    pub audit_days: u64,
    /// Seconds between the embedded log's cleaning passes (compaction and retention) and the
    /// audit index's pruning passes.
    #[serde(default = "default_check_secs")]
    pub check_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            events_hours: default_events_hours(),
            dlq_hours: default_dlq_hours(),
            events_max_bytes: 0,
            tombstone_hours: default_tombstone_hours(),
            dirty_percent: default_dirty_percent(),
            audit_days: default_audit_days(),
            check_secs: default_check_secs(),
        }
    }
}

fn default_events_hours() -> u64 {
    7 * 24
}
fn default_dlq_hours() -> u64 {
    30 * 24
}
fn default_tombstone_hours() -> u64 {
    24
}
fn default_dirty_percent() -> u8 {
    50
}
fn default_audit_days() -> u64 {
    30
}
fn default_check_secs() -> u64 {
    60
}

/// A limit of 0 means none.
fn limit(n: u64) -> Option<u64> {
    (n > 0).then_some(n)
}

impl RetentionConfig {
    /// Values that parse but cannot work, as `(setting, reason)`.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        if self.dirty_percent == 0 || self.dirty_percent > 100 {
            return Some(("bus.retention.dirty_percent", "use 1 to 100"));
        }
        if self.check_secs == 0 {
            return Some((
                "bus.retention.check_secs",
                "use at least 1 (seconds between cleaning passes)",
            ));
        }
        None
    }

    /// The cleanup of a compacted changelog.
    pub fn compacted(&self) -> Cleanup {
        Cleanup::Compact {
            tombstone_ms: self.tombstone_hours.saturating_mul(HOUR_MS),
            dirty_percent: self.dirty_percent,
        }
    }

    /// The cleanup of an event topic.
    pub fn events(&self) -> Cleanup {
        Cleanup::Delete {
            max_age_ms: limit(self.events_hours).map(|h| h.saturating_mul(HOUR_MS)),
            max_bytes: limit(self.events_max_bytes),
        }
    }

    /// The cleanup of the dead-letter topic.
    pub fn dlq(&self) -> Cleanup {
        Cleanup::Delete {
            max_age_ms: limit(self.dlq_hours).map(|h| h.saturating_mul(HOUR_MS)),
            max_bytes: limit(self.events_max_bytes),
        }
    }

    /// How long the audit index keeps an entry, if it has a limit.
    pub fn audit_max_age(&self) -> Option<chrono::Duration> {
        limit(self.audit_days)
            .map(|d| chrono::Duration::days(d.min(i64::MAX as u64 / 86_400_000) as i64))
    }

    /// The pause between cleaning passes.
    pub fn check_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.check_secs.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_zero_means_no_limit() {
        let r: RetentionConfig = toml::from_str("").unwrap();
        assert_eq!(r, RetentionConfig::default());
        assert_eq!(
            r.events(),
            Cleanup::Delete {
                max_age_ms: Some(7 * 24 * HOUR_MS),
                max_bytes: None
            }
        );
        let r: RetentionConfig =
            toml::from_str("events_hours = 0\nevents_max_bytes = 1000\naudit_days = 0").unwrap();
        assert_eq!(
            r.events(),
            Cleanup::Delete {
                max_age_ms: None,
                max_bytes: Some(1000)
            }
        );
        assert_eq!(r.audit_max_age(), None);
        let err = toml::from_str::<RetentionConfig>("event_hours = 1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("event_hours"), "{err}");
        let bad = RetentionConfig {
            dirty_percent: 0,
            ..RetentionConfig::default()
        };
        assert_eq!(
            bad.problem().map(|p| p.0),
            Some("bus.retention.dirty_percent")
        );
    }
}
