//! Business Central polling on `lastModifiedDateTime`, through the shared
//! [watermark poller](crate::capture::watermark): each pass re-reads an overlap window before the
//! watermark and drops versions it has already appended (by id and timestamp), so a change
//! stamped in the same millisecond as the watermark, or committed late, is never missed and
//! never appended twice.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::capture::plan::CaptureContext;
use crate::capture::runner::{PassResult, run_passes};
use crate::capture::watermark::{
    ChangedRow, MissingId, ModifiedColumns, RowResult, WatermarkColumns, WatermarkPage,
    WatermarkPoller, WatermarkSource,
};
use crate::event::{ChangeEvent, ChangeOp, RecordKey, System};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;
use crate::systems::{BcClient, SystemError};

/// Polls one mapping's ERP table.
pub struct BcCapture {
    /// The mapping.
    pub mapping: Arc<TableMapping>,
    /// The client.
    pub client: BcClient,
    /// What the engine runs the task with: the log, the projection, the shared state,
    /// the pace, the progress and the lease.
    pub cx: CaptureContext,
}

/// One Business Central entity set polled on `lastModifiedDateTime`.
#[derive(Debug, Clone, Copy)]
pub struct BcSource<'a> {
    /// The client.
    pub client: &'a BcClient,
    /// The entity set.
    pub set: &'a str,
}

/// The columns a Business Central poll reads: `id` and `lastModifiedDateTime`.
pub fn bc_columns() -> WatermarkColumns {
    WatermarkColumns {
        // Every API v2.0 entity set has the same key: the `id` GUID.
        id: crate::systems::BC.key_shape("customers"),
        modified: ModifiedColumns::instant("lastModifiedDateTime"),
        // Milliseconds: a version is its timestamp.
        etag_versions: false,
    }
}

#[async_trait]
impl WatermarkSource for BcSource<'_> {
    fn system(&self) -> System {
        crate::systems::BC
    }

    fn set(&self) -> &str {
        self.set
    }

    async fn page(
        &self,
        since: Option<DateTime<Utc>>,
        link: Option<&str>,
    ) -> Result<WatermarkPage, SystemError> {
        let page = self.client.changed_since(self.set, since, link).await?;
        Ok(WatermarkPage {
            rows: page.rows,
            next_link: page.next_link,
        })
    }
}

impl BcCapture {
    /// The checkpoint's name.
    pub fn checkpoint_name(&self) -> String {
        format!(
            "capture/{}/bc/{}",
            self.mapping.name, self.mapping.erp_entity
        )
    }

    /// Runs passes until `shutdown`.
    pub async fn run(
        self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        run_passes(
            &self.cx.status,
            &self.cx.lease,
            self.cx.poll_interval,
            shutdown,
            || self.pass(),
        )
        .await
    }

    async fn pass(&self) -> PassResult {
        let poller = WatermarkPoller::of_capture(
            &self.cx,
            self.checkpoint_name(),
            bc_columns(),
            MissingId::Fail,
        );
        let source = BcSource {
            client: &self.client,
            set: &self.mapping.erp_entity,
        };
        poller.pass(&source, move |row| self.event_of(row)).await
    }

    /// The change event of a new row (an invoice's aggregate completed first).
    async fn event_of(&self, row: ChangedRow) -> RowResult {
        let ChangedRow {
            id,
            modified_on,
            mut fields,
        } = row;
        if let Some(flow) = crate::flows::of_mapping(&self.mapping)
            && let Err(e) = flow.complete_captured(&self.client, &mut fields).await
        {
            return Ok(Err(e));
        }
        let etag = fields
            .get("@odata.etag")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        Ok(Ok(Some(ChangeEvent::new(
            self.mapping.name.clone(),
            RecordKey::new(crate::systems::BC, self.mapping.erp_entity.as_str(), id),
            ChangeOp::Upsert,
            modified_on,
            etag,
            fields,
        ))))
    }
}
