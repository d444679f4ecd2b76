//! Bringing the projection's parked changes in line with the `.parked` changelog when an
//! instance starts. The changelog is written first and the projection (sled) after, and sled
//! reaches disk on its own schedule: after a SIGKILL, a parked change claimed for re-driving
//! (taken from the projection) but not yet back on the changes topic, or whose claim reached
//! disk while its re-drive did not, is still live in the changelog and missing from the
//! projection. The state follower skips the instance's own messages, so without this it would
//! never be re-driven (issue "Nothing lost, ever", point 1: a contact lost after SIGKILLs).
//! Restored entries are re-driven by the re-driver's sweep once what they wait for is coupled;
//! re-driving one twice is harmless, as writes are idempotent.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::barrier::is_barrier;
use super::error::PipelineError;
use super::replay::read_topic;
use super::state::parked_key;
use crate::bus::{Bus, StartFrom, Topics};
use crate::event::state_codec::decode_parked;
use crate::store::{ParkedEntry, Store};

/// What a reconciliation changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// Entries live in the changelog and missing from the projection, parked again.
    pub restored: usize,
    /// Entries in the projection whose changelog ends with a tombstone, removed.
    pub released: usize,
}

/// Makes the projection's parked changes those the changelog holds live.
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
        match m.value.as_deref() {
            None | Some([]) => {
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
        match (entry, held.get(k)) {
            (Some(p), None) => {
                store.park(p)?;
                out.restored += 1;
            }
            (None, Some(p)) => {
                for other in store.take_parked(&p.waiting_for)? {
                    if parked_key(&other) != *k {
                        store.park(&other)?;
                    }
                }
                out.released += 1;
            }
            _ => {}
        }
    }
    if out != Reconciled::default() {
        tracing::info!(
            restored = out.restored,
            released = out.released,
            "Parked changes brought in line with the changelog (the previous run ended without a clean stop)."
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
    /// live in the changelog) is parked again; one released whose claim never reached the
    /// projection is removed.
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
        // Killed after the claim of c1 (its re-drive never happened), and after c2's release
        // reached the log but before its claim reached the projection.
        assert_eq!(state.claim_parked("CUSTOMER/bc/a1").unwrap().len(), 1);
        state.release_parked(&released).await.unwrap();
        assert_eq!(store.parked().unwrap().len(), 2);

        let r = parked(&bus, &topics, &store).await.unwrap();
        assert_eq!(
            r,
            Reconciled {
                restored: 1,
                released: 1
            }
        );
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
