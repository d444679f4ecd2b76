//! The audit indexer: every change, command and outcome, indexed by the records it concerns.

use crate::bus::{Message, Topics};
use crate::event::avro::{decode_change, decode_command, decode_outcome};
use crate::store::{AuditEntry, Store, StoreError};

/// Indexes one message of the changes, commands or outcomes topic. Messages that do not
/// decode are skipped here (the stage that owns them dead-letters them).
pub fn index_message(store: &Store, topics: &Topics, msg: &Message) -> Result<(), StoreError> {
    let entry = |kind: &str, mapping: &str, correlation: String, summary: String| AuditEntry {
        at: msg.timestamp,
        kind: kind.to_string(),
        topic: msg.topic.clone(),
        partition: msg.partition,
        offset: msg.offset,
        mapping: mapping.to_string(),
        correlation_id: correlation,
        summary,
    };
    if msg.topic == topics.changes {
        if let Ok(ev) = decode_change(msg.bytes()) {
            let summary = format!(
                "captured {:?} of {} (modified {}, {} fields{})",
                ev.op,
                ev.source,
                ev.modified_on
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| "-".into()),
                ev.fields.len(),
                if ev.redrive > 0 {
                    format!(", re-driven {}x", ev.redrive)
                } else {
                    String::new()
                }
            ) + &super::force::forced_by(msg)
                .map(|by| format!(" forced by {by}"))
                .unwrap_or_default();
            store.append_audit(
                &ev.source.to_string(),
                &entry(
                    "change",
                    &ev.mapping,
                    ev.correlation_id.to_string(),
                    summary,
                ),
            )?;
        }
    } else if msg.topic == topics.commands {
        if let Ok(c) = decode_command(msg.bytes()) {
            let target = c
                .target_key()
                .map(|k| k.to_string())
                .unwrap_or_else(|| format!("{}/{} (new)", c.target_system, c.target_entity));
            let mut cols: Vec<&String> = c.fields.keys().collect();
            cols.sort();
            let summary = format!(
                "command {:?} {target}: {}",
                c.op,
                cols.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let e = entry("command", &c.mapping, c.correlation_id.to_string(), summary);
            store.append_audit(&c.source.to_string(), &e)?;
            if let Some(k) = c.target_key() {
                store.append_audit(&k.to_string(), &e)?;
            }
        }
    } else if msg.topic == topics.outcomes
        && let Ok(o) = decode_outcome(msg.bytes())
    {
        let target = o
            .target_key()
            .map(|k| k.to_string())
            .unwrap_or_else(|| format!("{}/{}", o.target_system, o.target_entity));
        let summary = format!(
            "{} {} -> {target}{}",
            o.status.as_str(),
            o.source,
            o.reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        let e = entry("outcome", &o.mapping, o.correlation_id.to_string(), summary);
        store.append_audit(&o.source.to_string(), &e)?;
        if let Some(k) = o.target_key() {
            store.append_audit(&k.to_string(), &e)?;
        }
    }
    Ok(())
}

/// Records the natural keys of a captured record (e.g. a customer's number), so lookups by
/// number resolve on every instance, whichever instance processed the record. The audit
/// indexer of each instance reads every change, so the index is a global table.
pub fn index_natural_keys(
    store: &Store,
    catalogue: &crate::mapping::Catalogue,
    topics: &Topics,
    msg: &Message,
) -> Result<(), StoreError> {
    if msg.topic != topics.changes {
        return Ok(());
    }
    if let Ok(ev) = decode_change(msg.bytes())
        && ev.op == crate::event::ChangeOp::Upsert
        && let Some(m) = catalogue.get(&ev.mapping)
    {
        crate::store::project::index_record(
            store,
            catalogue,
            m,
            ev.source.system,
            &ev.source.id,
            &ev.fields,
        )?;
    }
    Ok(())
}
