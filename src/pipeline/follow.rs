//! Following the state changelogs: applies couplings, checkpoints, parked changes and create
//! intents that other instances appended (couplings are a global table), and this instance's
//! own whose projection write was lost (a crash between the append and sled reaching disk);
//! and rebuilds them on `replay --rebuild`.

use super::error::PipelineError;
use crate::bus::{Message, Topics};
use crate::event::Side;
use crate::event::state_codec::{decode_checkpoint, decode_coupling, decode_intent, decode_parked};
use crate::store::Store;

/// The state a changelog message carries; `None` for a deletion. A deletion is a tombstone (a
/// null value); an empty value is one too, as Couplet wrote deletions before it wrote
/// tombstones, and no state is ever encoded as nothing.
pub fn state_value(msg: &Message) -> Option<&[u8]> {
    msg.value.as_deref().filter(|v| !v.is_empty())
}

/// Applies one state-changelog message unless the projection already holds its value or a
/// newer one for its key ([`Store::reflects`]), and notes its position. True when applied.
/// Barrier markers are skipped.
pub fn apply_if_newer(
    store: &Store,
    topics: &Topics,
    msg: &Message,
) -> Result<bool, PipelineError> {
    if super::barrier::is_barrier(msg)
        || store.reflects(&msg.topic, &msg.key, msg.partition, msg.offset)?
    {
        return Ok(false);
    }
    apply_state_message(store, topics, msg)?;
    store.note_state_offset(&msg.topic, &msg.key, msg.partition, msg.offset)?;
    Ok(true)
}

/// Applies one state-changelog message to the local store. Undecodable values are reported
/// and skipped (the topic is Couplet's own; a rebuild starts over from it).
pub fn apply_state_message(
    store: &Store,
    topics: &Topics,
    msg: &Message,
) -> Result<(), PipelineError> {
    if super::barrier::is_barrier(msg) {
        return Ok(());
    }
    let value = state_value(msg);
    let tomb = value.is_none();
    let value = value.unwrap_or_default();
    if msg.topic == topics.intents {
        if tomb {
            store.remove_intent_by_log_key(&msg.key)?;
        } else {
            match decode_intent(value) {
                Ok(i) => store.put_intent(&i)?,
                Err(e) => {
                    tracing::error!(key = %msg.key, offset = msg.offset, error = %e, "Undecodable create intent in the changelog; skipped.")
                }
            }
        }
    } else if msg.topic == topics.couplings {
        if tomb {
            if let Some((mapping, crm_id)) = msg.key.split_once('/') {
                store.remove_coupling(mapping, Side::Crm, crm_id)?;
            }
        } else {
            match decode_coupling(value) {
                Ok(c) => store.put_coupling(&c)?,
                Err(e) => {
                    tracing::error!(key = %msg.key, offset = msg.offset, error = %e, "Undecodable coupling in the changelog; skipped.")
                }
            }
        }
    } else if msg.topic == topics.checkpoints {
        if tomb {
            store.delete_checkpoint(&msg.key)?;
        } else {
            match decode_checkpoint(value) {
                Ok((name, v)) => store.save_checkpoint(&name, &v)?,
                Err(e) => {
                    tracing::error!(key = %msg.key, offset = msg.offset, error = %e, "Undecodable checkpoint in the changelog; skipped.")
                }
            }
        }
    } else if msg.topic == topics.parked {
        if tomb {
            if let Some((waiting_for, slot)) = msg.key.split_once('|') {
                for p in store.take_parked(waiting_for)? {
                    if p.slot() != slot {
                        store.park(&p)?;
                    }
                }
            }
        } else {
            match decode_parked(value) {
                Ok(p) => store.park(&p)?,
                Err(e) => {
                    tracing::error!(key = %msg.key, offset = msg.offset, error = %e, "Undecodable parked change in the changelog; skipped.")
                }
            }
        }
    }
    Ok(())
}
