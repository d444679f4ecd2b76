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

use serde_json::{Value, json};

use super::poll::{BcSource, bc_columns};
use crate::capture::plan::CaptureContext;
use crate::capture::runner::{PassResult, run_passes};
use crate::capture::watermark::{ChangedRow, MissingId, RowResult, WatermarkPoller};
use crate::event::{ChangeEvent, ChangeOp, Fields, RecordKey};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;
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
    /// What the engine runs the task with: the log, the projection, the shared state,
    /// the pace, the progress and the lease.
    pub cx: CaptureContext,
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
            &self.cx.status,
            &self.cx.lease,
            self.cx.poll_interval,
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
        Ok(self.cx.store.index_id(
            crate::systems::BC,
            &self.mapping.erp_entity,
            "number",
            &number,
        )?)
    }

    async fn pass(&self) -> PassResult {
        let poller = WatermarkPoller::of_capture(
            &self.cx,
            self.checkpoint_name(),
            bc_columns(),
            MissingId::Skip,
        );
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
