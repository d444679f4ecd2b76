//! Opening the data directory for the commands that change state (`couple`, `uncouple`,
//! `sync-now`): the projection and, on the embedded backend, the log live there, and sled lets
//! one process open them at a time.

use anyhow::Context as _;

use super::build;
use crate::config::Config;
use crate::pipeline::EngineParts;

/// How a command reaches Couplet's state.
pub enum Access {
    /// Nothing else holds the data directory: the command has the store and the log.
    Local(Box<EngineParts>),
    /// A running instance holds the data directory, and the log is Kafka: the command can
    /// put events on the log for that instance and read its outcomes.
    Remote(std::sync::Arc<dyn crate::bus::Bus>),
}

/// True when an error says sled's lock on a data directory is held.
pub fn is_lock_error(e: &anyhow::Error) -> bool {
    let text = format!("{e:#}");
    text.contains("could not acquire lock") || text.contains("WouldBlock")
}

/// The message for a held lock.
pub fn held(cfg: &Config, what: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "the data directory {dir} is in use by another Couplet process (a running `couplet run`, or another command): sled lets one process open it at a time. Stop that instance (Ctrl-C or SIGTERM) and run `{what}` again{kafka}",
        dir = cfg.data_dir.display(),
        kafka = if cfg.bus.backend == "kafka" {
            ""
        } else {
            "; or run on Kafka ([bus] backend = \"kafka\"), where `couplet sync-now` hands the work to the running instance"
        }
    )
}

/// Opens the data directory. With `remote_ok`, a held lock on the Kafka backend gives
/// [`Access::Remote`] instead of an error.
pub async fn open(cfg: &Config, what: &str, remote_ok: bool) -> anyhow::Result<Access> {
    match build::connect_parts(cfg).await {
        Ok(p) => Ok(Access::Local(Box::new(p))),
        Err(e) if is_lock_error(&e) => {
            if remote_ok && cfg.bus.backend == "kafka" {
                let bus = build::connect_bus(cfg)
                    .await
                    .context("connecting to Kafka")?;
                Ok(Access::Remote(bus))
            } else {
                Err(held(cfg, what))
            }
        }
        Err(e) => Err(e),
    }
}

/// Opens the data directory, which must not be held by another process.
pub async fn open_local(cfg: &Config, what: &str) -> anyhow::Result<EngineParts> {
    match open(cfg, what, false).await? {
        Access::Local(p) => Ok(*p),
        Access::Remote(_) => Err(held(cfg, what)),
    }
}
