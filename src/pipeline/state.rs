//! The state log: every change of the projection's shared state (couplings, checkpoints,
//! parked changes, create intents) is appended to its compacted changelog first, then applied
//! to the local store, which notes the message's position
//! ([`crate::store::state_offsets`]). Every instance follows the changelogs, its own messages
//! included ([`super::follow`]): a write of the projection lost in a crash is applied from the
//! changelog on the next start. `couplet replay --rebuild` rebuilds the store from them.

use std::sync::Arc;

use super::error::PipelineError;
use crate::bus::{Bus, Message, Produced, Topics};
use crate::event::Side;
use crate::event::state_codec::{encode_checkpoint, encode_coupling, encode_intent, encode_parked};
use crate::event::types::now_millis;
use crate::event::{ChangeEvent, Outcome};
use crate::metrics::metrics;
use crate::store::project::{Plan, apply_errors, plan_outcome};
use crate::store::{Coupling, CreateIntent, ParkedEntry, Store};

/// The header naming the instance that appended a state change.
pub const INSTANCE_HEADER: &str = "couplet-instance";

/// True when `msg` was appended by `instance`.
pub fn is_own(msg: &Message, instance: &str) -> bool {
    msg.headers
        .iter()
        .any(|(k, v)| k == INSTANCE_HEADER && v == instance)
}

/// The changelog key of a coupling.
pub fn coupling_key(c: &Coupling) -> String {
    format!("{}/{}", c.mapping, c.crm_id)
}

/// The changelog key of a parked change.
pub fn parked_key(p: &ParkedEntry) -> String {
    format!("{}|{}", p.waiting_for, p.slot())
}

/// Appends state changes to the changelogs and applies them locally.
#[derive(Clone)]
pub struct StateLog {
    bus: Arc<dyn Bus>,
    topics: Topics,
    store: Store,
    instance: String,
}

impl std::fmt::Debug for StateLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateLog")
            .field("instance", &self.instance)
            .finish()
    }
}

impl StateLog {
    /// A state log for this instance.
    pub fn new(bus: Arc<dyn Bus>, topics: Topics, store: Store, instance: String) -> Self {
        StateLog {
            bus,
            topics,
            store,
            instance,
        }
    }

    /// The local store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Appends `value` under `key` (`None`: a tombstone, the key's deletion); returns where it
    /// landed, for [`StateLog::noted`].
    async fn append(
        &self,
        topic: &str,
        key: &str,
        value: Option<&[u8]>,
    ) -> Result<Produced, PipelineError> {
        let headers = [(INSTANCE_HEADER.to_string(), self.instance.clone())];
        let at = self.bus.produce(topic, key, value, &headers).await?;
        metrics().produced.with_label_values(&[topic]).inc();
        Ok(at)
    }

    /// Records, after the projection's write, which changelog message the key's value now
    /// comes from, so the state follower does not apply that message (or an older one) again.
    /// Without a reported offset the follower applies the message once more: the same value.
    fn noted(&self, topic: &str, key: &str, at: Produced) -> Result<(), PipelineError> {
        if let Some(offset) = at.offset {
            self.store
                .note_state_offset(topic, key, at.partition, offset)?;
        }
        Ok(())
    }

    fn encoding(e: crate::event::avro::CodecError) -> PipelineError {
        PipelineError::Stage {
            stage: "state".into(),
            reason: e.to_string(),
        }
    }

    /// Inserts or replaces a coupling.
    pub async fn put_coupling(&self, c: &Coupling) -> Result<(), PipelineError> {
        let bytes = encode_coupling(c).map_err(Self::encoding)?;
        let key = coupling_key(c);
        let at = self
            .append(&self.topics.couplings, &key, Some(&bytes))
            .await?;
        self.store.put_coupling(c)?;
        self.noted(&self.topics.couplings, &key, at)
    }

    /// Removes a coupling.
    pub async fn remove_coupling(&self, c: &Coupling) -> Result<(), PipelineError> {
        let key = coupling_key(c);
        let at = self.append(&self.topics.couplings, &key, None).await?;
        self.store
            .remove_coupling(&c.mapping, Side::Crm, &c.crm_id)?;
        self.noted(&self.topics.couplings, &key, at)
    }

    /// Saves a capture checkpoint.
    pub async fn save_checkpoint(
        &self,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), PipelineError> {
        let bytes = encode_checkpoint(name, value, now_millis()).map_err(Self::encoding)?;
        let at = self
            .append(&self.topics.checkpoints, name, Some(&bytes))
            .await?;
        self.store.save_checkpoint(name, value)?;
        self.noted(&self.topics.checkpoints, name, at)
    }

    /// Deletes a capture checkpoint (forces a full re-read).
    pub async fn delete_checkpoint(&self, name: &str) -> Result<(), PipelineError> {
        let at = self.append(&self.topics.checkpoints, name, None).await?;
        self.store.delete_checkpoint(name)?;
        self.noted(&self.topics.checkpoints, name, at)
    }

    /// Parks a change.
    pub async fn park(&self, p: &ParkedEntry) -> Result<(), PipelineError> {
        let bytes = encode_parked(p).map_err(Self::encoding)?;
        let key = parked_key(p);
        let at = self.append(&self.topics.parked, &key, Some(&bytes)).await?;
        self.store.park(p)?;
        self.noted(&self.topics.parked, &key, at)
    }

    /// Claims every change parked on `waiting_for` in the local store. The changelog still
    /// holds them until [`StateLog::release_parked`]: a caller re-drives each first, then
    /// releases it, so a crash in between re-drives a change twice (harmless: writes are
    /// idempotent) rather than never.
    pub fn claim_parked(&self, waiting_for: &str) -> Result<Vec<ParkedEntry>, PipelineError> {
        Ok(self.store.take_parked(waiting_for)?)
    }

    /// Tombstones a re-driven parked change in the changelog (the projection let it go when
    /// it was claimed).
    ///
    /// The re-driven change may have been parked again in the same slot meanwhile (its
    /// dependency's coupling not seen yet), appended before this tombstone: the tombstone
    /// would then delete the live entry from the changelog (for other instances, a restart's
    /// reconciliation and a rebuild). So the entry parked again is appended once more after it.
    pub async fn release_parked(&self, p: &ParkedEntry) -> Result<(), PipelineError> {
        let key = parked_key(p);
        let at = self.append(&self.topics.parked, &key, None).await?;
        self.noted(&self.topics.parked, &key, at)?;
        if let Some(again) = self.store.parked_entry(&p.waiting_for, &p.slot())? {
            self.park(&again).await?;
        }
        Ok(())
    }

    /// Puts a claimed change back in the local store (its re-drive failed).
    pub fn unclaim_parked(&self, p: &ParkedEntry) -> Result<(), PipelineError> {
        Ok(self.store.park(p)?)
    }

    /// Logs a create about to be sent: durable in the changelog before the request goes out.
    pub async fn put_intent(&self, i: &CreateIntent) -> Result<(), PipelineError> {
        let bytes = encode_intent(i).map_err(Self::encoding)?;
        let key = i.log_key();
        let at = self
            .append(&self.topics.intents, &key, Some(&bytes))
            .await?;
        self.store.put_intent(i)?;
        self.noted(&self.topics.intents, &key, at)
    }

    /// Closes the intent to copy `source` in `mapping` (its create completed or failed; a
    /// completed one's coupling is appended first).
    pub async fn remove_intent(
        &self,
        mapping: &str,
        source: &crate::event::RecordKey,
    ) -> Result<(), PipelineError> {
        let key = crate::store::intents::intent_log_key(mapping, source.system, &source.id);
        let at = self.append(&self.topics.intents, &key, None).await?;
        self.store
            .remove_intent(mapping, source.system, &source.id)?;
        self.noted(&self.topics.intents, &key, at)
    }

    /// Applies what an outcome changes: couplings through the changelog, the errors list
    /// locally.
    pub async fn apply_outcome(
        &self,
        o: &Outcome,
        event: Option<&ChangeEvent>,
    ) -> Result<(), PipelineError> {
        let plan = plan_outcome(&self.store, o, event)?;
        self.apply_plan(&plan).await
    }

    /// Executes a plan.
    pub async fn apply_plan(&self, plan: &Plan) -> Result<(), PipelineError> {
        if let Some(c) = &plan.remove {
            self.remove_coupling(c).await?;
        }
        if let Some(c) = &plan.put {
            self.put_coupling(c).await?;
        }
        apply_errors(&self.store, plan)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::bus::{Bus, StartFrom, TopicSpec};

    /// A state log on a new embedded log with one changelog (`topic` of the topics), a new
    /// projection, and their directories (kept until dropped).
    async fn state_log(
        topic: impl Fn(&Topics) -> String,
    ) -> ([tempfile::TempDir; 2], Arc<dyn Bus>, Topics, StateLog) {
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let bus: Arc<dyn Bus> =
            Arc::new(crate::bus::embedded::EmbeddedBus::open(dirs[0].path()).unwrap());
        let topics = Topics::new("t");
        bus.ensure_topics(&[TopicSpec::new(&topic(&topics), 1, true)])
            .await
            .unwrap();
        let store = Store::open(dirs[1].path()).unwrap();
        let state = StateLog::new(bus.clone(), topics.clone(), store, "test".into());
        (dirs, bus, topics, state)
    }

    /// A change parked again in its slot while its first parking was being re-driven stays
    /// parked in the changelog: the release's tombstone does not have the last word.
    #[tokio::test]
    async fn a_release_does_not_delete_the_same_change_parked_again() {
        let (_dirs, bus, topics, state) = state_log(|t| t.parked.clone()).await;
        let db2 = tempfile::tempdir().unwrap();
        let ev = crate::event::ChangeEvent::new(
            "CONTACT",
            crate::event::RecordKey::new(crate::systems::BC, "contacts", "c1"),
            crate::event::ChangeOp::Upsert,
            None,
            None,
            crate::event::Fields::new(),
        );
        let entry = ParkedEntry {
            waiting_for: "CUSTOMER/bc/customers/a1".to_string(),
            record: ev.source.to_string(),
            mapping: ev.mapping.clone(),
            reason: "waiting for its company".to_string(),
            parked_at: chrono::Utc::now(),
            event: ev,
        };
        state.park(&entry).await.unwrap();
        let claimed = state.claim_parked(&entry.waiting_for).unwrap();
        assert_eq!(claimed.len(), 1);
        // Re-driven, and parked again before the release.
        state.park(&entry).await.unwrap();
        state.release_parked(&claimed[0]).await.unwrap();

        let rebuilt = Store::open(db2.path()).unwrap();
        crate::pipeline::replay::read_topic(&bus, &topics.parked, StartFrom::Earliest, |m| {
            crate::pipeline::follow::apply_state_message(&rebuilt, &topics, m)
        })
        .await
        .unwrap();
        assert_eq!(
            rebuilt.parked().unwrap().len(),
            1,
            "the parked change is lost"
        );
        assert_eq!(state.store().parked().unwrap().len(), 1);
    }

    /// A deletion in a state changelog is a tombstone (a null value), which a rebuild applies
    /// as the deletion; an empty value, as Couplet wrote deletions before, deletes too.
    #[tokio::test]
    async fn deletions_are_tombstones_and_rebuild_applies_them() {
        let (_dirs, bus, topics, state) = state_log(|t| t.checkpoints.clone()).await;
        let db2 = tempfile::tempdir().unwrap();
        let v = serde_json::json!({"at": 1});
        state.save_checkpoint("gone", &v).await.unwrap();
        state.delete_checkpoint("gone").await.unwrap();
        state.save_checkpoint("legacy", &v).await.unwrap();
        bus.produce(&topics.checkpoints, "legacy", Some(b""), &[])
            .await
            .unwrap();
        state.save_checkpoint("kept", &v).await.unwrap();

        let mut c = bus
            .subscribe(
                "read",
                std::slice::from_ref(&topics.checkpoints),
                StartFrom::Earliest,
            )
            .await
            .unwrap();
        let mut msgs = Vec::new();
        while msgs.len() < 5 {
            let got = c.poll(10, Duration::from_secs(5)).await.unwrap();
            assert!(!got.is_empty(), "only {} messages", msgs.len());
            msgs.extend(got);
        }
        assert_eq!(msgs[1].key, "gone");
        assert_eq!(msgs[1].value, None, "a deletion must be a null value");

        let rebuilt = Store::open(db2.path()).unwrap();
        for m in &msgs {
            crate::pipeline::follow::apply_state_message(&rebuilt, &topics, m).unwrap();
        }
        assert_eq!(rebuilt.checkpoint("gone").unwrap(), None);
        assert_eq!(rebuilt.checkpoint("legacy").unwrap(), None);
        assert_eq!(rebuilt.checkpoint("kept").unwrap(), Some(v));
    }
}
