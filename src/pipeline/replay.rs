//! Replay and rebuild: re-driving events from a topic, and rebuilding the projection from
//! the log.

use std::sync::Arc;
use std::time::Duration;

use super::audit::{index_message, index_natural_keys};
use super::error::PipelineError;
use super::follow::apply_if_newer;
use crate::bus::{Bus, Message, StartFrom, Topics};
use crate::event::avro::{decode_change, decode_command, decode_outcome};
use crate::mapping::Catalogue;
use crate::metrics::metrics;
use crate::store::Store;
use crate::store::project::{apply_errors, plan_outcome};

/// Reads `topic` from `start` to its end, calling `f` for each message in offset order per
/// partition. The end offsets known when the read began are passed, then the read stops at the
/// first empty poll (some brokers, e.g. Tansu, report end offsets too low, so they are never
/// trusted alone). Returns the number of messages read.
pub async fn read_topic(
    bus: &Arc<dyn Bus>,
    topic: &str,
    start: StartFrom,
    mut f: impl FnMut(&Message) -> Result<(), PipelineError>,
) -> Result<u64, PipelineError> {
    let ends = bus.end_offsets(topic).await?;
    let known_ends = ends.iter().any(|e| *e > 0);
    let group = format!("couplet-read-{}", uuid::Uuid::new_v4());
    let mut consumer = bus.subscribe(&group, &[topic.to_string()], start).await?;
    let mut next: Vec<u64> = vec![0; ends.len()];
    let mut seen_any: Vec<bool> = vec![false; ends.len()];
    let mut empty = 0;
    let mut n = 0;
    loop {
        let reached = known_ends
            && ends
                .iter()
                .enumerate()
                .all(|(p, end)| *end == 0 || (seen_any[p] && next[p] >= *end));

        let batch = consumer.poll(1000, Duration::from_millis(500)).await?;
        if batch.is_empty() {
            empty += 1;
            // Past the known ends, one quiet poll ends the read; otherwise three (nothing from
            // `start` on, or ends the broker did not report).
            if ((reached || !known_ends) && empty >= 1) || empty >= 3 {
                break;
            }
            continue;
        }
        empty = 0;
        for m in &batch {
            let p = m.partition as usize;

            if p < next.len() {
                next[p] = m.offset + 1;
                seen_any[p] = true;
            }
            f(m)?;
            n += 1;
        }
    }
    Ok(n)
}

/// What a rebuild restored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildReport {
    /// State-changelog messages applied.
    pub state_messages: u64,
    /// Event messages indexed (changes, commands, outcomes).
    pub event_messages: u64,
    /// Couplings after the rebuild.
    pub couplings: usize,
    /// Checkpoints after the rebuild.
    pub checkpoints: usize,
    /// Parked changes after the rebuild.
    pub parked: usize,
    /// Listed errors after the rebuild.
    pub errors: usize,
}

/// Drops the projection and rebuilds it from the log: couplings, checkpoints and parked
/// changes from their changelogs; the audit index, the natural-key index and the errors list
/// from the event topics. The instance id is kept, so consumer groups resume where they were.
pub async fn rebuild(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    store: &Store,
    catalogue: &Catalogue,
) -> Result<RebuildReport, PipelineError> {
    let instance = store.checkpoint("_instance")?;
    store.clear_all()?;
    if let Some(i) = instance {
        store.save_checkpoint("_instance", &i)?;
    }
    let mut report = RebuildReport::default();
    for t in [
        &topics.couplings,
        &topics.checkpoints,
        &topics.parked,
        &topics.intents,
    ] {
        report.state_messages += read_topic(bus, t, StartFrom::Earliest, |m| {
            apply_if_newer(store, topics, m).map(|_| ())
        })
        .await?;
    }
    for t in [&topics.changes, &topics.commands, &topics.outcomes] {
        report.event_messages += read_topic(bus, t, StartFrom::Earliest, |m| {
            index_message(store, topics, m)?;
            index_natural_keys(store, catalogue, topics, m)?;
            if m.topic == topics.outcomes
                && let Ok(o) = decode_outcome(m.bytes())
            {
                let mut plan = plan_outcome(store, &o, None)?;
                plan.put = None;
                plan.remove = None;
                apply_errors(store, &plan)?;
            }
            Ok(())
        })
        .await?;
    }
    store.mark_built(true)?;
    store.flush()?;
    report.couplings = store.couplings(None)?.len();
    report.checkpoints = store
        .checkpoints()?
        .iter()
        .filter(|(n, _)| !n.starts_with('_'))
        .count();
    report.parked = store.parked()?.len();
    report.errors = store.errors()?.len();
    Ok(report)
}

/// Which events to replay.
#[derive(Debug, Clone)]
pub struct ReplayFilter {
    /// Only this mapping.
    pub mapping: Option<String>,
    /// Only this record key.
    pub record: Option<String>,
}

/// Re-drives events of `topic` (changes or commands) from `start`: each matching message is
/// appended again to the same topic, so the running engine transforms and applies it once
/// more. Writes are idempotent, so a replay never duplicates a record. Returns (read,
/// re-driven).
pub async fn replay(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    topic: &str,
    start: StartFrom,
    filter: &ReplayFilter,
    mut progress: impl FnMut(u64, u64),
) -> Result<(u64, u64), PipelineError> {
    if topic != topics.changes && topic != topics.commands {
        return Err(PipelineError::Setup(format!(
            "replay re-drives '{}' or '{}', not '{topic}'",
            topics.changes, topics.commands
        )));
    }
    let mut picked: Vec<Message> = Vec::new();
    let read = read_topic(bus, topic, start, |m| {
        let mapping = if m.topic == topics.changes {
            decode_change(m.bytes()).ok().map(|e| e.mapping)
        } else {
            decode_command(m.bytes()).ok().map(|c| c.mapping)
        };
        let Some(mapping) = mapping else {
            return Ok(());
        };
        if filter.mapping.as_ref().is_some_and(|want| *want != mapping)
            || filter.record.as_ref().is_some_and(|r| *r != m.key)
        {
            return Ok(());
        }
        picked.push(m.clone());
        Ok(())
    })
    .await?;
    let total = picked.len() as u64;
    for (i, m) in picked.iter().enumerate() {
        // A replayed change is never forced again: `sync-now` overwrote the target once, a
        // replay must not write those (by now perhaps old) values over newer ones.
        let mut headers: Vec<(String, String)> = m
            .headers
            .iter()
            .filter(|(k, _)| k != super::force::FORCE_HEADER)
            .cloned()
            .collect();
        headers.push((
            "couplet-replay".into(),
            format!("{}/{}/{}", m.topic, m.partition, m.offset),
        ));
        bus.produce(topic, &m.key, m.value.as_deref(), &headers)
            .await?;
        metrics().replayed.with_label_values(&[topic]).inc();
        progress(i as u64 + 1, total);
    }
    Ok((read, total))
}
