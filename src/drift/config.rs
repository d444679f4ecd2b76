//! `[reconcile]`: how reconciliation reads, and when `couplet run` reconciles on its own.

use serde::{Deserialize, Serialize};

use crate::mapping::schedule::Schedule;

/// Which side's values win when drifted pairs are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixSide {
    /// The CRM's record is put on the changes topic and written to the ERP.
    Crm,
    /// The ERP's record is put on the changes topic and written to the CRM.
    Erp,
    /// Per pair, the record modified last wins.
    Newer,
}

impl FixSide {
    /// `crm`, `erp` or `newer`.
    pub fn as_str(self) -> &'static str {
        match self {
            FixSide::Crm => "crm",
            FixSide::Erp => "erp",
            FixSide::Newer => "newer",
        }
    }
}

impl std::str::FromStr for FixSide {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "crm" => Ok(FixSide::Crm),
            "erp" => Ok(FixSide::Erp),
            "newer" => Ok(FixSide::Newer),
            _ => Err(format!(
                "'{s}' is not a side to fix from: use crm, erp or newer"
            )),
        }
    }
}

/// `[reconcile]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileConfig {
    /// When `couplet run` reconciles on its own (`{ daily = ["02:00"] }`, as mapping
    /// schedules); absent: only `couplet reconcile` does.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// The mappings a scheduled run checks (empty: every configured mapping).
    #[serde(default)]
    pub mappings: Vec<String>,
    /// A scheduled run fixes what it finds, this side winning (absent: it only reports).
    #[serde(default)]
    pub fix: Option<FixSide>,
    /// A scheduled run checks a random sample of this many couplings per mapping (absent:
    /// all of them).
    #[serde(default)]
    pub sample: Option<usize>,
    /// Couplings read per page; the run's checkpoint is saved after each page.
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    /// Reads in flight per system.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Seconds a fix waits for the forced changes' outcomes.
    #[serde(default = "default_fix_timeout")]
    pub fix_timeout_secs: u64,
}

fn default_page_size() -> usize {
    100
}
fn default_concurrency() -> usize {
    4
}
fn default_fix_timeout() -> u64 {
    300
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        ReconcileConfig {
            schedule: None,
            mappings: Vec::new(),
            fix: None,
            sample: None,
            page_size: default_page_size(),
            concurrency: default_concurrency(),
            fix_timeout_secs: default_fix_timeout(),
        }
    }
}

impl ReconcileConfig {
    /// The setting that cannot work and why, if any.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if let Some(s) = &self.schedule
            && let Err(e) = s.validate()
        {
            return Some(("reconcile.schedule", e));
        }
        if self.page_size == 0 || self.page_size > 5000 {
            return Some(("reconcile.page_size", "use 1 to 5000".into()));
        }
        if self.concurrency == 0 || self.concurrency > 32 {
            return Some(("reconcile.concurrency", "use 1 to 32".into()));
        }
        if self.sample == Some(0) {
            return Some((
                "reconcile.sample",
                "use at least 1, or leave it out to check every coupling".into(),
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let c: ReconcileConfig = toml::from_str("").unwrap();
        assert_eq!(c, ReconcileConfig::default());
        assert!(c.problem().is_none());
        let c: ReconcileConfig =
            toml::from_str("schedule = { daily = [\"02:00\"] }\nfix = \"newer\"\nsample = 50")
                .unwrap();
        assert_eq!(c.fix, Some(FixSide::Newer));
        assert!(c.problem().is_none());
        let c: ReconcileConfig = toml::from_str("schedule = { every = \"soon\" }").unwrap();
        assert_eq!(c.problem().unwrap().0, "reconcile.schedule");
        let c: ReconcileConfig = toml::from_str("page_size = 0").unwrap();
        assert_eq!(c.problem().unwrap().0, "reconcile.page_size");
        assert!(toml::from_str::<ReconcileConfig>("fixx = \"crm\"").is_err());
        assert!("sideways".parse::<FixSide>().is_err());
        assert_eq!("erp".parse::<FixSide>().unwrap(), FixSide::Erp);
    }
}
