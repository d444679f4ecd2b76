//! Capture leases: each capture task owns one partition of the leases topic, and runs only on
//! the instance its consumer group assigns that partition to. When an instance dies, its
//! partitions move to the others, which resume from the checkpoints in the changelog.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::error::PipelineError;
use crate::bus::{Bus, StartFrom};

/// The consumer group sharing the capture leases (under the topic prefix).
pub const LEASE_GROUP: &str = "capture-leases";

/// One capture task's view of its lease.
#[derive(Debug, Clone)]
pub struct Lease {
    rx: watch::Receiver<BTreeSet<u32>>,
    partition: u32,
}

impl Lease {
    /// True while this instance holds the lease.
    pub fn held(&self) -> bool {
        self.rx.borrow().contains(&self.partition)
    }
}

/// Keeps this instance in the lease group and publishes the partitions it holds.
pub struct LeaseKeeper {
    tx: watch::Sender<BTreeSet<u32>>,
}

impl LeaseKeeper {
    /// A keeper holding nothing yet.
    pub fn new() -> Self {
        LeaseKeeper {
            tx: watch::channel(BTreeSet::new()).0,
        }
    }

    /// The lease of capture task `index` (of `count` lease partitions).
    pub fn lease(&self, index: u32, count: u32) -> Lease {
        Lease {
            rx: self.tx.subscribe(),
            partition: index % count.max(1),
        }
    }

    /// Polls the group until `shutdown`, publishing the assignment.
    pub async fn run(
        self,
        bus: Arc<dyn Bus>,
        group: String,
        topic: String,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let mut consumer = bus
            .subscribe(&group, std::slice::from_ref(&topic), StartFrom::Committed)
            .await?;
        loop {
            let held: BTreeSet<u32> = consumer
                .assignment()
                .into_iter()
                .filter(|(t, _)| *t == topic)
                .map(|(_, p)| p)
                .collect();
            self.tx.send_if_modified(|cur| {
                if *cur != held {
                    tracing::info!(leases = ?held, "Capture leases assigned to this instance.");
                    *cur = held;
                    true
                } else {
                    false
                }
            });
            tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                r = consumer.poll(16, Duration::from_millis(200)) => {
                    if let Err(e) = r {
                        let e = PipelineError::from(e);
                        if !e.is_transient() {
                            return Err(e);
                        }
                        tracing::warn!(error = %e, "The log is unavailable; capture leases are kept meanwhile.");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }
}

impl Default for LeaseKeeper {
    fn default() -> Self {
        LeaseKeeper::new()
    }
}
