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
        /// Skip the lead-to-cash story (quote, opportunity, order, shipment, invoice,
        /// payment) that follows the synchronisation demo.
        #[arg(long)]
        no_story: bool,
        /// The ERP kept in step with Sales: `bc` (Business Central) or `fo` (Finance &
        /// Operations).
        #[arg(long, default_value = "bc")]
        erp: crate::event::System,
    },
    /// Long runs that measure Couplet against the sandbox.
    Bench {
        /// Which.
        #[command(subcommand)]
        action: BenchAction,
    },
    /// Run the engine against the configured systems until Ctrl-C.
    Run {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Test the connection to both systems of the configured pair (authenticate and read
    /// something small); exits 1 when one does not answer, naming what to fix.
    Check {
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
    /// The integration table mappings: list them, show one, or validate them against the
    /// systems' metadata.
    Mappings {
        /// What to do.
        #[command(subcommand)]
        action: MappingsAction,
    },
    /// Couple two existing records by hand, or couple in bulk by match criteria.
    Couple(CoupleArgs),
    /// Remove couplings; the records stay on both sides, uncoupled.
    Uncouple(UncoupleArgs),
    /// Overwrite one side of a record from the other now (Business Central's "Synchronize
    /// Now"): staleness, echo and unchanged checks are skipped.
    SyncNow(SyncNowArgs),
    /// Compare both sides of the coupled pairs and report drift (values that differ, records
    /// gone, uncoupled twins); `--fix` writes the differing pairs through the pipeline.
    Reconcile(super::reconcile::ReconcileArgs),
    /// Sales orders: create a submitted Dataverse order in Business Central now.
    Orders {
        /// What to do.
        #[command(subcommand)]
        action: OrdersAction,
    },
    /// The systems' credential sets, stored encrypted: set, list, test, rotate the key.
    Credentials {
        /// What to do.
        #[command(subcommand)]
        action: super::credentials_args::CredentialsAction,
    },
}

/// `couplet orders …`.
#[derive(Debug, Subcommand)]
pub enum OrdersAction {
    /// Create one submitted Dataverse order in Business Central (for `[orders] auto_create =
    /// false`); an order created already is not created again.
    CreateInErp(CreateInErpArgs),
}

/// `couplet orders create-in-erp`.
#[derive(Debug, clap::Args)]
pub struct CreateInErpArgs {
    /// The Dataverse order: its salesorderid or its order number.
    pub order: String,
    /// The config file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Seconds to wait for the outcome.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
}

/// Where the mappings come from.
#[derive(Debug, clap::Args)]
pub struct MappingSource {
    /// A config file: its `[sync] mapping_file`, and for `validate` the systems to ask.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// A mapping file (overrides the config's; default: the shipped defaults).
    #[arg(long)]
    pub file: Option<PathBuf>,
}

/// `couplet mappings …`.
#[derive(Debug, Subcommand)]
pub enum MappingsAction {
    /// The table mappings: entities, direction, dependencies, field count, policies.
    List(MappingSource),
    /// One mapping with its fields.
    Show {
        /// The mapping, e.g. `CUSTOMER`.
        name: String,
        /// Where the mappings come from.
        #[command(flatten)]
        source: MappingSource,
    },
    /// Check the mappings: the file (syntax, cycles, …), then every mapped field against the
    /// systems' metadata (Dataverse EntityDefinitions, Business Central $metadata).
    Validate {
        /// Where the mappings come from (and the systems, with --config).
        #[command(flatten)]
        source: MappingSource,
        /// Only the file checks; do not contact the systems.
        #[arg(long)]
        offline: bool,
    },
    /// Replay the captured changes of the log through a changed mapping file, writing
    /// nothing, and report what it would have written differently.
    DryRun(super::mappings_dry_run::DryRunArgs),
}

/// `couplet couple`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("how").required(true).args(["erp_id", "match_fields"]))]
pub struct CoupleArgs {
    /// The mapping, e.g. `CUSTOMER`.
    pub mapping: String,
    /// The config file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The Business Central record's id (with --crm-id).
    #[arg(long, requires = "crm_id")]
    pub erp_id: Option<String>,
    /// The Dataverse record's id (with --erp-id).
    #[arg(long, requires = "erp_id")]
    pub crm_id: Option<String>,
    /// Match-based coupling: fields that must be equal, by either side's name, e.g.
    /// `displayName,city` (ANDed), or with priorities `displayName:1,phoneNumber:2` (lower
    /// priorities are tried first; fields of one priority are ANDed).
    #[arg(long = "match", value_name = "FIELD[:PRIORITY],...")]
    pub match_fields: Option<String>,
    /// Compare text case-sensitively (default: case-insensitive, as Business Central).
    #[arg(long, requires = "match_fields")]
    pub case_sensitive: bool,
    /// Create the Business Central records that match nothing in Dataverse, and couple them.
    #[arg(long, requires = "match_fields")]
    pub create_missing: bool,
    /// Seconds to wait for the creations (with --create-missing).
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}

/// `couplet uncouple`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["erp_id", "crm_id", "all"]))]
pub struct UncoupleArgs {
    /// The mapping, e.g. `CUSTOMER`.
    pub mapping: String,
    /// The config file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Uncouple this Business Central record.
    #[arg(long)]
    pub erp_id: Option<String>,
    /// Uncouple this Dataverse record.
    #[arg(long)]
    pub crm_id: Option<String>,
    /// Uncouple every record of the mapping.
    #[arg(long)]
    pub all: bool,
}

/// `couplet sync-now`.
#[derive(Debug, clap::Args)]
pub struct SyncNowArgs {
    /// The mapping, e.g. `CUSTOMER`.
    pub mapping: String,
    /// The record: an id on either side, or `<system>/<entity>/<id>`. An id of the target
    /// side stands for the source record coupled to it.
    pub record: String,
    /// `to-crm` (Business Central overwrites Dataverse) or `to-erp`.
    #[arg(long, value_parser = ["to-crm", "to-erp"])]
    pub direction: String,
    /// The config file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Seconds to wait for the outcome.
    #[arg(long, default_value_t = 120)]
    pub timeout_secs: u64,
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

/// `couplet bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchAction {
    /// A full synchronisation of the seeded sandbox plus live edits on both sides, while a
    /// seeded random schedule injects faults (429 storms, 5xx bursts, timeouts, connection
    /// resets, slow answers, truncated and malformed bodies) and SIGKILLs and restarts the
    /// `couplet run` child; then checks both sides. Exits 1 on FAIL.
    Chaos {
        /// Seed of the sandbox data and of the fault schedule.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Faults to serve (at least).
        #[arg(long, default_value_t = 1000)]
        faults: u64,
        /// SIGKILLs and restarts of the child.
        #[arg(long, default_value_t = 4)]
        kills: u32,
        /// Companies to seed.
        #[arg(long, default_value_t = 200)]
        records: usize,
        /// Rounds of live edits (a company and a person created on each side, and updates).
        #[arg(long, default_value_t = 12)]
        rounds: usize,
        /// Keep the child's data and log here instead of a temporary directory (kept anyway
        /// on FAIL).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The longest the fault phase may last, in seconds.
        #[arg(long, default_value_t = 1200)]
        max_chaos_secs: u64,
        /// The longest both sides may take to settle after the faults, in seconds.
        #[arg(long, default_value_t = 300)]
        settle_secs: u64,
        /// Run on Kafka: a Tansu broker of the run's own (SQLite storage, a free loopback
        /// port), SIGKILLed and restarted during the faults, instead of the embedded log.
        #[arg(long)]
        kafka: bool,
        /// Broker SIGKILLs and restarts with --kafka.
        #[arg(long, default_value_t = 2, requires = "kafka")]
        broker_restarts: u32,
        /// Tansu built with SQLite storage, for --kafka [default: $TANSU, else
        /// ~/.cargo/tansu-0.6.0-libsql/bin/tansu, where `.ci/run` installs it].
        #[arg(long, requires = "kafka")]
        tansu: Option<PathBuf>,
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
