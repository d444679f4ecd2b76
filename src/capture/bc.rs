//! Business Central polling on `lastModifiedDateTime`: each pass re-reads an overlap window
//! before the watermark and drops versions it has already appended (by id and timestamp), so a
//! change stamped in the same millisecond as the watermark, or committed late, is never missed
//! and never appended twice.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::dataverse::parse_time;
use super::emit::emit_all;
use super::runner::run_passes;
use super::status::CaptureStatus;
use crate::bus::{Bus, Topics};
use crate::event::{ChangeEvent, ChangeOp, RecordKey};
use crate::mapping::model::TableMapping;
use crate::pipeline::PipelineError;
use crate::store::Store;
use crate::systems::{BcClient, SystemError};

/// Polls one mapping's ERP table.
pub struct BcCapture {
    /// The mapping.
    pub mapping: Arc<TableMapping>,
    /// The client.
    pub client: BcClient,
    /// The projection (checkpoints).
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
    pub state: crate::pipeline::state::StateLog,
    /// The lease this task needs to run (several instances share the captures).
    pub lease: crate::pipeline::lease::Lease,
}

#[derive(Debug, Default)]
struct Checkpoint {
    watermark: Option<DateTime<Utc>>,
    /// id → lastModifiedDateTime of versions appended within the overlap window.
    seen: BTreeMap<String, String>,
}

impl BcCapture {
    /// The checkpoint's name.
    pub fn checkpoint_name(&self) -> String {
        format!(
            "capture/{}/bc/{}",
            self.mapping.name, self.mapping.erp_entity
        )
    }

    fn load(&self) -> Result<Checkpoint, PipelineError> {
        let Some(v) = self.store.checkpoint(&self.checkpoint_name())? else {
            return Ok(Checkpoint::default());
        };
        let watermark = parse_time(v.get("watermark"));
        let seen = v
            .get("seen")
            .and_then(|s| s.as_object())
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Checkpoint { watermark, seen })
    }

    async fn save(&self, ck: &Checkpoint) -> Result<(), PipelineError> {
        let v = json!({
            "watermark": ck.watermark.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            "seen": ck.seen,
            "at": Utc::now().to_rfc3339(),
        });
        self.state
            .save_checkpoint(&self.checkpoint_name(), &v)
            .await?;
        Ok(())
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

    async fn pass(&self) -> Result<Result<(), SystemError>, PipelineError> {
        let mut ck = self.load()?;
        if ck.watermark.is_none() {
            self.status.full_read();
        }
        let overlap = chrono::Duration::from_std(self.overlap).unwrap_or_default();
        let since = ck.watermark.map(|w| w - overlap);
        let set = self.mapping.erp_entity.as_str();
        let mut link: Option<String> = None;
        loop {
            let page = match self.client.changed_since(set, since, link.as_deref()).await {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let mut events = Vec::new();
            for row in page.rows {
                let Some(id) = row.get("id").and_then(|v| v.as_str()).map(str::to_string) else {
                    return Ok(Err(SystemError::Malformed {
                        system: crate::systems::BC,
                        operation: "poll",
                        reason: format!("a {set} row has no id"),
                    }));
                };
                let lm_text = row
                    .get("lastModifiedDateTime")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string();
                let lm = parse_time(row.get("lastModifiedDateTime"));
                if ck.seen.get(&id) == Some(&lm_text) {
                    continue;
                }
                ck.seen.insert(id.clone(), lm_text);
                if let Some(t) = lm {
                    ck.watermark = Some(ck.watermark.map_or(t, |w| w.max(t)));
                }
                let mut row = row;
                if crate::invoices::is_invoice_mapping(&self.mapping)
                    && let Err(e) =
                        crate::invoices::aggregate::complete(&self.client, &mut row).await
                {
                    return Ok(Err(e));
                }
                let etag = row
                    .get("@odata.etag")
                    .and_then(|v| v.as_str())
                    .map(str::to_string);
                events.push(ChangeEvent::new(
                    self.mapping.name.clone(),
                    RecordKey::new(crate::systems::BC, set, id),
                    ChangeOp::Upsert,
                    lm,
                    etag,
                    row,
                ));
            }
            let n = events.len() as u64;
            emit_all(&self.bus, &self.topics, events).await?;
            self.status.add_events(n);
            if let Some(w) = ck.watermark {
                let floor = w - overlap;
                ck.seen.retain(|_, lm| {
                    DateTime::parse_from_rfc3339(lm)
                        .map(|t| t.with_timezone(&Utc) >= floor)
                        .unwrap_or(false)
                });
            }
            self.save(&ck).await?;
            match page.next_link {
                Some(n) => link = Some(n),
                None => return Ok(Ok(())),
            }
        }
    }
}
