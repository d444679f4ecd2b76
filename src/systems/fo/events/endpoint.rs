//! The receiver's lifetime beside the F&O polls: started by the first poll that runs on this
//! instance (the polls run where their lease is held), stopped when the last one stops, and
//! the wakes each poll subscribes to.

use std::sync::Arc;

use tokio::sync::{Mutex, Notify};

use super::{BusinessEventsConfig, Receiver, ReceiverError, Wakes};

/// The business-events endpoint an F&O client's polls share.
pub struct EventEndpoint {
    cfg: BusinessEventsConfig,
    wakes: Wakes,
    running: Mutex<Running>,
}

#[derive(Default)]
struct Running {
    users: usize,
    receiver: Option<Receiver>,
}

impl std::fmt::Debug for EventEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventEndpoint")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl EventEndpoint {
    /// An endpoint for `cfg`, not listening yet.
    pub fn new(cfg: BusinessEventsConfig) -> Self {
        EventEndpoint {
            cfg,
            wakes: Wakes::new(),
            running: Mutex::new(Running::default()),
        }
    }

    /// Starts the receiver unless it runs, and counts one more poll using it.
    pub async fn acquire(&self) -> Result<(), ReceiverError> {
        let mut r = self.running.lock().await;
        if r.receiver.is_none() {
            r.receiver = Some(Receiver::start(&self.cfg, self.wakes.clone()).await?);
        }
        r.users += 1;
        Ok(())
    }

    /// One poll fewer; the last one stops the receiver.
    pub async fn release(&self) {
        let mut r = self.running.lock().await;
        r.users = r.users.saturating_sub(1);
        if r.users == 0
            && let Some(receiver) = r.receiver.take()
        {
            receiver.shutdown().await;
        }
    }

    /// Woken by every fresh event about `entity_set`.
    pub fn subscribe(&self, entity_set: &str) -> Arc<Notify> {
        self.wakes.subscribe(entity_set)
    }

    /// What the receiver has handled, while it runs.
    pub async fn stats(&self) -> Option<super::EventStats> {
        self.running
            .lock()
            .await
            .receiver
            .as_ref()
            .map(Receiver::stats)
    }

    /// The URL the receiver listens on, while it runs (what a local sandbox registers; F&O
    /// is given the TLS terminator's URL).
    pub async fn url(&self) -> Option<String> {
        self.running
            .lock()
            .await
            .receiver
            .as_ref()
            .map(Receiver::url)
    }
}
