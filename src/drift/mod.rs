//! Drift reconciliation (`couplet reconcile`): reads both records of every coupled pair
//! through the connectors and reports where they drifted apart without an event saying so
//! (changes made while Couplet was down past the log's retention, writes made around it, a
//! restored backup): pairs whose mapped values differ, couplings whose record is gone on one
//! side, and uncoupled records that carry a coupled record's natural key. `--fix` puts the
//! differing pairs on the changes topic as forced changes, so the normal pipeline writes them.
//!
//! Not to be confused with [`crate::pipeline::reconcile`], which brings back parked claims
//! when an engine starts: this module is about the *records* in the two systems, hence its
//! name.
//!
//! Read in this order: [`config`] (`[reconcile]`), [`read`] (a page of pairs, read through the
//! connectors), [`check`] (what differs), [`state`] (the resumable run, kept on the log),
//! [`run`] (the pages of a mapping), [`fix`] (forced changes), [`report`] (text and JSON),
//! [`schedule`] (runs inside `couplet run`), [`metrics`] (`couplet_reconcile_*`).

pub mod check;
pub mod config;
pub mod error;
pub mod fix;
pub mod metrics;
pub mod read;
pub mod report;
pub mod run;
pub mod schedule;
pub mod state;

pub use config::{FixSide, ReconcileConfig};
pub use error::DriftError;
pub use report::{Drift, DriftCounts, MappingReport};
pub use run::{ReconcileOptions, reconcile_mapping};
