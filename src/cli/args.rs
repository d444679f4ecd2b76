//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Couplet keeps Dynamics 365 Sales (Dataverse) and Business Central in step.
#[derive(Debug, Parser)]
#[command(name = "couplet", version, about)]
pub struct Cli {
    /// Log format: `text` or `json` (for log shippers).
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the projection lives, for the inspection commands.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// A config file (its `data_dir` is used).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The data directory (overrides the config's).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the sandbox systems and the embedded log in this process, synchronise, make
    /// live edits on both sides, verify both sides are equal, and print a summary.
    Demo {
        /// Companies to seed (each with one or two contacts).
        #[arg(long, default_value_t = 200)]
        records: usize,
        /// Seed of the sandbox data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Keep the data here instead of a temporary directory.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Live edits to make on each side after the initial synchronisation.
        #[arg(long, default_value_t = 20)]
        edits: usize,
        /// Turn the sandboxes' service-protection limits on (429 with Retry-After).
        #[arg(long)]
        throttle: bool,
        /// Seconds to wait for the synchronisation to settle before giving up.
        #[arg(long, default_value_t = 600)]
        timeout_secs: u64,
        /// Keep running after the summary (Ctrl-C to stop).
        #[arg(long)]
        keep_running: bool,
        /// Serve `/metrics`, `/healthz` and `/readyz` on this address (e.g. `127.0.0.1:9464`).
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<std::net::SocketAddr>,
        /// The log: `embedded` (in the data directory) or `kafka` (needs --brokers).
        #[arg(long, default_value = "embedded")]
        bus: String,
        /// Kafka bootstrap servers, e.g. `127.0.0.1:9092` (with --bus kafka).
        #[arg(long)]
        brokers: Option<String>,
    },
    /// Run the engine against the configured systems until Ctrl-C.
    Run {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Start the sandbox systems (Entra ID, Dataverse, Business Central) until Ctrl-C, and
    /// print a config file that points at them.
    Sandbox {
        /// Companies to seed.
        #[arg(long, default_value_t = 200)]
        records: usize,
        /// Seed of the sandbox data.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First port: Entra ID on it, Dataverse on +1, Business Central on +2.
        #[arg(long, default_value_t = 7100)]
        port: u16,
        /// Turn service-protection limits on.
        #[arg(long)]
        throttle: bool,
    },
    /// Synchronise every record of every mapping, in dependency order, then print a review
    /// table; a killed run resumes where it stopped (stop `couplet run` first).
    FullSync(FullSyncArgs),
    /// Couplings, parked records, errors and checkpoints at a glance.
    Status(DataDir),
    /// Couplings.
    Couplings {
        /// What to do.
        #[command(subcommand)]
        action: CouplingsAction,
    },
    /// The audit trail of one record: every change, command and outcome.
    Audit {
        /// `<system>/<entity>/<id>`, e.g. `dataverse/accounts/6d81597f-…`.
        record: String,
        /// Where.
        #[command(flatten)]
        dir: DataDir,
    },
    /// Records that failed, with the reason.
    Errors {
        /// What to do.
        #[command(subcommand)]
        action: ErrorsAction,
    },
    /// Records waiting for a dependency to be coupled.
    Parked(DataDir),
    /// Re-drive events from a topic through transform and apply (idempotent: a replay never
    /// duplicates a record), or rebuild the projection from the log.
    Replay {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
        /// Drop the projection and rebuild it from the log (stop `couplet run` first).
        #[arg(long)]
        rebuild: bool,
        /// The topic to re-drive: `changes` or `commands` (without the prefix).
        #[arg(long, default_value = "changes")]
        topic: String,
        /// Start at this offset on every partition.
        #[arg(long, conflicts_with = "from_time")]
        from_offset: Option<u64>,
        /// Start at this time (RFC 3339, e.g. 2026-11-22T05:00:00Z).
        #[arg(long)]
        from_time: Option<String>,
        /// Only this mapping.
        #[arg(long)]
        mapping: Option<String>,
        /// Only this record (`<system>/<entity>/<id>`).
        #[arg(long)]
        record: Option<String>,
    },
}

/// `couplet full-sync …`.
#[derive(Debug, clap::Args)]
pub struct FullSyncArgs {
    /// The config file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Only this mapping (the mappings it depends on are assumed synchronised).
    #[arg(long)]
    pub mapping: Option<String>,
    /// Start a new session even if the previous one did not finish (default: resume it).
    #[arg(long)]
    pub restart: bool,
    /// Seconds one job may wait for its records' outcomes.
    #[arg(long, default_value_t = 3600)]
    pub job_timeout_secs: u64,
}

/// `couplet couplings …`.
#[derive(Debug, Subcommand)]
pub enum CouplingsAction {
    /// List couplings with their last synchronisation.
    List {
        /// Only this mapping.
        #[arg(long)]
        mapping: Option<String>,
        /// Where.
        #[command(flatten)]
        dir: DataDir,
    },
}

/// `couplet errors …`.
#[derive(Debug, Subcommand)]
pub enum ErrorsAction {
    /// List failed records.
    List(DataDir),
    /// Re-drive failed records (all, or one) after the cause is fixed: the current version of
    /// each source record is read again and synchronised by the next `couplet run`.
    Retry {
        /// The config file (to reach the source systems).
        #[arg(long, short)]
        config: PathBuf,
        /// Only this record (`<system>/<entity>/<id>`).
        #[arg(long)]
        record: Option<String>,
    },
}
