//! Item availability: Business Central's `items.inventory` is a FlowField over the item ledger,
//! so stock that moves (a shipment, a purchase, an adjustment) changes neither the item's
//! `lastModifiedDateTime` nor its ETag, and the items poller never sees it. This task reads
//! `itemLedgerEntries` by entry number (like Business Central's "CRM Item Availability Job",
//! but every poll interval instead of every 30 minutes), re-reads the items the new entries
//! touch and puts them on the changes topic for the item mapping, whose transform writes the
//! new quantity on hand (and nothing, when the mapped values did not move).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::capture::emit::{emit_all, upsert_event};
use crate::capture::plan::CaptureContext;
use crate::capture::runner::run_passes;
use crate::event::RecordKey;
use crate::event::Side;
use crate::mapping::model::TableMapping;
use crate::metrics::metrics;
use crate::pipeline::PipelineError;
use crate::systems::{BcClient, SystemError};

/// The ledger read.
pub const LEDGER: &str = "itemLedgerEntries";
/// Items re-read per request (`number eq '…' or …`).
const ITEMS_PER_QUERY: usize = 20;

/// Whether `m` maps Business Central items' `inventory` to the CRM, which is what this task
/// keeps current.
pub fn tracks_inventory(m: &TableMapping) -> bool {
    m.erp_entity == "items"
        && m.direction.allows_from(Side::Erp)
        && m.fields
            .iter()
            .any(|f| f.enabled && f.erp == "inventory" && f.direction.allows_from(Side::Erp))
}

/// Reads the item ledger for one item mapping.
pub struct AvailabilityCapture {
    /// The item mapping (ITEM-PRODUCT in the defaults).
    pub mapping: Arc<TableMapping>,
    /// The client.
    pub client: BcClient,
    /// What the engine runs the task with: the log, the projection, the shared state,
    /// the pace, the progress and the lease.
    pub cx: CaptureContext,
    /// On the first start (no checkpoint), entries modified this long before now are read, so
    /// stock moved while Couplet's first item read was under way is not missed.
    pub first_lookback: Duration,
}

impl AvailabilityCapture {
    /// The checkpoint's name.
    pub fn checkpoint_name(&self) -> String {
        format!("capture/{}/bc/{LEDGER}", self.mapping.name)
    }

    fn load(&self) -> Result<Option<i64>, PipelineError> {
        Ok(self
            .cx
            .store
            .checkpoint(&self.checkpoint_name())?
            .and_then(|v| v.get("entry").and_then(Value::as_i64)))
    }

    async fn save(&self, entry: i64) -> Result<(), PipelineError> {
        let v = json!({ "entry": entry, "at": Utc::now().to_rfc3339() });
        self.cx
            .state
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
            &self.cx.status,
            &self.cx.lease,
            self.cx.poll_interval,
            shutdown,
            || self.pass(),
        )
        .await
    }

    async fn pass(&self) -> Result<Result<(), SystemError>, PipelineError> {
        let after = self.load()?;
        let filter = match after {
            Some(n) => format!("entryNumber gt {n}"),
            None => {
                self.cx.status.full_read();
                let lookback = chrono::Duration::from_std(self.first_lookback).unwrap_or_default();
                format!(
                    "lastModifiedDateTime ge {}",
                    (Utc::now() - lookback).to_rfc3339_opts(SecondsFormat::Millis, true)
                )
            }
        };
        let mut last = after;
        let mut link: Option<String> = None;
        loop {
            let page = match self
                .client
                .page_where(LEDGER, &filter, "entryNumber", link.as_deref())
                .await
            {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            metrics()
                .ledger_entries
                .with_label_values(&[crate::systems::BC.as_str(), LEDGER])
                .inc_by(page.rows.len() as u64);
            let mut items = BTreeSet::new();
            for row in &page.rows {
                let (Some(n), Some(item)) = (
                    row.get("entryNumber").and_then(Value::as_i64),
                    row.get("itemNumber").and_then(Value::as_str),
                ) else {
                    return Ok(Err(SystemError::Malformed {
                        system: crate::systems::BC,
                        operation: "poll",
                        reason: format!("an {LEDGER} row has no entryNumber or itemNumber"),
                    }));
                };
                last = Some(last.map_or(n, |l| l.max(n)));
                if !item.is_empty() {
                    items.insert(item.to_string());
                }
            }
            if let Err(e) = self.emit_items(&items).await? {
                return Ok(Err(e));
            }
            if let Some(n) = last
                && last != after
            {
                self.save(n).await?;
            }
            match page.next_link {
                Some(n) => link = Some(n),
                None => break,
            }
        }
        if last.is_none() {
            // First start and nothing posted within the look-back: start after the newest
            // entry there is.
            let newest = match self.newest_entry().await {
                Ok(n) => n,
                Err(e) => return Ok(Err(e)),
            };
            self.save(newest).await?;
        }
        Ok(Ok(()))
    }

    /// The highest entry number in the ledger (0 when it is empty).
    async fn newest_entry(&self) -> Result<i64, SystemError> {
        let page = self
            .client
            .page_where(LEDGER, "entryNumber gt 0", "entryNumber desc", None)
            .await?;
        Ok(page
            .rows
            .first()
            .and_then(|r| r.get("entryNumber").and_then(Value::as_i64))
            .unwrap_or(0))
    }

    /// Re-reads `numbers` and appends them as changes of the item mapping.
    async fn emit_items(
        &self,
        numbers: &BTreeSet<String>,
    ) -> Result<Result<(), SystemError>, PipelineError> {
        let numbers: Vec<&String> = numbers.iter().collect();
        for chunk in numbers.chunks(ITEMS_PER_QUERY) {
            let filter = chunk
                .iter()
                .map(|n| format!("number eq '{}'", n.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(" or ");
            let rows = match self.client.query("items", &filter).await {
                Ok(r) => r,
                Err(e) => return Ok(Err(e)),
            };
            let mut events = Vec::new();
            for row in rows {
                let Some(id) = row.get("id").and_then(Value::as_str).map(str::to_string) else {
                    return Ok(Err(SystemError::Malformed {
                        system: crate::systems::BC,
                        operation: "poll",
                        reason: "an items row has no id".into(),
                    }));
                };
                let key = RecordKey::new(crate::systems::BC, "items", id);
                tracing::debug!(record = %key, mapping = %self.mapping.name, "Stock moved; the item is read again.");
                events.push(upsert_event(&self.mapping.name, key, row));
            }
            let n = events.len() as u64;
            emit_all(&self.cx.bus, &self.cx.topics, events).await?;
            self.cx.status.add_events(n);
        }
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::catalogue::Catalogue;

    #[test]
    fn the_default_item_mapping_tracks_inventory_and_others_do_not() {
        let c = Catalogue::defaults().unwrap();
        let tracked: Vec<&str> = c
            .ordered()
            .iter()
            .filter(|m| tracks_inventory(m))
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(tracked, vec!["ITEM-PRODUCT"]);
    }
}
