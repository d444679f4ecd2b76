//! The watermark poller every modified-on poll shares (Business Central today; F&O and SAP
//! Business One next): each pass reads the rows changed since an overlap window before the
//! watermark, drops the versions it has already appended (by id and modified-on), so a change
//! stamped in the same millisecond as the watermark, or committed late, is never missed and
//! never appended twice; appends each page's events and only then saves the checkpoint.
//!
//! A source supplies the pages ([`WatermarkSource`]: its own query, paging and errors); the
//! caller supplies the columns read ([`WatermarkColumns`]) and how a new row becomes an event.

pub mod columns;
pub mod cursor;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use columns::{ModifiedColumns, Stamp, WatermarkColumns};
pub use cursor::Watermark;

use super::emit::emit_all;
use super::runner::PassResult;
use super::status::CaptureStatus;
use crate::bus::{Bus, Topics};
use crate::event::{ChangeEvent, Fields, System};
use crate::pipeline::PipelineError;
use crate::pipeline::state::StateLog;
use crate::store::Store;
use crate::systems::SystemError;

/// One page of rows changed since an instant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatermarkPage {
    /// The rows, oldest change first.
    pub rows: Vec<Fields>,
    /// The next page, if any.
    pub next_link: Option<String>,
}

/// A table polled on its modified-on column(s).
#[async_trait]
pub trait WatermarkSource: Send + Sync {
    /// The system polled (named in errors).
    fn system(&self) -> System;

    /// What is polled, such as an entity set (named in errors).
    fn set(&self) -> &str;

    /// One page of the rows changed at or after `since` (every row when `None`), oldest change
    /// first. `link` is the previous page's `next_link`, to continue.
    async fn page(
        &self,
        since: Option<DateTime<Utc>>,
        link: Option<&str>,
    ) -> Result<WatermarkPage, SystemError>;
}

/// What a row without an id (missing, empty or not text) does to a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingId {
    /// The pass fails (`SystemError::Malformed`) and is retried.
    Fail,
    /// The row is left out.
    Skip,
}

/// A row read by a pass that was not appended before.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedRow {
    /// Its id.
    pub id: String,
    /// Its modified-on, when it has a valid one.
    pub modified_on: Option<DateTime<Utc>>,
    /// The row as the source returned it.
    pub fields: Fields,
}

/// What becomes of a new row: `Ok(Ok(Some))` an event to append, `Ok(Ok(None))` nothing,
/// `Ok(Err)` a fault of the source system (the pass is retried), `Err` a broken log or
/// projection (the task stops).
pub type RowResult = Result<Result<Option<ChangeEvent>, SystemError>, PipelineError>;

/// One watermark poll: its checkpoint, the columns it reads, and where its events go. Cheap to
/// build for each pass.
pub struct WatermarkPoller<'a> {
    /// The checkpoint's name.
    pub checkpoint: String,
    /// The columns read from each row.
    pub columns: WatermarkColumns,
    /// What a row without an id does.
    pub missing_id: MissingId,
    /// Re-read window before the watermark.
    pub overlap: Duration,
    /// The projection the checkpoint is read from.
    pub store: &'a Store,
    /// Shared state (the checkpoint is saved through its changelog).
    pub state: &'a StateLog,
    /// The log.
    pub bus: &'a Arc<dyn Bus>,
    /// Topic names.
    pub topics: &'a Topics,
    /// Progress.
    pub status: &'a CaptureStatus,
}

impl<'a> WatermarkPoller<'a> {
    /// The poller of a capture task: the checkpoint `checkpoint`, the columns it reads, what
    /// a row without an id means, and the task's context (projection, state log, log, overlap
    /// window, progress).
    pub fn of_capture(
        cx: &'a crate::capture::plan::CaptureContext,
        checkpoint: String,
        columns: WatermarkColumns,
        missing_id: MissingId,
    ) -> Self {
        WatermarkPoller {
            checkpoint,
            columns,
            missing_id,
            overlap: cx.overlap,
            store: &cx.store,
            state: &cx.state,
            bus: &cx.bus,
            topics: &cx.topics,
            status: &cx.status,
        }
    }

    /// The saved position; `None` before the first save (a first read).
    pub fn load(&self) -> Result<Option<Watermark>, PipelineError> {
        Ok(self
            .store
            .checkpoint(&self.checkpoint)?
            .map(|v| Watermark::from_json(&v)))
    }

    /// Saves `w` as the checkpoint.
    pub async fn save(&self, w: &Watermark) -> Result<(), PipelineError> {
        self.state
            .save_checkpoint(&self.checkpoint, &w.to_json(Utc::now()))
            .await
    }

    /// One pass: every page of `source` since the overlap window before the watermark. Each row
    /// not appended before goes through `event_of`; each page's events are appended, then the
    /// checkpoint saved (the versions below the overlap window pruned) when the position moved
    /// or none was saved yet: an idle table appends nothing to the checkpoints changelog.
    pub async fn pass<S, F, Fut>(&self, source: &S, mut event_of: F) -> PassResult
    where
        S: WatermarkSource + ?Sized,
        F: FnMut(ChangedRow) -> Fut,
        Fut: Future<Output = RowResult>,
    {
        let mut saved = self.load()?;
        let mut mark = saved.clone().unwrap_or_default();
        if mark.at.is_none() {
            self.status.full_read();
        }
        let overlap = chrono::Duration::from_std(self.overlap).unwrap_or_default();
        let since = mark.since(overlap);
        let mut link: Option<String> = None;
        loop {
            let page = match source.page(since, link.as_deref()).await {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            let mut events = Vec::new();
            for fields in page.rows {
                let Some(id) = self.columns.id_of(&fields) else {
                    match self.missing_id {
                        MissingId::Skip => continue,
                        MissingId::Fail => {
                            return Ok(Err(SystemError::Malformed {
                                system: source.system(),
                                operation: "poll",
                                reason: format!("a {} row has no id", source.set()),
                            }));
                        }
                    }
                };
                let stamp = self
                    .columns
                    .stamp_of(&fields, source.system().record_etag(&fields));
                if !mark.observe(&id, &stamp) {
                    continue;
                }
                let row = ChangedRow {
                    id,
                    modified_on: stamp.at,
                    fields,
                };
                match event_of(row).await? {
                    Ok(Some(ev)) => events.push(ev),
                    Ok(None) => {}
                    Err(e) => return Ok(Err(e)),
                }
            }
            let n = events.len() as u64;
            emit_all(self.bus, self.topics, events).await?;
            self.status.add_events(n);
            mark.prune(overlap);
            if saved.as_ref() != Some(&mark) {
                self.save(&mark).await?;
                saved = Some(mark.clone());
            }
            match page.next_link {
                Some(n) => link = Some(n),
                None => return Ok(Ok(())),
            }
        }
    }
}
