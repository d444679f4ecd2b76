//! The cleanup part of the [`Bus`] contract: compaction (the newest value per key, tombstones
//! kept for their delete retention then removed, offsets unchanged) and retention (the log
//! start moves; a consumer below it resumes there).
//!
//! A backend runs its cleaning on its own schedule; the scenarios need to make it run a pass
//! now, as if some time had passed ([`CleanNow`]). The embedded log can; a Kafka broker
//! cannot be asked to (Kafka cleans when segments roll, every
//! `log.retention.check.interval.ms`), and Tansu 0.6, the test broker, does not apply
//! `cleanup.policy` on its in-memory storage at all: on Kafka these scenarios are skipped,
//! saying so, and only the topic settings are checked (tests/kafka).

use std::time::Duration;

use super::api::{Bus, Cleanup, StartFrom, TopicSpec};
use super::contract::{assert_quiet, drain, group, offsets, produce};

/// Runs a cleaning pass of the backend now, as if the given time had passed since.
pub type CleanNow<'a> = &'a (dyn Fn(Duration) + Sync);

/// Runs the cleanup scenarios; `clean` is `None` for a backend that cannot be made to clean
/// now (the skip is printed).
pub async fn run_cleanup(bus: &dyn Bus, prefix: &str, clean: Option<CleanNow<'_>>) {
    let Some(clean) = clean else {
        eprintln!(
            "contract: the {} backend cleans on its own schedule; the compaction and \
             retention scenarios are skipped",
            bus.backend()
        );
        return;
    };
    compaction_keeps_the_newest_value_per_key(bus, prefix, clean).await;
    retention_moves_the_log_start(bus, prefix, clean).await;
    size_retention_keeps_the_newest(bus, prefix, clean).await;
}

async fn topic_with(bus: &dyn Bus, prefix: &str, scenario: &str, cleanup: Cleanup) -> String {
    let name = format!("{prefix}.{scenario}.{}", uuid::Uuid::new_v4().simple());
    bus.ensure_topics(&[TopicSpec::new(&name, 1, false).with_cleanup(cleanup)])
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    name
}

async fn tombstone(bus: &dyn Bus, topic: &str, key: &str) -> u64 {
    bus.produce(topic, key, None, &[])
        .await
        .unwrap_or_else(|e| panic!("producing to {topic}: {e}"))
        .offset
        .unwrap_or_else(|| panic!("a tombstone on {topic} was acknowledged without an offset"))
}

/// Everything from the log start, read by a fresh group.
async fn read_all(bus: &dyn Bus, topic: &str, n: usize) -> Vec<(u64, String, Option<Vec<u8>>)> {
    let mut c = bus
        .subscribe(
            &group("read-all"),
            &[topic.to_string()],
            StartFrom::Earliest,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let msgs = drain(c.as_mut(), n).await;
    assert_quiet(c.as_mut()).await;
    msgs.into_iter()
        .map(|m| (m.offset, m.key, m.value))
        .collect()
}

/// Superseded values go, the newest per key stays at its offset; a tombstone stays for its
/// delete retention, then goes; offsets are never reused; a group resumes across the gaps.
pub async fn compaction_keeps_the_newest_value_per_key(
    bus: &dyn Bus,
    prefix: &str,
    clean: CleanNow<'_>,
) {
    let t = topic_with(
        bus,
        prefix,
        "compact",
        Cleanup::Compact {
            tombstone_ms: 60_000,
            dirty_percent: 1,
        },
    )
    .await;
    for (k, v) in [("a", "a1"), ("b", "b1"), ("a", "a2"), ("c", "c1")] {
        produce(bus, &t, k, v).await;
    }
    assert_eq!(tombstone(bus, &t, "b").await, 4);
    produce(bus, &t, "a", "a3").await;
    produce(bus, &t, "d", "d1").await;
    let g = group("compact");
    {
        let mut c = bus
            .subscribe(&g, std::slice::from_ref(&t), StartFrom::Committed)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drain(c.as_mut(), 2).await;
        c.commit(&t, 0, 1).await.unwrap_or_else(|e| panic!("{e}"));
    }
    clean(Duration::ZERO);
    let v = |s: &str| Some(s.as_bytes().to_vec());
    assert_eq!(
        read_all(bus, &t, 4).await,
        vec![
            (3, "c".to_string(), v("c1")),
            (4, "b".to_string(), None),
            (5, "a".to_string(), v("a3")),
            (6, "d".to_string(), v("d1")),
        ],
        "compaction keeps the newest value per key, at its offset, and a fresh tombstone"
    );
    assert_eq!(bus.end_offsets(&t).await.unwrap_or_default(), vec![7]);
    assert_eq!(bus.start_offsets(&t).await.unwrap_or_default(), vec![0]);
    {
        // The group committed 1 (now a gap): it resumes at the next message kept.
        let mut c = bus
            .subscribe(&g, std::slice::from_ref(&t), StartFrom::Committed)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(offsets(&drain(c.as_mut(), 4).await)[0], (0, 3));
    }
    clean(Duration::from_secs(120));
    let kept: Vec<u64> = read_all(bus, &t, 3).await.iter().map(|m| m.0).collect();
    assert_eq!(
        kept,
        vec![3, 5, 6],
        "the tombstone is gone after its retention"
    );
    assert_eq!(
        produce(bus, &t, "e", "e1").await.offset,
        7,
        "offsets are never reused"
    );
}

/// Messages past the age limit are deleted and the log start moves; a group whose committed
/// offset is below it resumes at the log start, and `Earliest` reads from there.
pub async fn retention_moves_the_log_start(bus: &dyn Bus, prefix: &str, clean: CleanNow<'_>) {
    let t = topic_with(
        bus,
        prefix,
        "retention",
        Cleanup::Delete {
            max_age_ms: Some(60_000),
            max_bytes: None,
        },
    )
    .await;
    for i in 0..5 {
        produce(bus, &t, &format!("k{i}"), "old").await;
    }
    let g = group("retention");
    {
        let mut c = bus
            .subscribe(&g, std::slice::from_ref(&t), StartFrom::Committed)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drain(c.as_mut(), 5).await;
        c.commit(&t, 0, 2).await.unwrap_or_else(|e| panic!("{e}"));
    }
    clean(Duration::ZERO);
    assert_eq!(
        bus.start_offsets(&t).await.unwrap_or_default(),
        vec![0],
        "young messages stay"
    );
    clean(Duration::from_secs(120));
    assert_eq!(bus.start_offsets(&t).await.unwrap_or_default(), vec![5]);
    assert_eq!(bus.end_offsets(&t).await.unwrap_or_default(), vec![5]);
    assert_eq!(produce(bus, &t, "k5", "new").await.offset, 5);
    let mut c = bus
        .subscribe(&g, std::slice::from_ref(&t), StartFrom::Committed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got = drain(c.as_mut(), 1).await;
    assert_eq!(offsets(&got), vec![(0, 5)], "resumes at the log start");
    assert_quiet(c.as_mut()).await;
    drop(c);
    let all = read_all(bus, &t, 1).await;
    assert_eq!(all[0].0, 5, "Earliest is the log start");
}

/// With a size limit, the oldest messages go until the partition fits.
pub async fn size_retention_keeps_the_newest(bus: &dyn Bus, prefix: &str, clean: CleanNow<'_>) {
    let t = topic_with(
        bus,
        prefix,
        "size",
        Cleanup::Delete {
            max_age_ms: None,
            max_bytes: Some(1000),
        },
    )
    .await;
    let value = "x".repeat(200);
    for i in 0..10 {
        produce(bus, &t, &format!("k{i}"), &value).await;
    }
    clean(Duration::ZERO);
    let start = bus.start_offsets(&t).await.unwrap_or_default();
    assert!(
        start[0] >= 5 && start[0] < 10,
        "10 messages of 200 bytes under a 1000-byte limit: the log start is {start:?}"
    );
    let kept = read_all(bus, &t, (10 - start[0]) as usize).await;
    assert_eq!(kept.last().map(|m| m.0), Some(9), "the newest stay");
}
