//! Tests of the embedded log: the shared contract plus what only a local log can show.

use std::time::{Duration, Instant};

use super::EmbeddedBus;
use crate::bus::api::{Bus, BusError, StartFrom, TopicSpec};
use crate::bus::{contract, contract_cleanup};

fn open() -> (tempfile::TempDir, EmbeddedBus) {
    let dir = tempfile::tempdir().unwrap();
    let bus = EmbeddedBus::open(dir.path()).unwrap();
    (dir, bus)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_scenarios() {
    let (_d, bus) = open();
    contract::run_all(&bus, "couplet").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_cleanup_scenarios() {
    let (_d, bus) = open();
    let clean = |ahead: Duration| {
        let at = chrono::Utc::now() + chrono::Duration::from_std(ahead).unwrap();
        bus.clean_as_of(at).unwrap();
    };
    contract_cleanup::run_cleanup(&bus, "couplet", Some(&clean)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_messages_commits_and_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let t = "couplet.changes".to_string();
    let produced = {
        let bus = EmbeddedBus::open(dir.path()).unwrap();
        bus.ensure_topics(&[TopicSpec::new(&t, 3, false)])
            .await
            .unwrap();
        let mut produced = Vec::new();
        for i in 0..10 {
            let hdr = vec![("i".to_string(), i.to_string())];
            produced.push(
                bus.produce(&t, &format!("k{i}"), Some(b"v"), &hdr)
                    .await
                    .unwrap(),
            );
        }
        let mut c = bus
            .subscribe("g", std::slice::from_ref(&t), StartFrom::Committed)
            .await
            .unwrap();
        let msgs = c.poll(100, Duration::from_secs(1)).await.unwrap();
        assert_eq!(msgs.len(), 10);
        c.commit(&t, 1, 2).await.unwrap();
        produced
    };
    let bus = EmbeddedBus::open(dir.path()).unwrap();
    assert_eq!(bus.partitions(&t).await.unwrap(), 3);
    // Re-ensuring with another shape leaves the topic as it is.
    bus.ensure_topics(&[TopicSpec::new(&t, 8, false)])
        .await
        .unwrap();
    assert_eq!(bus.partitions(&t).await.unwrap(), 3);
    let mut ends = vec![0u64; 3];
    for p in &produced {
        ends[p.partition as usize] += 1;
    }
    assert_eq!(bus.end_offsets(&t).await.unwrap(), ends);
    assert_eq!(
        bus.committed("g", &t).await.unwrap(),
        vec![None, Some(2), None]
    );
    // Same key, same partition after the restart; the offset continues.
    let again = bus.produce(&t, "k0", Some(b"v2"), &[]).await.unwrap();
    assert_eq!(again.partition, produced[0].partition);
    assert_eq!(again.offset, Some(ends[again.partition as usize]));
    let mut c = bus
        .subscribe("h", std::slice::from_ref(&t), StartFrom::Earliest)
        .await
        .unwrap();
    let mut all = Vec::new();
    while all.len() < 11 {
        let got = c.poll(100, Duration::from_secs(1)).await.unwrap();
        assert!(!got.is_empty());
        all.extend(got);
    }
    let m = all.iter().find(|m| m.key == "k3").unwrap();
    assert_eq!(m.headers, vec![("i".to_string(), "3".to_string())]);
}

#[tokio::test]
async fn unknown_topics_are_reported() {
    let (_d, bus) = open();
    let err = bus
        .subscribe("g", &["nope".to_string()], StartFrom::Earliest)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, BusError::Topic { ref topic, .. } if topic == "nope"));
    assert!(bus.end_offsets("nope").await.is_err());
    assert!(
        bus.ensure_topics(&[TopicSpec::new("zero", 0, false)])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn polls_are_fair_between_partitions() {
    let (_d, bus) = open();
    let t = "fair".to_string();
    bus.ensure_topics(&[TopicSpec::new(&t, 2, false)])
        .await
        .unwrap();
    // Find two keys on different partitions, then load one partition far more.
    let p0 = bus
        .produce(&t, "a", Some(b"x"), &[])
        .await
        .unwrap()
        .partition;
    let other = (0..100)
        .map(|i| format!("b{i}"))
        .find(|k| super::record::partition_for(k, 2) != p0)
        .unwrap();
    for _ in 0..50 {
        bus.produce(&t, "a", Some(b"x"), &[]).await.unwrap();
    }
    for _ in 0..5 {
        bus.produce(&t, &other, Some(b"y"), &[]).await.unwrap();
    }
    let mut c = bus
        .subscribe("g", std::slice::from_ref(&t), StartFrom::Earliest)
        .await
        .unwrap();
    let msgs = c.poll(10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(msgs.len(), 10);
    assert_eq!(msgs.iter().filter(|m| m.key == other).count(), 5);
}

/// Prints sequential and concurrent produce throughput (debug build; see the report).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_throughput() {
    let (_d, bus) = open();
    let t = "perf".to_string();
    bus.ensure_topics(&[TopicSpec::new(&t, 4, false)])
        .await
        .unwrap();
    let value = vec![7u8; 512];
    let n = 300;
    let start = Instant::now();
    for i in 0..n {
        bus.produce(&t, &format!("k{i}"), Some(&value), &[])
            .await
            .unwrap();
    }
    let seq = start.elapsed();
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let bus = bus.clone();
            let (t, value) = (t.clone(), value.clone());
            tokio::spawn(async move { bus.produce(&t, &format!("k{i}"), Some(&value), &[]).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let conc = start.elapsed();
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "produce: sequential {:.0} msg/s, {n} concurrent {:.0} msg/s",
        rate(seq),
        rate(conc)
    );
    assert_eq!(
        bus.end_offsets(&t).await.unwrap().iter().sum::<u64>(),
        2 * n as u64
    );
}

/// A log with `n` messages on topic `t`, closed.
async fn filled(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bus = EmbeddedBus::open(dir.path()).unwrap();
    bus.ensure_topics(&[TopicSpec::new("t", 2, false)])
        .await
        .unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(200) {
        let sends = chunk.iter().map(|i| {
            let key = format!("k{i}");
            let bus = bus.clone();
            async move { bus.produce("t", &key, Some(&[7u8; 100]), &[]).await }
        });
        for r in futures::future::join_all(sends).await {
            r.unwrap();
        }
    }
    dir
}

fn cut(dir: &std::path::Path, fraction: f64) {
    let db = dir.join("db");
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len((len as f64 * fraction) as u64).unwrap();
}

/// The error opening a damaged log names the directory, what is lost and what to do, and
/// is never a panic.
fn assert_damaged(dir: &std::path::Path) {
    let opened = std::panic::catch_unwind(|| EmbeddedBus::open(dir));
    let err = match opened {
        Ok(Ok(_)) => panic!("a damaged log opened"),
        Ok(Err(e)) => e,
        Err(_) => panic!("opening a damaged log panicked"),
    };
    assert!(matches!(err, BusError::Damaged { .. }), "{err:?}");
    let text = err.to_string();
    for part in [
        &dir.display().to_string(),
        "couplings, checkpoints",
        "restore",
        ".damaged",
        "full-sync",
    ] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_cut_to_nothing_is_damage_not_a_new_log() {
    let dir = filled(10).await;
    cut(dir.path(), 0.0);
    assert_damaged(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_cut_in_the_middle_is_damage_not_a_panic() {
    let dir = filled(20_000).await;
    cut(dir.path(), 0.8);
    assert_damaged(dir.path());
}

/// Bytes of the files under `dir`.
fn du(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Writes `rounds` × 100 keys (1 KiB values) to a compacted topic, cleaning every 10
/// rounds when `clean`; returns the data directory's size at the end.
async fn rewrite_keys(rounds: usize, clean: bool) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let bus = EmbeddedBus::open(dir.path()).unwrap();
    bus.ensure_topics(&[TopicSpec::new("state", 1, true)])
        .await
        .unwrap();
    let value = vec![7u8; 1024];
    for round in 0..rounds {
        let sends = (0..100).map(|k| {
            let (bus, value) = (bus.clone(), value.clone());
            async move {
                bus.produce("state", &format!("key-{k}"), Some(&value), &[])
                    .await
            }
        });
        for r in futures::future::join_all(sends).await {
            r.unwrap();
        }
        if clean && round % 10 == 9 {
            bus.clean_as_of(chrono::Utc::now()).unwrap();
        }
    }
    let size = du(dir.path());
    eprintln!(
        "{} rounds of 100 keys × 1 KiB, {}: {} KiB on disk (sled counts {} KiB)",
        rounds,
        if clean {
            "compacted"
        } else {
            "never compacted"
        },
        size / 1024,
        bus.size_on_disk().unwrap() / 1024
    );
    size
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_the_same_keys_keeps_the_disk_bounded() {
    // 100 keys of 1 KiB: 100 KiB of live data, rewritten 300 times (30 MiB written).
    let compacted = rewrite_keys(300, true).await;
    let compacted_longer = rewrite_keys(600, true).await;
    let never = rewrite_keys(300, false).await;
    assert!(
        compacted_longer < compacted + compacted / 2,
        "twice the rewrites must not grow the compacted log: {compacted} → {compacted_longer}"
    );
    assert!(
        compacted * 3 < never,
        "compaction must reclaim the space: {compacted} compacted, {never} not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_emptied_by_retention_keeps_its_end_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let retained = TopicSpec::new("events", 1, false).with_cleanup(crate::bus::Cleanup::Delete {
        max_age_ms: Some(1000),
        max_bytes: None,
    });
    {
        let bus = EmbeddedBus::open(dir.path()).unwrap();
        bus.ensure_topics(std::slice::from_ref(&retained))
            .await
            .unwrap();
        for i in 0..5 {
            bus.produce("events", &format!("k{i}"), Some(b"v"), &[])
                .await
                .unwrap();
        }
        let later = chrono::Utc::now() + chrono::Duration::seconds(10);
        assert_eq!(bus.clean_as_of(later).unwrap(), (0, 5));
    }
    let bus = EmbeddedBus::open(dir.path()).unwrap();
    assert_eq!(bus.start_offsets("events").await.unwrap(), vec![5]);
    assert_eq!(bus.end_offsets("events").await.unwrap(), vec![5]);
    let next = bus.produce("events", "k5", Some(b"v"), &[]).await.unwrap();
    assert_eq!(next.offset, Some(5), "offsets are never reused");
}
