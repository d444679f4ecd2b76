//! Topic names, from a configurable prefix.

use super::api::TopicSpec;

/// The topics Couplet uses, with the configured prefix applied.
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
        }
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
        vec![
            TopicSpec::new(&self.changes, partitions, false),
            TopicSpec::new(&self.commands, partitions, false),
            TopicSpec::new(&self.outcomes, partitions, false),
            TopicSpec::new(&self.dlq, 1, false),
            TopicSpec::new(&self.couplings, partitions, true),
            TopicSpec::new(&self.checkpoints, 1, true),
            TopicSpec::new(&self.parked, partitions, true),
            TopicSpec::new(&self.intents, partitions, true),
            TopicSpec::new(&self.leases, captures.max(1), false),
        ]
    }
}
