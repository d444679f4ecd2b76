//! What a chaos run is asked to do, and what it found.

use std::path::PathBuf;
use std::time::Duration;

use super::edits::EditCounts;
use crate::sandbox::FaultKind;

/// The options of one chaos run.
#[derive(Debug, Clone)]
pub struct ChaosOptions {
    /// Seed of the sandbox's world and of the fault schedule.
    pub seed: u64,
    /// Faults to serve (at least), across kinds and systems.
    pub faults: u64,
    /// SIGKILLs (each followed by a restart) of the `couplet run` process.
    pub kills: u32,
    /// Companies seeded.
    pub records: usize,
    /// Rounds of live edits (each: a company and a person created on each side, updates); more
    /// are made when the faults left wait for traffic.
    pub edit_rounds: usize,
    /// Updates per round of edits.
    pub updates_per_round: usize,
    /// The `couplet` binary to run as the child process.
    pub exe: PathBuf,
    /// The data directory (a temporary one when none); it holds the instance's log.
    pub data_dir: Option<PathBuf>,
    /// The client's whole-request timeout in the child (an injected timeout holds the answer
    /// longer, a slow answer less).
    pub client_timeout: Duration,
    /// The longest the fault phase may last; fewer faults than asked then is a failure.
    pub max_chaos: Duration,
    /// The longest both sides may take to settle after the faults stop.
    pub settle: Duration,
    /// Run on Kafka (a Tansu broker of the run's own, restarted during the faults) instead of
    /// the embedded log.
    pub kafka: Option<KafkaChaos>,
}

/// A chaos run on Kafka.
#[derive(Debug, Clone)]
pub struct KafkaChaos {
    /// Tansu built with SQLite storage (its data survives the restarts).
    pub tansu: PathBuf,
    /// SIGKILLs and restarts of the broker during the fault phase.
    pub restarts: u32,
}

impl ChaosOptions {
    /// The defaults for `exe`: seed 1, 1000 faults, 4 kills, 200 companies.
    pub fn new(exe: PathBuf) -> ChaosOptions {
        ChaosOptions {
            seed: 1,
            faults: 1000,
            kills: 4,
            records: 200,
            edit_rounds: 12,
            updates_per_round: 6,
            exe,
            data_dir: None,
            client_timeout: Duration::from_secs(2),
            max_chaos: Duration::from_secs(1200),
            settle: Duration::from_secs(240),
            kafka: None,
        }
    }
}

/// One SIGKILL of the run.
#[derive(Debug, Clone)]
pub struct Kill {
    /// Faults served when it came.
    pub after_faults: u64,
    /// Whether it came right after a write (`Some(ms)`: that many milliseconds after the
    /// sandbox counted one).
    pub after_write_ms: Option<u128>,
    /// How long the instance stayed down.
    pub down_ms: u128,
}

/// One SIGKILL and restart of the broker.
#[derive(Debug, Clone)]
pub struct BrokerRestart {
    /// Faults served when it came.
    pub after_faults: u64,
    /// How long the broker stayed down (from the SIGKILL to accepting connections again).
    pub down_ms: u128,
}

/// What a chaos run did and found.
#[derive(Debug, Clone)]
pub struct ChaosReport {
    /// The seed.
    pub seed: u64,
    /// Faults served, by system and kind.
    pub served: Vec<(String, FaultKind, u64)>,
    /// The kills.
    pub kills: Vec<Kill>,
    /// The broker restarts (a run on Kafka).
    pub broker_restarts: Vec<BrokerRestart>,
    /// The bus the run used: `embedded` or `kafka`.
    pub bus: &'static str,
    /// The edits made.
    pub edits: EditCounts,
    /// `[accounts, customers, contacts (CRM), contacts (ERP)]` expected at the end.
    pub expected: [usize; 4],
    /// The same, found.
    pub found: [usize; 4],
    /// Couplings per mapping at the end.
    pub coupled: Vec<(String, usize)>,
    /// How long the fault phase lasted.
    pub chaos: Duration,
    /// How long both sides took to settle after it.
    pub settled: Duration,
    /// The whole run.
    pub total: Duration,
    /// Every discrepancy found, with its details; empty on a pass.
    pub problems: Vec<String>,
    /// Where the instance's data and log are.
    pub data_dir: PathBuf,
}

impl ChaosReport {
    /// No discrepancy.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// Faults served in all.
    pub fn total_faults(&self) -> u64 {
        self.served.iter().map(|(_, _, n)| n).sum()
    }

    /// Faults served of one kind, over every system.
    pub fn of_kind(&self, kind: FaultKind) -> u64 {
        self.served
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(_, _, n)| n)
            .sum()
    }
}
