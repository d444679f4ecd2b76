//! F&O's change sources: the `ModifiedDateTime` poll of each mapped entity that has one.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::client::FoClient;
use super::poll::{FoCapture, POLLED_SETS};
use crate::capture::plan::{CaptureContext, CapturePlan, CaptureTask};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;

struct Task {
    mapping: Arc<TableMapping>,
    client: FoClient,
}

#[async_trait]
impl CaptureTask for Task {
    async fn run(
        self: Box<Self>,
        cx: CaptureContext,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let Task { mapping, client } = *self;
        FoCapture {
            mapping,
            client,
            cx,
        }
        .run(shutdown)
        .await
    }
}

/// The poll of `m`'s entity set, when it carries `ModifiedDateTime` (give the others a
/// `schedule`).
pub fn for_mapping(client: &FoClient, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
    if !POLLED_SETS.contains(&m.erp_entity.as_str()) {
        tracing::info!(mapping = %m.name, set = %m.erp_entity, "F&O entity set without ModifiedDateTime: read by full synchronisations and schedules only");
        return Vec::new();
    }
    vec![CapturePlan {
        name: format!("{}/{}/{}", m.name, super::SYSTEM, m.erp_entity),
        lease_key: format!("{}/{}", m.name, super::SYSTEM),
        task: Box::new(Task {
            mapping: m.clone(),
            client: client.clone(),
        }),
    }]
}
