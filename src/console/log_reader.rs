//! Reading back the messages a record's audit trail points at (topic, partition, offset), to
//! show what each change carried and what each write changed, field by field.
//!
//! The console reads with a consumer group of its own that commits nothing, from the lowest
//! offset it needs, and stops when it has every message, has caught up with the log, or has
//! spent [`READ_BUDGET`]: a page never waits long for an old trail.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bus::{Bus, Message, StartFrom, Topics};
use crate::event::Fields;

/// The most time one page spends reading the log.
pub const READ_BUDGET: Duration = Duration::from_secs(4);
/// The most messages one page reads.
const READ_CAP: usize = 200_000;

/// A message's position.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
}

/// Reads the messages at `wanted` (those it finds within the budget).
pub async fn read_at(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    wanted: &[Position],
) -> HashMap<Position, Message> {
    let mut by_topic: BTreeMap<&str, Vec<&Position>> = BTreeMap::new();
    for p in wanted {
        by_topic.entry(p.topic.as_str()).or_default().push(p);
    }
    let deadline = Instant::now() + READ_BUDGET;
    let mut out = HashMap::new();
    for (topic, list) in by_topic {
        match read_topic_at(bus, topics, topic, &list, deadline).await {
            Ok(found) => out.extend(found),
            Err(e) => {
                tracing::warn!(%topic, error = %e, "The console could not read the log for a trail.");
            }
        }
    }
    out
}

async fn read_topic_at(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    topic: &str,
    list: &[&Position],
    deadline: Instant,
) -> Result<HashMap<Position, Message>, crate::bus::BusError> {
    let mut want: HashSet<(u32, u64)> = list.iter().map(|p| (p.partition, p.offset)).collect();
    let Some(from) = list.iter().map(|p| p.offset).min() else {
        return Ok(HashMap::new());
    };
    let group = topics.group(&format!("console-{}", uuid::Uuid::new_v4()));
    let mut consumer = bus
        .subscribe(&group, &[topic.to_string()], StartFrom::Offset(from))
        .await?;
    let mut out = HashMap::new();
    let (mut read, mut idle) = (0usize, 0u32);
    let mut seen: HashMap<u32, u64> = HashMap::new();
    while !want.is_empty() && Instant::now() < deadline && read < READ_CAP && idle < 3 {
        let batch = consumer.poll(1024, Duration::from_millis(200)).await?;
        if batch.is_empty() {
            idle += 1;
            continue;
        }
        idle = 0;
        read += batch.len();
        for m in batch {
            let max = seen.entry(m.partition).or_insert(m.offset);
            *max = (*max).max(m.offset);
            if want.remove(&(m.partition, m.offset)) {
                out.insert(
                    Position {
                        topic: topic.to_string(),
                        partition: m.partition,
                        offset: m.offset,
                    },
                    m,
                );
            }
        }
        // A wanted offset a partition has passed without it is gone (retention): stop
        // waiting for it.
        want.retain(|(part, off)| seen.get(part).is_none_or(|max| max < off));
    }
    Ok(out)
}

/// One field's change.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Its value before (None: it was not there).
    pub before: Option<Value>,
    /// Its value after (None: it is gone).
    pub after: Option<Value>,
}

/// True for fields that are metadata, not data (`@odata.etag`, `@odata.context`).
fn is_meta(field: &str) -> bool {
    field.starts_with('@') || field.contains("@odata.")
}

/// The fields that differ between `before` (None: everything is new) and `after`, sorted by
/// name; fields missing from `after` count as removed only when `before` is known.
pub fn diff(before: Option<&Fields>, after: &Fields) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (k, v) in after {
        if is_meta(k) {
            continue;
        }
        let old = before.and_then(|b| b.get(k));
        if old != Some(v) {
            out.push(FieldChange {
                field: k.clone(),
                before: old.cloned(),
                after: Some(v.clone()),
            });
        }
    }
    if let Some(b) = before {
        for (k, v) in b {
            if !is_meta(k) && !after.contains_key(k) {
                out.push(FieldChange {
                    field: k.clone(),
                    before: Some(v.clone()),
                    after: None,
                });
            }
        }
    }
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// A value as the pages show it: strings bare, the rest as JSON, `—` for none.
pub fn show(v: &Option<Value>) -> String {
    match v {
        None => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(v: Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_diff_names_changed_added_and_removed_fields() {
        let before = f(json!({"name": "A", "phone": "1", "city": "X", "@odata.etag": "W/\"1\""}));
        let after =
            f(json!({"name": "B", "phone": "1", "country": "NO", "@odata.etag": "W/\"2\""}));
        let d = diff(Some(&before), &after);
        let names: Vec<&str> = d.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["city", "country", "name"]);
        assert_eq!(d[0].after, None);
        assert_eq!(d[1].before, None);
        assert_eq!(show(&d[2].before), "A");
        assert_eq!(show(&d[2].after), "B");
        // Without a previous version everything is new and nothing is removed.
        assert_eq!(diff(None, &after).len(), 3);
    }
}
