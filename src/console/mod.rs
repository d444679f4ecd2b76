//! The operator console: what Business Central users get as the Integration Synchronization
//! Jobs, Synchronization Errors and Coupled Data pages, served by `couplet run` (and the demo)
//! under `/console` on its HTTP listener.
//!
//! - [`pages`]: each mapping's state, throughput and last run; the errors list with the
//!   record, the field, the message and the diff, with Retry and Skip; the parked records.
//! - [`records`]: the couplings search by either side's id or natural key, and a record's
//!   page with its audit trail (each change and write with its field diff) and Couple,
//!   Uncouple and Sync Now.
//! - [`actions`]: what the buttons do, on the running engine's own objects.
//! - [`auth`]: the token, sessions, and the cross-site and CSRF checks; [`routes`] wires
//!   them ([`routes::router`]: the routes to merge into the listener's).
//!
//! Off unless `[console] token_env` names a token; server-rendered HTML (`maud`, which escapes
//! every value) with one small script.

pub mod actions;
pub mod activity;
pub mod auth;
pub mod config;
pub mod error;
pub mod layout;
pub mod log_reader;
pub mod metrics;
pub mod pages;
pub mod records;
pub mod routes;

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::capture::CaptureStatus;
use crate::pipeline::state::StateLog;
use crate::pipeline::{EngineParts, PipelineError, engine::instance_id};
use crate::systems::Secret;

pub use config::ConsoleSection;

/// The console: its sessions, and the engine once it runs.
#[derive(Clone)]
pub struct Console {
    inner: Arc<Inner>,
}

struct Inner {
    auth: auth::Auth,
    live: RwLock<Option<actions::Live>>,
    activity: activity::Activity,
    sampler: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(h) = self.sampler.lock().take() {
            h.abort();
        }
    }
}

impl Console {
    /// A console that lets in whoever presents `token`. Its pages say "starting" until
    /// [`Console::attach`].
    pub fn new(token: &Secret) -> Console {
        metrics::console_metrics();
        Console {
            inner: Arc::new(Inner {
                auth: auth::Auth::new(token),
                live: RwLock::new(None),
                activity: activity::Activity::default(),
                sampler: Mutex::new(None),
            }),
        }
    }

    /// Points the console at the running engine (its parts and capture tasks), and starts
    /// sampling the throughput.
    pub fn attach(
        &self,
        parts: &EngineParts,
        captures: &[CaptureStatus],
    ) -> Result<(), PipelineError> {
        let state = StateLog::new(
            parts.bus.clone(),
            parts.topics.clone(),
            parts.store.clone(),
            instance_id(&parts.store)?,
        );
        *self.inner.live.write() = Some(actions::Live {
            parts: parts.clone(),
            state,
            captures: captures.to_vec(),
        });
        let mut s = self.inner.sampler.lock();
        if s.is_none() {
            *s = Some(self.inner.activity.spawn());
        }
        Ok(())
    }

    fn live(&self) -> Option<actions::Live> {
        self.inner.live.read().clone()
    }
}

#[cfg(test)]
mod tests;
