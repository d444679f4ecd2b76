//! Business Central's change sources: the `lastModifiedDateTime` poll of each mapped table,
//! the posted invoices of orders, and the item ledger for item availability.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use super::availability::{AvailabilityCapture, LEDGER, tracks_inventory};
use super::client::BcClient;
use super::poll::BcCapture;
use super::posted::{POSTED_SET, PostedCapture};
use crate::capture::plan::{CaptureContext, CapturePlan, CaptureTask};
use crate::mapping::Catalogue;
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;

/// On the first start, the item ledger read goes back this far (stock moved while the first
/// read of the items was under way).
const AVAILABILITY_FIRST_LOOKBACK: Duration = Duration::from_secs(600);

/// Which of Business Central's captures a plan runs.
enum Kind {
    Table,
    Posted,
    Ledger,
}

struct Task {
    kind: Kind,
    mapping: Arc<TableMapping>,
    client: BcClient,
}

#[async_trait]
impl CaptureTask for Task {
    async fn run(
        self: Box<Self>,
        cx: CaptureContext,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let Task {
            kind,
            mapping,
            client,
        } = *self;
        match kind {
            Kind::Table => {
                BcCapture {
                    mapping,
                    client,
                    cx,
                }
                .run(shutdown)
                .await
            }
            Kind::Posted => {
                PostedCapture {
                    mapping,
                    client,
                    cx,
                }
                .run(shutdown)
                .await
            }
            Kind::Ledger => {
                AvailabilityCapture {
                    mapping,
                    client,
                    first_lookback: AVAILABILITY_FIRST_LOOKBACK,
                    cx,
                }
                .run(shutdown)
                .await
            }
        }
    }
}

fn plan(client: &BcClient, m: &Arc<TableMapping>, kind: Kind, set: &str) -> CapturePlan {
    CapturePlan {
        name: format!("{}/{}/{set}", m.name, super::SYSTEM),
        lease_key: format!("{}/{}", m.name, super::SYSTEM),
        task: Box::new(Task {
            kind,
            mapping: m.clone(),
            client: client.clone(),
        }),
    }
}

/// The poll of `m`'s table and, for the order mapping, its posted invoices (an order is
/// deleted once completely posted), on one lease.
pub fn for_mapping(client: &BcClient, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
    let mut plans = vec![plan(client, m, Kind::Table, &m.erp_entity)];
    if m.runs(crate::mapping::model::FlowKind::SalesOrder) {
        plans.push(plan(client, m, Kind::Posted, POSTED_SET));
    }
    plans
}

/// The item ledger read, for the first continuously captured mapping that keeps item
/// inventory current.
pub fn for_catalogue(client: &BcClient, c: &Catalogue) -> Vec<CapturePlan> {
    c.ordered()
        .iter()
        .find(|m| m.schedule.is_none() && tracks_inventory(m))
        .map(|m| {
            let mut p = plan(client, m, Kind::Ledger, LEDGER);
            p.lease_key = format!("{}/{}/{LEDGER}", m.name, super::SYSTEM);
            p
        })
        .into_iter()
        .collect()
}
