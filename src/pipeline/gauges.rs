//! The gauges the engine refreshes: couplings and parked records per mapping, consumer lag,
//! checkpoint age.

use super::parts::EngineParts;
use super::stages::{APPLY_GROUP, TRANSFORM_GROUP};
use crate::metrics::metrics;

/// Sets every gauge from the projection and the log.
pub(crate) async fn update_gauges(p: &EngineParts) {
    let m = metrics();
    for map in p.catalogue.ordered() {
        if let Ok(n) = p.store.coupling_count(&map.name) {
            m.couplings.with_label_values(&[&map.name]).set(n as i64);
        }
    }
    if let Ok(parked) = p.store.parked() {
        for map in p.catalogue.ordered() {
            let n = parked.iter().filter(|e| e.mapping == map.name).count();
            m.parked.with_label_values(&[&map.name]).set(n as i64);
        }
    }
    for (group, topic) in [
        (p.topics.group(TRANSFORM_GROUP), &p.topics.changes),
        (p.topics.group(APPLY_GROUP), &p.topics.commands),
    ] {
        if let (Ok(ends), Ok(done)) = (
            p.bus.end_offsets(topic).await,
            p.bus.committed(&group, topic).await,
        ) {
            for (i, end) in ends.iter().enumerate() {
                let lag = end.saturating_sub(done.get(i).copied().flatten().unwrap_or(0));
                m.consumer_lag
                    .with_label_values(&[group.as_str(), topic.as_str(), &i.to_string()])
                    .set(lag as i64);
            }
        }
    }
    if let Ok(cks) = p.store.checkpoints() {
        for (name, v) in cks {
            // name = capture/<mapping>/<system>/<entity>
            let parts: Vec<&str> = name.splitn(4, '/').collect();
            if let ([_, mapping, system, entity], Some(at)) = (
                parts.as_slice(),
                crate::capture::emit::parse_time(v.get("at")),
            ) {
                let age = (chrono::Utc::now() - at).num_milliseconds() as f64 / 1000.0;
                m.checkpoint_age
                    .with_label_values(&[system, entity, mapping])
                    .set(age.max(0.0));
            }
        }
    }
}
