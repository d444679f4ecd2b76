//! Opening Couplet's state for the commands that change it (`couple`, `uncouple`,
//! `sync-now`). The projection and, on the embedded backend, the log live in the data
//! directory, and sled lets one process open them at a time:
//! - nothing else holds the data directory: the command opens it and, where work must be
//!   done, runs the stages itself ([`Opened::local`]);
//! - a running instance holds it and the log is Kafka: the command reads the couplings
//!   changelog into a scratch projection, appends its changes to the log, and the running
//!   instance applies them (it follows the changelogs and consumes the changes topic);
//! - a running instance holds it on the embedded log: the command stops with a message naming
//!   the data directory and what to do.

use std::sync::Arc;

use anyhow::Context as _;
use tempfile::TempDir;

use super::build;
use crate::bus::{Bus, StartFrom, Topics};
use crate::config::Config;
use crate::pipeline::EngineParts;
use crate::pipeline::follow::apply_state_message;
use crate::pipeline::replay::read_topic;
use crate::store::Store;

/// The state a command works on.
pub struct Opened {
    /// Everything the stages need; the store is the data directory's, or a scratch copy of
    /// the couplings when another instance holds the data directory.
    pub parts: EngineParts,
    /// True when the command holds the data directory (and must run the stages itself).
    pub local: bool,
    /// The scratch projection, removed on drop.
    _scratch: Option<TempDir>,
}

/// True when an error says sled's lock on a data directory is held.
pub fn is_lock_error(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}");
    text.contains("could not acquire lock") || text.contains("WouldBlock")
}

/// The message for a held lock.
pub fn held(cfg: &Config, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the data directory {dir} is in use by another Couplet process (a running `couplet run`, or another command): sled lets one process open it at a time. Stop that instance (Ctrl-C or SIGTERM) and run `{what}` again; on Kafka ([bus] backend = \"kafka\") these commands hand their work to the running instance instead",
        dir = cfg.data_dir.display(),
    )
}

/// Opens the state: the data directory, or, when a running instance holds it on Kafka, a
/// scratch projection built from the couplings changelog.
pub async fn open(cfg: &Config, what: &str) -> anyhow::Result<Opened> {
    match build::connect_parts(cfg).await {
        Ok(p) => {
            crate::pipeline::recover::projection(&p.bus, &p.topics, &p.store, &p.catalogue).await?;
            Ok(Opened {
                parts: p,
                local: true,
                _scratch: None,
            })
        }
        Err(e) if is_lock_error(&e) && cfg.bus.backend == "kafka" => {
            let bus = build::connect_bus(cfg)
                .await
                .context("connecting to Kafka")?;
            eprintln!(
                "The data directory {} is held by a running instance: handing the work to it through the log.",
                cfg.data_dir.display()
            );
            remote(cfg, bus).await
        }
        Err(e) if is_lock_error(&e) => Err(held(cfg, what)),
        Err(e) => Err(e),
    }
}

/// State for a command while another instance holds the data directory: a scratch
/// projection holding the couplings of the changelog, and this command's own instance id (so
/// the running instance applies what the command appends).
pub async fn remote(cfg: &Config, bus: Arc<dyn Bus>) -> anyhow::Result<Opened> {
    let scratch = tempfile::Builder::new()
        .prefix("couplet-cli-")
        .tempdir()
        .context("creating a scratch projection")?;
    let store = Store::open(&scratch.path().join("projection"))?;
    let topics = Topics::new(&cfg.bus.topic_prefix).with_retention(cfg.bus.retention.clone());
    let targets = build::targets(cfg)?;
    let catalogue = Arc::new(build::catalogue(cfg)?.for_pair(targets.pair()));
    let parts = EngineParts {
        catalogue,
        targets,
        store,
        bus,
        topics,
        partitions: cfg.bus.partitions,
        poll_interval: std::time::Duration::from_millis(cfg.capture.poll_interval_ms),
        overlap: std::time::Duration::from_millis(cfg.capture.bc_overlap_ms),
        apply_concurrency: cfg.sync.apply_concurrency,
        lcy: cfg.sync.lcy_code.clone(),
        orders: cfg.orders.clone(),
        shutdown_grace: cfg.sync.shutdown_grace(),
    };
    parts
        .bus
        .ensure_topics(&crate::pipeline::captures::topic_specs(&parts))
        .await?;
    read_topic(
        &parts.bus,
        &parts.topics.couplings,
        StartFrom::Earliest,
        |m| apply_state_message(&parts.store, &parts.topics, m),
    )
    .await?;
    Ok(Opened {
        parts,
        local: false,
        _scratch: Some(scratch),
    })
}
