//! The loop every capture task runs: passes while it holds its lease, a pause between passes,
//! and a retry after a failed pass (after `Retry-After` when the system gave one).

use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;

use super::status::CaptureStatus;
use crate::error::{Classify, Retry};
use crate::pipeline::PipelineError;
use crate::pipeline::lease::Lease;
use crate::systems::SystemError;

/// The outcome of one pass: `Err` stops the task (the log or the projection is broken);
/// `Ok(Err)` is a fault of the source system, retried.
pub type PassResult = Result<Result<(), SystemError>, PipelineError>;

/// Runs `pass` until `shutdown`.
pub async fn run_passes<F, Fut>(
    status: &CaptureStatus,
    lease: &Lease,
    poll_interval: Duration,
    shutdown: tokio::sync::watch::Receiver<bool>,
    pass: F,
) -> Result<(), PipelineError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = PassResult>,
{
    run_passes_woken(status, lease, poll_interval, shutdown, None, pass).await
}

/// [`run_passes`], with the pause after a successful pass cut short by `wake` (a push from
/// the source, such as F&O's Business Events: the pass then reads the change at once; a lost
/// push only delays it to the next interval).
pub async fn run_passes_woken<F, Fut>(
    status: &CaptureStatus,
    lease: &Lease,
    poll_interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    wake: Option<&Notify>,
    mut pass: F,
) -> Result<(), PipelineError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = PassResult>,
{
    loop {
        let wait = if !lease.held() {
            // Not ours (yet): another instance runs this capture, or the first assignment is
            // still pending. No pass is counted, so idleness is never claimed before one.
            poll_interval.min(Duration::from_millis(200))
        } else {
            let result = match pass().await {
                Err(e) if e.is_transient() => {
                    tracing::warn!(capture = %status.name(), error = %e, "The log is unavailable; the pass is retried.");
                    status.failed(e.to_string());
                    Ok(Err(None))
                }
                other => other.map(|r| r.map_err(Some)),
            };
            match result? {
                Ok(()) => {
                    status.cycle_done();
                    poll_interval
                }
                Err(Some(e)) => {
                    tracing::warn!(capture = %status.name(), error = %e, "Capture pass failed; retrying.");
                    status.failed(e.to_string());
                    match e.retry() {
                        Retry::After(d) => d,
                        _ => Duration::from_secs(5).max(poll_interval),
                    }
                }
                Err(None) => Duration::from_secs(1).max(poll_interval),
            }
        };
        let woken = async {
            match wake {
                Some(n) if lease.held() => n.notified().await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
            _ = woken => {}
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}
