//! Dataverse's change source: change tracking of each mapped table.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::change_capture::DataverseCapture;
use super::client::DataverseClient;
use crate::capture::plan::{CaptureContext, CapturePlan, CaptureTask};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;

struct Task {
    mapping: Arc<TableMapping>,
    client: DataverseClient,
}

#[async_trait]
impl CaptureTask for Task {
    async fn run(
        self: Box<Self>,
        cx: CaptureContext,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        DataverseCapture {
            mapping: self.mapping,
            client: self.client,
            cx,
        }
        .run(shutdown)
        .await
    }
}

/// Change tracking of `m`'s CRM table.
pub fn for_mapping(client: &DataverseClient, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
    vec![CapturePlan {
        name: format!("{}/{}/{}", m.name, super::SYSTEM, m.crm_entity),
        lease_key: format!("{}/{}", m.name, super::SYSTEM),
        task: Box::new(Task {
            mapping: m.clone(),
            client: client.clone(),
        }),
    }]
}
