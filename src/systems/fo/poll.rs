//! F&O polling on `ModifiedDateTime`, through the shared
//! [watermark poller](crate::capture::watermark): cross-company, in the configured legal
//! entities, each pass re-reading an overlap window before the watermark and dropping versions
//! already appended (by composite key and timestamp).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::client::FoClient;
use super::system::{MODIFIED, SYSTEM};
use crate::capture::plan::CaptureContext;
use crate::capture::runner::{PassResult, run_passes_woken};
use crate::capture::watermark::{
    ChangedRow, MissingId, ModifiedColumns, RowResult, WatermarkColumns, WatermarkPage,
    WatermarkPoller, WatermarkSource,
};
use crate::event::{ChangeEvent, ChangeOp, RecordKey, System};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;
use crate::systems::SystemError;

/// The entity sets that carry `ModifiedDateTime` and so can be polled; the others (the
/// trade agreements) are read by full synchronisations and schedules.
pub const POLLED_SETS: &[&str] = &["CustomersV3", "ReleasedProductsV2", "SalesOrderHeadersV2"];

/// Polls one mapping's F&O entity set.
pub struct FoCapture {
    /// The mapping.
    pub mapping: Arc<TableMapping>,
    /// The client.
    pub client: FoClient,
    /// What the engine runs the task with.
    pub cx: CaptureContext,
}

/// One entity set polled on `ModifiedDateTime`.
#[derive(Debug, Clone, Copy)]
pub struct FoSource<'a> {
    /// The client.
    pub client: &'a FoClient,
    /// The entity set.
    pub set: &'a str,
}

#[async_trait]
impl WatermarkSource for FoSource<'_> {
    fn system(&self) -> System {
        SYSTEM
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

impl FoCapture {
    /// The checkpoint's name.
    pub fn checkpoint_name(&self) -> String {
        format!(
            "capture/{}/fo/{}",
            self.mapping.name, self.mapping.erp_entity
        )
    }

    /// Runs passes until `shutdown`, woken early by the Business Events about its entity set
    /// when `[fo.business_events]` is configured.
    pub async fn run(
        self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        let endpoint = self.client.events().cloned();
        let wake = match &endpoint {
            Some(e) => match e.acquire().await {
                Ok(()) => Some(e.subscribe(&self.mapping.erp_entity)),
                Err(err) => {
                    // The poll still reads every change, on its interval.
                    tracing::error!(capture = %self.cx.status.name(), error = %err, "The F&O business-events endpoint cannot start; polling on the interval only. Correct [fo.business_events].");
                    self.cx.status.failed(err.to_string());
                    None
                }
            },
            None => None,
        };
        let result = run_passes_woken(
            &self.cx.status,
            &self.cx.lease,
            self.cx.poll_interval,
            shutdown,
            wake.as_deref(),
            || self.pass(),
        )
        .await;
        if let (Some(e), Some(_)) = (endpoint, wake) {
            e.release().await;
        }
        result
    }

    async fn pass(&self) -> PassResult {
        let set = self.mapping.erp_entity.as_str();
        let poller = WatermarkPoller::of_capture(
            &self.cx,
            self.checkpoint_name(),
            WatermarkColumns {
                id: SYSTEM.key_shape(set),
                modified: ModifiedColumns::instant(MODIFIED),
                // Whole seconds: two versions in one second differ by their ETag only.
                etag_versions: true,
            },
            MissingId::Fail,
        );
        let source = FoSource {
            client: &self.client,
            set,
        };
        poller.pass(&source, move |row| self.event_of(row)).await
    }

    async fn event_of(&self, row: ChangedRow) -> RowResult {
        let ChangedRow {
            id,
            modified_on,
            fields,
        } = row;
        let etag = SYSTEM.record_etag(&fields);
        Ok(Ok(Some(ChangeEvent::new(
            self.mapping.name.clone(),
            RecordKey::new(SYSTEM, self.mapping.erp_entity.as_str(), id),
            ChangeOp::Upsert,
            modified_on,
            etag,
            fields,
        ))))
    }
}
