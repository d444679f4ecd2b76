//! `couplet bench chaos`: a full synchronisation of the sandbox's seeded world plus live edits
//! on both sides, while a seeded random schedule injects faults into Dataverse and Business
//! Central (429 storms, 5xx bursts, timeouts, connection resets, slow answers, truncated and
//! malformed bodies) and SIGKILLs the `couplet run` child process at random moments (some right
//! after a write); then, faults off, both sides must settle equal, every record coupled once,
//! no twin, nothing in error or parked. The chaos test (`tests/cli/chaos_short.rs`) runs a
//! short schedule through the same driver.

mod check;
mod edits;
mod options;
mod process;
mod report;
mod run;
mod schedule;
pub mod world;

pub use edits::EditCounts;
pub use options::{ChaosOptions, ChaosReport, Kill};
pub use process::Instance;
pub use report::render;
pub use run::run;
