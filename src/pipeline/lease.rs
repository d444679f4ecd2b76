//! Capture leases: each capture task owns one partition of the leases topic, and runs only on
//! the instance its consumer group assigns that partition to. When an instance dies, its
//! partitions move to the others, which resume from the checkpoints in the changelog.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::error::PipelineError;
use crate::bus::{Bus, StartFrom};

/// The consumer group sharing the capture leases.
pub const LEASE_GROUP: &str = "couplet-capture-leases";

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
        topic: String,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let mut consumer = bus
            .subscribe(
                LEASE_GROUP,
                std::slice::from_ref(&topic),
                StartFrom::Committed,
            )
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
                r = consumer.poll(16, Duration::from_millis(200)) => { r?; }
            }
        }
    }
}

impl Default for LeaseKeeper {
    fn default() -> Self {
        LeaseKeeper::new()
    }
}
