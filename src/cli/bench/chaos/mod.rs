//! `couplet bench chaos`: a full synchronisation of the sandbox's seeded world plus live edits
//! on both sides, while a seeded random schedule injects faults into Dataverse and Business
//! Central (429 storms, 5xx bursts, timeouts, connection resets, slow answers, truncated and
//! malformed bodies) and SIGKILLs the `couplet run` child process at random moments (some right
//! after a write); then, faults off, both sides must settle equal, every record coupled once,
//! no twin, nothing in error or parked. On Kafka (`--kafka`) the run starts a Tansu broker of
//! its own on SQLite storage and SIGKILLs and restarts it too. The chaos test (`tests/cli/chaos_short.rs`) runs a
//! short schedule through the same driver.

mod broker;
mod check;
mod edits;
mod options;
mod process;
mod report;
mod run;
mod schedule;
pub mod world;

pub use broker::{TANSU_INSTALL, default_tansu};
pub use edits::EditCounts;
pub use options::{BrokerRestart, ChaosOptions, ChaosReport, KafkaChaos, Kill};
pub use process::Instance;
pub use report::render;
pub use run::run;
