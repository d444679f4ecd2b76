//! Topic names, from a configurable prefix.

use super::api::TopicSpec;
use super::retention::RetentionConfig;

/// The topics Couplet uses, with the configured prefix applied, and their cleanup settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// The prefix, also used for consumer-group names.
    pub prefix: String,
    /// Captured changes (`ChangeEvent`).
    pub changes: String,
    /// Writes to perform (`WriteCommand`).
    pub commands: String,
    /// What happened (`Outcome`).
    pub outcomes: String,
    /// Permanently failed writes and undecodable messages.
    pub dlq: String,
    /// The couplings changelog (compacted).
    pub couplings: String,
    /// Capture checkpoints changelog (compacted).
    pub checkpoints: String,
    /// Parked changes changelog (compacted).
    pub parked: String,
    /// Create intents changelog (compacted): a create about to be sent, so a retry after a
    /// crash, or another instance capturing the new record, finds the record it made.
    pub intents: String,
    /// Capture leases: one partition per capture task, shared by the instances' group.
    pub leases: String,
    /// `[bus.retention]`: how long the event topics keep messages, how the changelogs are
    /// compacted.
    pub retention: RetentionConfig,
}

impl Topics {
    /// Topic names under `prefix` (e.g. `couplet` gives `couplet.changes`, ...).
    pub fn new(prefix: &str) -> Self {
        let t = |s: &str| {
            if prefix.is_empty() {
                s.to_string()
            } else {
                format!("{prefix}.{s}")
            }
        };
        Topics {
            prefix: prefix.to_string(),
            changes: t("changes"),
            commands: t("commands"),
            outcomes: t("outcomes"),
            dlq: t("dlq"),
            couplings: t("couplings"),
            checkpoints: t("checkpoints"),
            parked: t("parked"),
            intents: t("intents"),
            leases: t("leases"),
            retention: RetentionConfig::default(),
        }
    }

    /// The same topics with the cleanup settings of `retention`.
    pub fn with_retention(mut self, retention: RetentionConfig) -> Self {
        self.retention = retention;
        self
    }

    /// A consumer-group name under the prefix (`<prefix>.<name>`), so deployments sharing a
    /// cluster never share groups.
    pub fn group(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            format!("couplet-{name}")
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    /// Every topic with its partition count and cleanup policy; `captures` is the number of
    /// capture tasks (one lease partition each).
    pub fn specs(&self, partitions: u32, captures: u32) -> Vec<TopicSpec> {
        let r = &self.retention;
        let events = |name: &str, partitions| {
            TopicSpec::new(name, partitions, false).with_cleanup(r.events())
        };
        let changelog = |name: &str, partitions| {
            TopicSpec::new(name, partitions, true).with_cleanup(r.compacted())
        };
        vec![
            events(&self.changes, partitions),
            events(&self.commands, partitions),
            events(&self.outcomes, partitions),
            TopicSpec::new(&self.dlq, 1, false).with_cleanup(r.dlq()),
            changelog(&self.couplings, partitions),
            changelog(&self.checkpoints, 1),
            changelog(&self.parked, partitions),
            changelog(&self.intents, partitions),
            events(&self.leases, captures.max(1)),
        ]
    }
}
