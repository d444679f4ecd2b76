//! Topic names, from a configurable prefix.

use super::api::TopicSpec;

/// The topics Couplet uses, with the configured prefix applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
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
            changes: t("changes"),
            commands: t("commands"),
            outcomes: t("outcomes"),
            dlq: t("dlq"),
            couplings: t("couplings"),
        }
    }

    /// Every topic with its partition count and cleanup policy.
    pub fn specs(&self, partitions: u32) -> Vec<TopicSpec> {
        vec![
            TopicSpec::new(&self.changes, partitions, false),
            TopicSpec::new(&self.commands, partitions, false),
            TopicSpec::new(&self.outcomes, partitions, false),
            TopicSpec::new(&self.dlq, 1, false),
            TopicSpec::new(&self.couplings, partitions, true),
        ]
    }
}
