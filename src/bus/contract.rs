//! Behaviour every [`Bus`] backend must have, as scenarios runnable against any of them.
//!
//! Each scenario creates its own topics (named `<prefix>.<scenario>.<uuid>`) and groups, so
//! they can run against a shared broker. They panic with a message on the first violation,
//! like assertions in a test.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::Utc;

use super::api::{Bus, BusError, Consumer, Message, StartFrom, TopicSpec};

/// How long a scenario waits for something that should happen (generous for real brokers).
const PATIENCE: Duration = Duration::from_secs(20);

/// Runs every scenario. The end-offset assertions run only when [`end_offsets_hold`] says
/// the backend reports end offsets (some Kafka-protocol brokers do not); a skip is printed.
pub async fn run_all(bus: &dyn Bus, prefix: &str) {
    ordering_per_key(bus, prefix).await;
    if end_offsets_hold(bus, prefix).await {
        dense_offsets_under_concurrent_producers(bus, prefix).await;
    } else {
        eprintln!(
            "contract: the {} backend reports wrong end offsets (high watermarks) here; \
             running dense_offsets_under_concurrent_producers without its end-offset check",
            bus.backend()
        );
        dense_offsets(bus, prefix).await;
    }
    commit_and_resume(bus, prefix).await;
    group_shares_partitions(bus, prefix).await;
    start_from_offset_and_timestamp(bus, prefix).await;
    poll_wakes_on_produce(bus, prefix).await;
    unknown_topic_is_an_error(bus, prefix).await;
    produce_to_a_chosen_partition(bus, prefix).await;
    a_tombstone_is_null_not_empty(bus, prefix).await;
}

/// A fresh topic with `partitions` partitions.
async fn topic(bus: &dyn Bus, prefix: &str, scenario: &str, partitions: u32) -> String {
    let name = format!("{prefix}.{scenario}.{}", uuid::Uuid::new_v4().simple());
    bus.ensure_topics(&[TopicSpec::new(&name, partitions, false)])
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    name
}

pub(super) fn group(scenario: &str) -> String {
    format!("{scenario}-{}", uuid::Uuid::new_v4().simple())
}

/// Where a message of a contract test was stored.
pub(super) struct Stored {
    pub(super) partition: u32,
    pub(super) offset: u64,
}

pub(super) async fn produce(bus: &dyn Bus, topic: &str, key: &str, value: &str) -> Stored {
    let p = bus
        .produce(topic, key, Some(value.as_bytes()), &[])
        .await
        .unwrap_or_else(|e| panic!("producing to {topic}: {e}"));
    Stored {
        partition: p.partition,
        offset: p.offset.unwrap_or_else(|| {
            panic!("a new message on {topic} was acknowledged without an offset")
        }),
    }
}

/// Polls until `n` messages arrived (panics after [`PATIENCE`]).
pub(super) async fn drain(c: &mut dyn Consumer, n: usize) -> Vec<Message> {
    let deadline = Instant::now() + PATIENCE;
    let mut out = Vec::new();
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "expected {n} messages, got {} after {PATIENCE:?}",
            out.len()
        );
        let got = c
            .poll(n - out.len(), Duration::from_millis(200))
            .await
            .unwrap_or_else(|e| panic!("poll: {e}"));
        out.extend(got);
    }
    out
}

/// Asserts nothing more arrives within a short wait.
pub(super) async fn assert_quiet(c: &mut dyn Consumer) {
    let more = c
        .poll(100, Duration::from_millis(300))
        .await
        .unwrap_or_default();
    assert!(more.is_empty(), "unexpected messages: {:?}", offsets(&more));
}

pub(super) fn offsets(msgs: &[Message]) -> Vec<(u32, u64)> {
    msgs.iter().map(|m| (m.partition, m.offset)).collect()
}

/// One key's messages land on one partition and are read back in order.
pub async fn ordering_per_key(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "order", 4).await;
    let keys = ["dataverse/accounts/1", "bc/customers/2", "bc/customers/3"];
    let mut partition_of = BTreeMap::new();
    for i in 0..30 {
        let key = keys[i % keys.len()];
        let hdr = vec![("seq".to_string(), i.to_string())];
        let p = bus
            .produce(&t, key, Some(format!("{i}").as_bytes()), &hdr)
            .await
            .unwrap_or_else(|e| panic!("produce: {e}"));
        let first = *partition_of.entry(key).or_insert(p.partition);
        assert_eq!(first, p.partition, "key {key} changed partition");
    }
    let mut c = bus
        .subscribe(
            &group("order"),
            std::slice::from_ref(&t),
            StartFrom::Earliest,
        )
        .await
        .unwrap_or_else(|e| panic!("subscribe: {e}"));
    let msgs = drain(c.as_mut(), 30).await;
    for key in keys {
        let seen: Vec<usize> = msgs
            .iter()
            .filter(|m| m.key == key)
            .map(|m| {
                String::from_utf8_lossy(m.bytes())
                    .parse()
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let mut sorted = seen.clone();
        sorted.sort_unstable();
        assert_eq!(seen, sorted, "key {key} out of order");
        assert_eq!(seen.len(), 10);
    }
    let m = &msgs[0];
    let seq = String::from_utf8_lossy(m.bytes()).to_string();
    assert_eq!(m.headers, vec![("seq".to_string(), seq)], "headers lost");
}

/// Whether `end_offsets` reports the high watermark after concurrent produces (which a
/// Kafka client sends as multi-record batches): produces three rounds of 32 messages to a
/// fresh one-partition topic and compares after each. Tansu 0.6 answers ListOffsets(latest)
/// with the last batch's base offset + 1, so this is false there.
pub async fn end_offsets_hold(bus: &dyn Bus, prefix: &str) -> bool {
    let t = topic(bus, prefix, "probe", 1).await;
    for _ in 0..3 {
        let sends = (0..32).map(|_| bus.produce(&t, "k", Some(b"probe"), &[]));
        let mut next = 0;
        for r in futures::future::join_all(sends).await {
            let p = r.unwrap_or_else(|e| panic!("producing to {t}: {e}"));
            let offset = p
                .offset
                .unwrap_or_else(|| panic!("no offset for a new message on {t}"));
            next = next.max(offset + 1);
        }
        let ends = bus.end_offsets(&t).await.unwrap_or_else(|e| panic!("{e}"));
        if ends != vec![next] {
            eprintln!("contract: end offsets of {t} are {ends:?}, expected [{next}]");
            return false;
        }
    }
    true
}

/// Concurrent producers on one partition get distinct, dense offsets, and the end offset
/// follows them.
pub async fn dense_offsets_under_concurrent_producers(bus: &dyn Bus, prefix: &str) {
    let (t, partition) = dense_offsets(bus, prefix).await;
    let ends = bus.end_offsets(&t).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ends.iter().sum::<u64>(), 64);
    assert_eq!(ends[partition as usize], 64);
}

/// Concurrent producers on one partition get distinct, dense offsets; returns the topic and
/// the partition.
pub async fn dense_offsets(bus: &dyn Bus, prefix: &str) -> (String, u32) {
    let t = topic(bus, prefix, "dense", 2).await;
    let sends = (0..64).map(|i| {
        let t = &t;
        async move { (i, bus.produce(t, "same-key", Some(b"x"), &[]).await) }
    });
    let results = futures::future::join_all(sends).await;
    let mut got = BTreeSet::new();
    let mut partition = None;
    for (i, r) in results {
        let p = r.unwrap_or_else(|e| panic!("produce #{i}: {e}"));
        assert_eq!(*partition.get_or_insert(p.partition), p.partition);
        let offset = p
            .offset
            .unwrap_or_else(|| panic!("produce #{i}: no offset for a new message"));
        assert!(got.insert(offset), "offset {offset} given twice");
    }
    assert_eq!(got, (0..64).collect::<BTreeSet<u64>>(), "offsets not dense");
    (t, partition.unwrap_or(0))
}

/// A new member of a group resumes from the committed offset.
pub async fn commit_and_resume(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "resume", 1).await;
    let g = group("resume");
    for i in 0..5 {
        produce(bus, &t, "k", &i.to_string()).await;
    }
    {
        let mut c = bus
            .subscribe(&g, std::slice::from_ref(&t), StartFrom::Committed)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let msgs = drain(c.as_mut(), 5).await;
        assert_eq!(offsets(&msgs), vec![(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)]);
        c.commit(&t, 0, 3).await.unwrap_or_else(|e| panic!("{e}"));
    }
    let committed = bus
        .committed(&g, &t)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(committed, vec![Some(3)]);
    let mut c = bus
        .subscribe(&g, std::slice::from_ref(&t), StartFrom::Committed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let msgs = drain(c.as_mut(), 2).await;
    assert_eq!(offsets(&msgs), vec![(0, 3), (0, 4)]);
    assert_quiet(c.as_mut()).await;
    // Another group is independent.
    assert_eq!(
        bus.committed("other", &t).await.unwrap_or_default(),
        vec![None]
    );
}

/// Waits until the members' assignments are disjoint, cover `partitions` and give every
/// member a share (on a broker, the first member holds everything until the others joined).
async fn settle(members: &mut [&mut Box<dyn Consumer>], partitions: u32) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut seen = BTreeSet::new();
        let mut disjoint = true;
        let mut all_have_some = true;
        for c in members.iter_mut() {
            // Polling is how a member learns its assignment; nothing is produced yet.
            let _ = c.poll(0, Duration::from_millis(10)).await;
            let assigned = c.assignment();
            all_have_some &= !assigned.is_empty();
            for (_, p) in assigned {
                disjoint &= seen.insert(p);
            }
        }
        if disjoint && all_have_some && seen.len() == partitions as usize {
            return;
        }
        assert!(Instant::now() < deadline, "group did not settle: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Two members split the partitions; a dropped member's partitions move to the other, which
/// continues from the group's commits.
pub async fn group_shares_partitions(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "group", 4).await;
    let g = group("group");
    let topics = std::slice::from_ref(&t);
    let mut a = bus
        .subscribe(&g, topics, StartFrom::Committed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut b = bus
        .subscribe(&g, topics, StartFrom::Committed)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut [&mut a, &mut b], 4).await;
    assert!(!a.assignment().is_empty() && !b.assignment().is_empty());

    // The end of each partition, from the produce results (not `end_offsets`, which not
    // every broker reports).
    let mut ends = [0u64; 4];
    for i in 0..40 {
        let p = produce(bus, &t, &format!("key-{i}"), "first").await;
        let end = &mut ends[p.partition as usize];
        *end = (*end).max(p.offset + 1);
    }
    let a_parts: BTreeSet<u32> = a.assignment().into_iter().map(|(_, p)| p).collect();
    let for_a: u64 = a_parts.iter().map(|p| ends[*p as usize]).sum();
    let got_a = drain(a.as_mut(), for_a as usize).await;
    let got_b = drain(b.as_mut(), 40 - for_a as usize).await;
    assert!(got_a.iter().all(|m| a_parts.contains(&m.partition)));
    assert!(got_b.iter().all(|m| !a_parts.contains(&m.partition)));
    for p in &a_parts {
        a.commit(&t, *p, ends[*p as usize])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    drop(a);

    for i in 0..40 {
        produce(bus, &t, &format!("key-{i}"), "second").await;
    }
    let deadline = Instant::now() + PATIENCE;
    let mut second = Vec::new();
    while second.len() < 40 {
        assert!(
            Instant::now() < deadline,
            "got {} of 40 after rebalance",
            second.len()
        );
        let msgs = b
            .poll(100, Duration::from_millis(200))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for m in msgs {
            assert_eq!(
                m.bytes(),
                b"second",
                "re-read {:?} despite the commit",
                (m.partition, m.offset)
            );
            second.push(m);
        }
    }
    assert_eq!(b.assignment().len(), 4);
}

/// `StartFrom::Offset` and `StartFrom::Timestamp` ignore commits.
pub async fn start_from_offset_and_timestamp(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "start", 1).await;
    for i in 0..4 {
        produce(bus, &t, "k", &format!("old-{i}")).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cut = Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    for i in 0..3 {
        produce(bus, &t, "k", &format!("new-{i}")).await;
    }
    let g = group("start");
    let topics = std::slice::from_ref(&t);
    {
        let mut c = bus
            .subscribe(&g, topics, StartFrom::Committed)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drain(c.as_mut(), 7).await;
        c.commit(&t, 0, 7).await.unwrap_or_else(|e| panic!("{e}"));
    }
    {
        let mut c = bus
            .subscribe(&g, topics, StartFrom::Offset(2))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let msgs = drain(c.as_mut(), 5).await;
        assert_eq!(msgs[0].offset, 2);
        assert_eq!(msgs[0].bytes(), b"old-2");
    }
    {
        let mut c = bus
            .subscribe(&g, topics, StartFrom::Timestamp(cut))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let msgs = drain(c.as_mut(), 3).await;
        assert_eq!(offsets(&msgs), vec![(0, 4), (0, 5), (0, 6)]);
        assert!(msgs.iter().all(|m| m.timestamp >= cut));
        assert_quiet(c.as_mut()).await;
    }
    let mut c = bus
        .subscribe(&g, topics, StartFrom::Earliest)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(drain(c.as_mut(), 7).await[0].offset, 0);
}

/// A waiting poll returns promptly when a message is produced.
pub async fn poll_wakes_on_produce(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "wake", 2).await;
    let mut c = bus
        .subscribe(
            &group("wake"),
            std::slice::from_ref(&t),
            StartFrom::Earliest,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    settle(&mut [&mut c], 2).await;
    let waiting = async {
        let msgs = c
            .poll(10, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (Instant::now(), msgs)
    };
    let producing = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        produce(bus, &t, "k", "wake up").await;
        Instant::now()
    };
    let ((woke, msgs), produced) = tokio::join!(waiting, producing);
    assert_eq!(msgs.len(), 1);
    let lag = woke.saturating_duration_since(produced);
    assert!(
        lag < Duration::from_millis(200),
        "poll woke {lag:?} after the produce"
    );
}

/// Producing to a topic that was never created fails with a `Topic` error naming it.
pub async fn unknown_topic_is_an_error(bus: &dyn Bus, prefix: &str) {
    let name = format!("{prefix}.missing.{}", uuid::Uuid::new_v4().simple());
    match bus.produce(&name, "k", Some(b"v"), &[]).await {
        Err(e @ BusError::Topic { .. }) => {
            assert!(
                e.to_string().contains(&name),
                "error does not name the topic: {e}"
            );
        }
        other => panic!("producing to {name} should fail with a topic error, got {other:?}"),
    }
}

/// `produce_to` stores one key on every partition asked for (the state barrier's markers).
pub async fn produce_to_a_chosen_partition(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "chosen", 3).await;
    let hdr = [("h".to_string(), "v".to_string())];
    for p in [2u32, 0, 1] {
        let stored = bus
            .produce_to(&t, p, "same-key", Some(format!("to {p}").as_bytes()), &hdr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stored.partition, p);
    }
    let mut c = bus
        .subscribe(
            &group("chosen"),
            std::slice::from_ref(&t),
            StartFrom::Earliest,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut got: Vec<(u32, String)> = drain(c.as_mut(), 3)
        .await
        .iter()
        .map(|m| (m.partition, String::from_utf8_lossy(m.bytes()).to_string()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (0, "to 0".to_string()),
            (1, "to 1".to_string()),
            (2, "to 2".to_string())
        ]
    );
}

/// A tombstone (a null value, Kafka's deletion of a key on a compacted topic) is read back as
/// a tombstone, and an empty value as an empty value: compaction keeps an empty value for
/// ever, so the two must never be confused. Headers travel with a tombstone too.
pub async fn a_tombstone_is_null_not_empty(bus: &dyn Bus, prefix: &str) {
    let t = topic(bus, prefix, "tombstone", 1).await;
    let hdr = [("h".to_string(), "gone".to_string())];
    let sent: [(&str, Option<&[u8]>); 3] = [("a", Some(b"v1")), ("a", None), ("b", Some(b""))];
    for (key, value) in sent {
        bus.produce(&t, key, value, &hdr)
            .await
            .unwrap_or_else(|e| panic!("producing to {t}: {e}"));
    }
    bus.produce_to(&t, 0, "c", None, &[])
        .await
        .unwrap_or_else(|e| panic!("producing to {t}: {e}"));
    let mut c = bus
        .subscribe(
            &group("tombstone"),
            std::slice::from_ref(&t),
            StartFrom::Earliest,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<(String, Option<Vec<u8>>)> = drain(c.as_mut(), 4)
        .await
        .into_iter()
        .map(|m| {
            if m.key != "c" {
                assert_eq!(m.headers, hdr, "headers lost on {}", m.key);
            }
            (m.key, m.value)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".to_string(), Some(b"v1".to_vec())),
            ("a".to_string(), None),
            ("b".to_string(), Some(Vec::new())),
            ("c".to_string(), None),
        ],
        "a tombstone must read back as null and an empty value as empty"
    );
}
