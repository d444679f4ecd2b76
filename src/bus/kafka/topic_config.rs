//! The topic-level settings a [`Cleanup`] policy stands for on Kafka, set when a topic is
//! created and compared with an existing topic's.

use std::collections::BTreeMap;

use crate::bus::api::Cleanup;

/// Kafka's spelling of "no limit" for `retention.ms` and `retention.bytes`.
const UNLIMITED: &str = "-1";

/// The topic configuration entries for `cleanup`.
pub(super) fn settings(cleanup: &Cleanup) -> Vec<(&'static str, String)> {
    match *cleanup {
        Cleanup::Compact {
            tombstone_ms,
            dirty_percent,
        } => vec![
            ("cleanup.policy", "compact".to_string()),
            ("delete.retention.ms", tombstone_ms.to_string()),
            (
                "min.cleanable.dirty.ratio",
                format!("{:.2}", f64::from(dirty_percent.clamp(1, 100)) / 100.0),
            ),
        ],
        Cleanup::Delete {
            max_age_ms,
            max_bytes,
        } => {
            let or_unlimited =
                |n: Option<u64>| n.map_or_else(|| UNLIMITED.to_string(), |n| n.to_string());
            vec![
                ("cleanup.policy", "delete".to_string()),
                ("retention.ms", or_unlimited(max_age_ms)),
                ("retention.bytes", or_unlimited(max_bytes)),
            ]
        }
    }
}

/// The settings of `cleanup` that `existing` (a topic's described configuration) does not
/// have, as `name: existing → wanted`. A setting the broker does not report is not compared.
pub(super) fn differences(cleanup: &Cleanup, existing: &BTreeMap<String, String>) -> Vec<String> {
    settings(cleanup)
        .into_iter()
        .filter_map(|(name, wanted)| {
            let have = existing.get(name)?;
            let same = match (have.parse::<f64>(), wanted.parse::<f64>()) {
                (Ok(a), Ok(b)) => (a - b).abs() < 1e-9,
                _ => *have == wanted,
            };
            (!same).then(|| format!("{name}: {have} → {wanted}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_become_kafka_settings() {
        let c = settings(&Cleanup::Compact {
            tombstone_ms: 3_600_000,
            dirty_percent: 50,
        });
        assert_eq!(c[0], ("cleanup.policy", "compact".to_string()));
        assert_eq!(c[1], ("delete.retention.ms", "3600000".to_string()));
        assert_eq!(c[2], ("min.cleanable.dirty.ratio", "0.50".to_string()));
        let d = settings(&Cleanup::Delete {
            max_age_ms: Some(1000),
            max_bytes: None,
        });
        assert_eq!(d[1], ("retention.ms", "1000".to_string()));
        assert_eq!(d[2], ("retention.bytes", "-1".to_string()));
    }

    #[test]
    fn differences_name_the_setting() {
        let existing: BTreeMap<String, String> = [
            ("cleanup.policy", "delete"),
            ("retention.ms", "604800000"),
            ("min.cleanable.dirty.ratio", "0.5"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let d = differences(&Cleanup::COMPACT, &existing);
        assert_eq!(d, vec!["cleanup.policy: delete → compact".to_string()]);
        let keep = differences(
            &Cleanup::Delete {
                max_age_ms: Some(604_800_000),
                max_bytes: None,
            },
            &existing,
        );
        assert!(keep.is_empty(), "{keep:?}");
    }
}
