//! Capture of posted invoices for the orders flowing back: Business Central deletes an order
//! once it is completely shipped and invoiced, so the order's last change is never seen by the
//! `salesOrders` poll. This task polls `salesInvoices` on `lastModifiedDateTime` (the shared
//! [watermark poller](crate::capture::watermark), as the other BC captures) and appends, for
//! each posted invoice of an order, a change of that order (`bc/salesOrders/<id>`, mapping
//! SALESORDER) carrying the order number; transform reads the order whole (deleted or not) from
//! there. The order is the invoice's `orderId`, or the order seen earlier with its
//! `orderNumber` (an invoice of an order Couplet never saw is not an order from Sales and is
//! left out).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::bus::{Bus, Topics};
use crate::capture::CaptureStatus;
use crate::capture::bc::{BcSource, bc_columns};
use crate::capture::runner::{PassResult, run_passes};
use crate::capture::watermark::{ChangedRow, MissingId, RowResult, WatermarkPoller};
use crate::event::{ChangeEvent, ChangeOp, Fields, RecordKey};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;
use crate::pipeline::lease::Lease;
use crate::pipeline::state::StateLog;
use crate::store::Store;
use crate::systems::BcClient;

/// The posted documents polled.
pub const POSTED_SET: &str = "salesInvoices";
const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Polls posted invoices for one order mapping.
pub struct PostedCapture {
    /// The order mapping (SALESORDER).
    pub mapping: Arc<TableMapping>,
    /// Business Central.
    pub client: BcClient,
    /// The projection (checkpoints, the order-number index).
    pub store: Store,
    /// The log.
    pub bus: Arc<dyn Bus>,
    /// Topic names.
    pub topics: Topics,
    /// Pause between passes.
    pub poll_interval: Duration,
    /// Re-read window before the watermark.
    pub overlap: Duration,
    /// Progress.
    pub status: CaptureStatus,
    /// Shared state (checkpoints go through their changelog).
    pub state: StateLog,
    /// The lease of the mapping's Business Central capture.
    pub lease: Lease,
}

fn text(f: &Fields, k: &str) -> String {
    f.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

impl PostedCapture {
    /// The checkpoint's name.
    pub fn checkpoint_name(&self) -> String {
        format!("capture/{}/bc/{POSTED_SET}", self.mapping.name)
    }

    /// Runs passes until `shutdown`.
    pub async fn run(
        self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        run_passes(
            &self.status,
            &self.lease,
            self.poll_interval,
            shutdown,
            || self.pass(),
        )
        .await
    }

    /// The order a posted invoice belongs to, if Couplet knows it.
    fn order_of(&self, invoice: &Fields) -> Result<Option<String>, PipelineError> {
        let id = text(invoice, "orderId");
        if !id.is_empty() && id != EMPTY_GUID {
            return Ok(Some(id));
        }
        let number = text(invoice, "orderNumber");
        if number.is_empty() {
            return Ok(None);
        }
        Ok(self.store.index_id(
            crate::systems::BC,
            &self.mapping.erp_entity,
            "number",
            &number,
        )?)
    }

    async fn pass(&self) -> PassResult {
        let poller = WatermarkPoller {
            checkpoint: self.checkpoint_name(),
            columns: bc_columns(),
            missing_id: MissingId::Skip,
            overlap: self.overlap,
            store: &self.store,
            state: &self.state,
            bus: &self.bus,
            topics: &self.topics,
            status: &self.status,
        };
        let source = BcSource {
            client: &self.client,
            set: POSTED_SET,
        };
        poller
            .pass(&source, move |row| std::future::ready(self.event_of(row)))
            .await
    }

    /// The change of the order a new posted invoice belongs to (none when Couplet does not
    /// know the order).
    fn event_of(&self, invoice: ChangedRow) -> RowResult {
        let Some(order) = self.order_of(&invoice.fields)? else {
            return Ok(Ok(None));
        };
        let mut fields = Fields::new();
        fields.insert("id".into(), json!(order));
        fields.insert("number".into(), json!(text(&invoice.fields, "orderNumber")));
        Ok(Ok(Some(ChangeEvent::new(
            self.mapping.name.clone(),
            RecordKey::new(crate::systems::BC, self.mapping.erp_entity.clone(), order),
            ChangeOp::Upsert,
            invoice.modified_on,
            None,
            fields,
        ))))
    }
}
