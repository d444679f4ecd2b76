//! `couplet reconcile [--mapping NAME] [--sample N] [--fix crm|erp|newer]`: reads both sides of
//! the coupled pairs and reports drift (see [`crate::drift`]). Without a running instance, a
//! fix runs the transform, apply and audit stages itself (as `couplet sync-now` does); with one
//! on Kafka, that instance writes the forced changes and the command waits for the outcomes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::local;
use crate::config::Config;
use crate::drift::report::render;
use crate::drift::run::{ReconcileOptions, reconcile_all};
use crate::drift::{Drift, FixSide};
use crate::pipeline::sync_now::LocalStages;

/// `couplet reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    /// The config file.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Only this mapping (repeat for several; default: every configured mapping).
    #[arg(long)]
    pub mapping: Vec<String>,
    /// Check a random sample of N couplings per mapping instead of all of them.
    #[arg(long)]
    pub sample: Option<usize>,
    /// Fix the pairs whose values differ, this side winning (`newer`: per pair, the record
    /// modified last), through the pipeline as forced changes.
    #[arg(long, value_parser = ["crm", "erp", "newer"])]
    pub fix: Option<String>,
    /// Couplings per page (default: `[reconcile] page_size`).
    #[arg(long)]
    pub page_size: Option<usize>,
    /// Stop after N pages per mapping; the next run resumes after them.
    #[arg(long)]
    pub max_pages: Option<usize>,
    /// Start afresh even when the previous run did not finish (default: resume it).
    #[arg(long)]
    pub restart: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `couplet reconcile`; true when nothing drifted (or everything found was fixed).
pub async fn run(a: &ReconcileArgs) -> anyhow::Result<bool> {
    let cfg = Config::load(&a.config)?;
    let fix: Option<FixSide> = a
        .fix
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: String| anyhow::anyhow!(e))?;
    if a.sample == Some(0) || a.page_size == Some(0) {
        anyhow::bail!("--sample and --page-size take at least 1");
    }
    let opened = local::open(&cfg, "couplet reconcile").await?;
    let p = &opened.parts;
    if !opened.local {
        // The scratch projection holds the couplings; an interrupted run's state is a
        // checkpoint, read from its changelog too so the run resumes.
        crate::pipeline::replay::read_topic(
            &p.bus,
            &p.topics.checkpoints,
            crate::bus::StartFrom::Earliest,
            |m| crate::pipeline::follow::apply_state_message(&p.store, &p.topics, m),
        )
        .await?;
    }
    let mut opts = ReconcileOptions::from_config(&cfg.reconcile, "cli");
    opts.sample = a.sample;
    opts.fix = fix;
    opts.page_size = a.page_size.unwrap_or(opts.page_size);
    opts.max_pages = a.max_pages;
    opts.restart = a.restart;
    opts.progress = Arc::new(|line| eprintln!("{line}"));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    opts.stop = Some(stop_rx);
    let interrupt = tokio::spawn(async move {
        // Ctrl-C (this module stays out of `cli/mod.rs`'s import graph, which names it).
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("Stopping after the current page; `couplet reconcile` resumes from there.");
        let _ = stop_tx.send(true);
    });
    let stages = match fix.is_some() && opened.local {
        true => Some(LocalStages::start(p).await?),
        false => None,
    };
    let reports = reconcile_all(p, &a.mapping, &opts).await;
    interrupt.abort();
    if let Some(stages) = stages {
        stages.stop(Duration::from_secs(10)).await?;
    }
    let reports = reports?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        let pair = p.targets.pair();
        print!("{}", render(&reports, pair.crm.as_str(), pair.erp.as_str()));
    }
    let clean = reports.iter().all(|r| {
        r.complete
            && r.drift.iter().all(|d| match d {
                Drift::Differs { crm_id, erp_id, .. } => r
                    .fixes
                    .iter()
                    .any(|f| f.settled && &f.crm_id == crm_id && &f.erp_id == erp_id),
                _ => false,
            })
            && r.counts.total() as usize == r.drift.len()
    });
    Ok(clean)
}
