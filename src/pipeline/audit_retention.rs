//! The audit index's retention: entries older than `[bus.retention] audit_days` are pruned
//! in the background, every `check_secs`. The events they point at are deleted by the event
//! topics' own retention; a trail older than the events it indexes can no longer be replayed,
//! so keeping it longer only serves as history.

use std::time::Duration;

use tokio::sync::watch;

use super::consume::pause;
use super::error::PipelineError;
use crate::metrics::metrics;
use crate::store::Store;

/// Prunes the audit index every `every` until `shutdown`; `max_age` `None`: never (the task
/// only waits for the shutdown, as the engine's tasks run until then). A failed pass is
/// logged and tried again at the next.
pub async fn prune_audit(
    store: Store,
    max_age: Option<chrono::Duration>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), PipelineError> {
    let Some(max_age) = max_age else {
        let _ = shutdown.wait_for(|stop| *stop).await;
        return Ok(());
    };
    loop {
        if pause(&mut shutdown, every).await {
            return Ok(());
        }
        let before = chrono::Utc::now() - max_age;
        let s = store.clone();
        match tokio::task::spawn_blocking(move || s.prune_audit(before)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                metrics()
                    .audit_pruned
                    .with_label_values::<&str>(&[])
                    .inc_by(n);
                tracing::info!(pruned = n, before = %before.to_rfc3339(),
                    "Pruned the audit index's entries older than [bus.retention] audit_days.");
            }
            Ok(Err(e)) => tracing::warn!(error = %e,
                "Pruning the audit index failed; the next pass tries again."),
            Err(e) => tracing::warn!(error = %e, "The audit index's pruning pass stopped."),
        }
    }
}
