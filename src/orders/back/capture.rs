//! Capture of posted invoices for the orders flowing back: Business Central deletes an order
//! once it is completely shipped and invoiced, so the order's last change is never seen by the
//! `salesOrders` poll. This task polls `salesInvoices` on `lastModifiedDateTime` (overlap
//! window and de-duplication as the other BC captures) and appends, for each posted invoice of
//! an order, a change of that order (`bc/salesOrders/<id>`, mapping SALESORDER) carrying the
//! order number; transform reads the order whole (deleted or not) from there. The order is
//! the invoice's `orderId`, or the order seen earlier with its `orderNumber` (an invoice of an
//! order Couplet never saw is not an order from Sales and is left out).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::bus::{Bus, Topics};
use crate::capture::CaptureStatus;
use crate::capture::dataverse::parse_time;
use crate::capture::emit::emit_all;
use crate::capture::runner::run_passes;
use crate::event::{ChangeEvent, ChangeOp, Fields, RecordKey};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;
use crate::pipeline::lease::Lease;
use crate::pipeline::state::StateLog;
use crate::store::Store;
use crate::systems::{BcClient, SystemError};

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

    async fn pass(&self) -> Result<Result<(), SystemError>, PipelineError> {
        let saved = self.store.checkpoint(&self.checkpoint_name())?;
        let mut watermark = parse_time(saved.as_ref().and_then(|v| v.get("watermark")));
        let mut seen: BTreeMap<String, String> = saved
            .as_ref()
            .and_then(|v| v.get("seen"))
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        if watermark.is_none() {
            self.status.full_read();
        }
        let overlap = chrono::Duration::from_std(self.overlap).unwrap_or_default();
        let since = watermark.map(|w| w - overlap);
        let mut link: Option<String> = None;
        loop {
            let page = match self
                .client
                .changed_since(POSTED_SET, since, link.as_deref())
                .await
            {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let mut events = Vec::new();
            for row in page.rows {
                let id = text(&row, "id");
                let lm_text = text(&row, "lastModifiedDateTime");
                if id.is_empty() || seen.get(&id) == Some(&lm_text) {
                    continue;
                }
                seen.insert(id.clone(), lm_text);
                let lm = parse_time(row.get("lastModifiedDateTime"));
                if let Some(t) = lm {
                    watermark = Some(watermark.map_or(t, |w: DateTime<Utc>| w.max(t)));
                }
                let Some(order) = self.order_of(&row)? else {
                    continue;
                };
                let mut fields = Fields::new();
                fields.insert("id".into(), json!(order));
                fields.insert("number".into(), json!(text(&row, "orderNumber")));
                events.push(ChangeEvent::new(
                    self.mapping.name.clone(),
                    RecordKey::new(crate::systems::BC, self.mapping.erp_entity.clone(), order),
                    ChangeOp::Upsert,
                    lm,
                    None,
                    fields,
                ));
            }
            let n = events.len() as u64;
            emit_all(&self.bus, &self.topics, events).await?;
            self.status.add_events(n);
            if let Some(w) = watermark {
                let floor = w - overlap;
                seen.retain(|_, lm| {
                    DateTime::parse_from_rfc3339(lm)
                        .map(|t| t.with_timezone(&Utc) >= floor)
                        .unwrap_or(false)
                });
            }
            let v = json!({
                "watermark": watermark.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                "seen": seen,
                "at": Utc::now().to_rfc3339(),
            });
            self.state
                .save_checkpoint(&self.checkpoint_name(), &v)
                .await?;
            match page.next_link {
                Some(n) => link = Some(n),
                None => return Ok(Ok(())),
            }
        }
    }
}
