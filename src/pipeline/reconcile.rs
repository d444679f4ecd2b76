//! Bringing the projection's parked changes in line with the `.parked` changelog when an
//! instance starts. The changelog is written first and the projection (sled) after, and sled
//! reaches disk on its own schedule: after a SIGKILL, a parked change claimed for re-driving
//! (taken from the projection) but not yet back on the changes topic, or whose claim reached
//! disk while its re-drive did not, is still live in the changelog and missing from the
//! projection. The state follower skips the instance's own messages, so without this it would
//! never be re-driven (issue "Nothing lost, ever", point 1: a contact lost after SIGKILLs).
//! Restored entries are re-driven by the re-driver's sweep once what they wait for is coupled;
//! re-driving one twice is harmless, as writes are idempotent.
//!
//! It runs beside the engine, not before it ([`spawn`]): reading a topic from its start joins
//! a consumer group, which a broker may hold up for a while after an instance died (seen on
//! Tansu: the restarted instance's read of `.parked` waited for minutes, and the instance with
//! it). So it only ever adds entries back: an entry the running engine parks or releases
//! meanwhile must not be undone by a read that began before it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::barrier::is_barrier;
use super::error::PipelineError;
use super::replay::read_topic;
use super::state::parked_key;
use crate::bus::{Bus, StartFrom, Topics};
use crate::event::state_codec::decode_parked;
use crate::store::{ParkedEntry, Store};

/// How long the read of `.parked` may take before the reconciliation gives up (logged).
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// What a reconciliation changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Entries live in the changelog and missing from the projection, parked again.
    pub restored: usize,
}

/// Starts [`parked`] beside the engine, bounded by [`READ_TIMEOUT`] and ended by `shutdown`
/// (it is not one of the engine's supervised tasks, which run until shutdown); its failure is
/// logged (the next start tries again), never fatal.
pub fn spawn(
    bus: Arc<dyn Bus>,
    topics: Topics,
    store: Store,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let read = tokio::time::timeout(READ_TIMEOUT, parked(&bus, &topics, &store));
        let result = tokio::select! {
            _ = shutdown.changed() => return,
            r = read => r,
        };
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "Could not bring the parked changes in line with their changelog; the next start tries again.")
            }
            Err(_) => {
                tracing::warn!(
                    timeout_secs = READ_TIMEOUT.as_secs(),
                    "Reading the parked changelog took too long; the parked changes are brought in line at the next start."
                )
            }
        }
    })
}

/// Parks again every change the changelog holds live and the projection lacks.
pub async fn parked(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    store: &Store,
) -> Result<Reconciled, PipelineError> {
    // Nothing was ever parked (the common case): no read, which costs a consumer group's
    // join on Kafka.
    if bus
        .end_offsets(&topics.parked)
        .await?
        .iter()
        .all(|e| *e == 0)
    {
        return Ok(Reconciled::default());
    }
    let mut latest: BTreeMap<String, Option<ParkedEntry>> = BTreeMap::new();
    read_topic(bus, &topics.parked, StartFrom::Earliest, |m| {
        if is_barrier(m) {
            return Ok(());
        }
        match super::follow::state_value(m) {
            None => {
                latest.insert(m.key.clone(), None);
            }
            Some(v) => match decode_parked(v) {
                Ok(p) => {
                    latest.insert(m.key.clone(), Some(p));
                }
                Err(e) => {
                    tracing::error!(key = %m.key, offset = m.offset, error = %e, "Undecodable parked change in the changelog; skipped.");
                }
            },
        }
        Ok(())
    })
    .await?;
    let held: BTreeMap<String, ParkedEntry> = store
        .parked()?
        .into_iter()
        .map(|p| (parked_key(&p), p))
        .collect();
    let mut out = Reconciled::default();
    for (k, entry) in &latest {
        if let (Some(p), None) = (entry, held.get(k)) {
            store.park(p)?;
            out.restored += 1;
        }
    }
    if out.restored > 0 {
        tracing::info!(
            restored = out.restored,
            "Parked changes missing from the projection were parked again from their changelog (the previous run ended without a clean stop)."
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::TopicSpec;
    use crate::event::{ChangeEvent, ChangeOp, RecordKey};
    use crate::pipeline::state::StateLog;

    fn entry(id: &str, waiting_for: &str) -> ParkedEntry {
        let ev = ChangeEvent::new(
            "CONTACT",
            RecordKey::new(crate::systems::BC, "contacts", id),
            ChangeOp::Upsert,
            None,
            None,
            crate::event::Fields::new(),
        );
        ParkedEntry {
            waiting_for: waiting_for.to_string(),
            record: ev.source.to_string(),
            mapping: ev.mapping.clone(),
            reason: "waiting".to_string(),
            parked_at: chrono::Utc::now(),
            event: ev,
        }
    }

    /// A change claimed for re-driving when the instance was killed (gone from the projection,
    /// live in the changelog) is parked again; a released one is not.
    #[tokio::test]
    async fn a_claimed_change_lost_by_a_kill_is_parked_again() {
        let (log, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let bus: Arc<dyn Bus> =
            Arc::new(crate::bus::embedded::EmbeddedBus::open(log.path()).unwrap());
        let topics = Topics::new("t");
        bus.ensure_topics(&[TopicSpec::new(&topics.parked, 2, true)])
            .await
            .unwrap();
        let store = Store::open(db.path()).unwrap();
        let state = StateLog::new(bus.clone(), topics.clone(), store.clone(), "me".into());
        let (lost, released, kept) = (
            entry("c1", "CUSTOMER/bc/a1"),
            entry("c2", "CUSTOMER/bc/a2"),
            entry("c3", "CUSTOMER/bc/a3"),
        );
        for p in [&lost, &released, &kept] {
            state.park(p).await.unwrap();
        }
        // Killed after the claim of c1 (its re-drive never happened); c2 was claimed,
        // re-driven and released.
        assert_eq!(state.claim_parked("CUSTOMER/bc/a1").unwrap().len(), 1);
        assert_eq!(state.claim_parked("CUSTOMER/bc/a2").unwrap().len(), 1);
        state.release_parked(&released).await.unwrap();
        assert_eq!(store.parked().unwrap().len(), 1);

        let r = parked(&bus, &topics, &store).await.unwrap();
        assert_eq!(r, Reconciled { restored: 1 });
        let mut now: Vec<String> = store.parked().unwrap().iter().map(parked_key).collect();
        now.sort();
        let mut want = vec![parked_key(&lost), parked_key(&kept)];
        want.sort();
        assert_eq!(now, want);
        // In line: nothing more to do.
        assert_eq!(
            parked(&bus, &topics, &store).await.unwrap(),
            Reconciled::default()
        );
    }
}
