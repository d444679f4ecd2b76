//! The bus contract (`couplet::bus::contract`) against real Kafka-protocol brokers.
//!
//! - `contract_on_broker`: the broker at `COUPLET_KAFKA_BROKERS` (CI starts Tansu with
//!   `scripts/kafka-broker.sh start`). Fails when the variable is unset.
//! - `contract_on_apache_kafka`: an Apache Kafka container through testcontainers, when a
//!   Docker engine answers; otherwise it says why it is skipped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use couplet::bus::{Bus, BusError, Cleanup, KafkaBus, KafkaConfig, StartFrom, TopicSpec};
use couplet::bus::{contract, contract_cleanup};

/// The brokers under test; panics with what to do when unset.
fn brokers() -> String {
    match std::env::var("COUPLET_KAFKA_BROKERS") {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!(
            "COUPLET_KAFKA_BROKERS is not set: run `scripts/kafka-broker.sh start` (it starts \
             Tansu on 127.0.0.1:19092 and prints the export line) or set it to a broker list, \
             e.g. COUPLET_KAFKA_BROKERS=127.0.0.1:9092"
        ),
    }
}

async fn connect(brokers: &str) -> KafkaBus {
    KafkaBus::connect(&KafkaConfig::new(brokers))
        .await
        .unwrap_or_else(|e| panic!("connecting to {brokers}: {e}"))
}

fn prefix() -> String {
    format!(
        "couplet-test-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_on_broker() {
    let b = brokers();
    let bus = connect(&b).await;
    let started = Instant::now();
    contract::run_all(&bus, &prefix()).await;
    // A broker cleans on its own schedule (and Tansu not at all): skipped, saying so.
    contract_cleanup::run_cleanup(&bus, &prefix(), None).await;
    eprintln!("contract on {b}: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_fails_fast_and_says_why() {
    // Nothing listens on port 1.
    let started = Instant::now();
    let err = KafkaBus::connect(&KafkaConfig::new("127.0.0.1:1"))
        .await
        .expect_err("connecting to a closed port must fail");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let text = err.to_string();
    assert!(
        matches!(err, BusError::Unavailable { .. }),
        "not Unavailable: {text}"
    );
    assert!(
        text.contains("127.0.0.1:1"),
        "does not name the broker: {text}"
    );
    assert!(
        text.to_lowercase().contains("refused") || text.to_lowercase().contains("timed out"),
        "does not say why: {text}"
    );
    eprintln!("unreachable broker: {took:?}: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyed_batch_reads_back_in_order_per_key_across_partitions() {
    let bus = connect(&brokers()).await;
    let topic = format!("{}.batch", prefix());
    bus.ensure_topics(&[TopicSpec::new(&topic, 6, false)])
        .await
        .unwrap();
    // Re-ensuring an existing topic is a no-op.
    bus.ensure_topics(&[TopicSpec::new(&topic, 6, false)])
        .await
        .unwrap();
    assert_eq!(bus.partitions(&topic).await.unwrap(), 6);
    let keys: Vec<String> = (0..24).map(|k| format!("bc/customers/{k}")).collect();
    // Keys produce concurrently; each key's own records go one after the other.
    let per_key = keys.iter().map(|key| {
        let (bus, topic) = (&bus, &topic);
        async move {
            let mut partitions = Vec::new();
            for seq in 0..10 {
                let hdr = vec![("seq".to_string(), seq.to_string())];
                let p = bus
                    .produce(topic, key, Some(format!("{key}#{seq}").as_bytes()), &hdr)
                    .await
                    .unwrap();
                partitions.push(p.partition);
            }
            (key.clone(), partitions)
        }
    });
    let placed: BTreeMap<String, Vec<u32>> = futures::future::join_all(per_key)
        .await
        .into_iter()
        .collect();
    for (key, ps) in &placed {
        assert!(ps.iter().all(|p| *p == ps[0]), "{key} moved: {ps:?}");
    }
    let used: std::collections::BTreeSet<u32> = placed.values().map(|ps| ps[0]).collect();
    assert!(used.len() > 1, "24 keys all on one partition: {used:?}");

    let mut c = bus
        .subscribe(
            "batch-reader",
            std::slice::from_ref(&topic),
            StartFrom::Earliest,
        )
        .await
        .unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < 240 {
        assert!(Instant::now() < deadline, "read {} of 240", got.len());
        got.extend(c.poll(500, Duration::from_millis(500)).await.unwrap());
    }
    let mut seen: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for m in &got {
        assert_eq!(
            m.partition, placed[&m.key][0],
            "{} read from another partition",
            m.key
        );
        seen.entry(&m.key)
            .or_default()
            .push(String::from_utf8_lossy(m.bytes()).into_owned());
        assert_eq!(m.headers.len(), 1);
    }
    for key in &keys {
        let want: Vec<String> = (0..10).map(|s| format!("{key}#{s}")).collect();
        assert_eq!(seen[key.as_str()], want, "{key} out of order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn specs_create_topics_with_their_cleanup_settings() {
    let bus = connect(&brokers()).await;
    let p = prefix();
    let (compact, plain) = (format!("{p}.couplings"), format!("{p}.changes"));
    bus.ensure_topics(&[
        TopicSpec::new(&compact, 2, true).with_cleanup(Cleanup::Compact {
            tombstone_ms: 3_600_000,
            dirty_percent: 50,
        }),
        TopicSpec::new(&plain, 3, false).with_cleanup(Cleanup::Delete {
            max_age_ms: Some(86_400_000),
            max_bytes: Some(1 << 30),
        }),
    ])
    .await
    .unwrap();
    assert_eq!(bus.partitions(&compact).await.unwrap(), 2);
    assert_eq!(bus.partitions(&plain).await.unwrap(), 3);
    assert_eq!(bus.start_offsets(&plain).await.unwrap(), vec![0, 0, 0]);
    let get = |cfg: &BTreeMap<String, String>, k: &str| cfg.get(k).cloned();
    let cfg = bus.topic_configs(&compact).await.unwrap();
    assert_eq!(
        get(&cfg, "cleanup.policy").as_deref(),
        Some("compact"),
        "{cfg:?}"
    );
    assert_eq!(
        get(&cfg, "delete.retention.ms").as_deref(),
        Some("3600000"),
        "{cfg:?}"
    );
    let cfg = bus.topic_configs(&plain).await.unwrap();
    assert_eq!(
        get(&cfg, "cleanup.policy").as_deref(),
        Some("delete"),
        "{cfg:?}"
    );
    assert_eq!(
        get(&cfg, "retention.ms").as_deref(),
        Some("86400000"),
        "{cfg:?}"
    );
    assert_eq!(
        get(&cfg, "retention.bytes").as_deref(),
        Some("1073741824"),
        "{cfg:?}"
    );
}

/// The Docker engine's socket, when one answers.
fn docker_engine() -> Result<(), String> {
    let path = match std::env::var("DOCKER_HOST") {
        Ok(h) if h.starts_with("unix://") => h.trim_start_matches("unix://").to_string(),
        Ok(h) if !h.is_empty() => return Ok(()), // tcp:// etc.: let testcontainers try
        _ => "/var/run/docker.sock".to_string(),
    };
    std::os::unix::net::UnixStream::connect(&path)
        .map(|_| ())
        .map_err(|e| format!("no Docker engine at {path}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_on_apache_kafka() {
    use testcontainers_modules::kafka::apache;
    use testcontainers_modules::testcontainers::runners::AsyncRunner;

    if let Err(why) = docker_engine() {
        eprintln!(
            "SKIPPED contract_on_apache_kafka: {why}; it runs the bus contract against \
             apache/kafka-native through testcontainers where Docker is available"
        );
        return;
    }
    let kafka = apache::Kafka::default()
        .start()
        .await
        .unwrap_or_else(|e| panic!("starting the Apache Kafka container: {e}"));
    let port = kafka
        .get_host_port_ipv4(apache::KAFKA_PORT)
        .await
        .unwrap_or_else(|e| panic!("Kafka container port: {e}"));
    let b = format!("127.0.0.1:{port}");
    let bus = connect(&b).await;
    let p = prefix();
    assert!(
        contract::end_offsets_hold(&bus, &p).await,
        "Apache Kafka reports end offsets: KafkaBus::end_offsets is wrong"
    );
    contract::run_all(&bus, &p).await;
}
