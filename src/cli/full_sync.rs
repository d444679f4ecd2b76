//! `couplet full-sync`: runs [`crate::fullsync::full_sync`] and prints the review table.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use super::args::FullSyncArgs;
use super::build;
use crate::fullsync::{FullSyncOptions, JobStatus, full_sync, render_review};

/// Runs a full synchronisation; true when every job finished and no record failed.
pub async fn run(a: &FullSyncArgs) -> anyhow::Result<bool> {
    let cfg = crate::config::Config::load(&a.config)?;
    let parts = build::connect_parts(&cfg).await?;
    crate::metrics::metrics().prime(&parts.catalogue, &parts.topics);
    let opts = FullSyncOptions {
        only: a.mapping.clone(),
        restart: a.restart,
        job_timeout: Duration::from_secs(a.job_timeout_secs),
        progress: std::io::stderr().is_terminal(),
        log: Arc::new(|line| println!("{line}")),
    };
    let jobs = full_sync(parts, opts).await?;
    println!();
    print!("{}", render_review(&jobs));
    let failed: u64 = jobs.iter().map(|j| j.counts.failed).sum();
    let parked: u64 = jobs.iter().map(|j| j.counts.parked).sum();
    if failed > 0 {
        println!("{failed} record(s) failed: `couplet errors list` shows why.");
    }
    if parked > 0 {
        println!("{parked} record(s) parked: `couplet parked` shows what they wait for.");
    }
    Ok(failed == 0 && jobs.iter().all(|j| j.status == JobStatus::Finished))
}
