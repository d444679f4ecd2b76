//! Progress of a capture task, read by `couplet status`, the demo and idle detection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// Shared, cheap-to-clone progress counters of one capture task.
#[derive(Debug, Clone, Default)]
pub struct CaptureStatus {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    name: Mutex<String>,
    cycles: AtomicU64,
    events: AtomicU64,
    full_reads: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl CaptureStatus {
    /// A status named like `CUSTOMER/dataverse/accounts`.
    pub fn new(name: &str) -> Self {
        let s = CaptureStatus::default();
        *s.inner.name.lock() = name.to_string();
        s
    }
    /// The capture's name.
    pub fn name(&self) -> String {
        self.inner.name.lock().clone()
    }
    /// Completed passes (each ends caught up with the source).
    pub fn cycles(&self) -> u64 {
        self.inner.cycles.load(Ordering::SeqCst)
    }
    /// Events appended.
    pub fn events(&self) -> u64 {
        self.inner.events.load(Ordering::SeqCst)
    }
    /// Full re-reads started (the first read, and any after an expired delta token).
    pub fn full_reads(&self) -> u64 {
        self.inner.full_reads.load(Ordering::SeqCst)
    }
    /// The last error, if the last pass failed.
    pub fn last_error(&self) -> Option<String> {
        self.inner.last_error.lock().clone()
    }
    pub(crate) fn cycle_done(&self) {
        *self.inner.last_error.lock() = None;
        self.inner.cycles.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn add_events(&self, n: u64) {
        self.inner.events.fetch_add(n, Ordering::SeqCst);
    }
    pub(crate) fn full_read(&self) {
        self.inner.full_reads.fetch_add(1, Ordering::SeqCst);
    }
    pub(crate) fn failed(&self, e: String) {
        *self.inner.last_error.lock() = Some(e);
    }
}
