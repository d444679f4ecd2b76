//! Couplet's events on Kafka, read by clients nobody here wrote: `KafkaBus` produces a change
//! event, a write command and an outcome; `tests/kafka/kafka_interop.py` consumes them with Python's
//! confluent-kafka and decodes them with fastavro and the `.avsc` files alone.
//!
//! Needs `COUPLET_KAFKA_BROKERS` (`scripts/kafka-broker.sh start`) and
//! `pip install confluent-kafka fastavro`.

use std::collections::BTreeMap;
use std::process::Command;

use couplet::bus::{Bus, KafkaBus, KafkaConfig, Produced, TopicSpec};
use couplet::event::avro::{encode_change, encode_command, encode_outcome};
use couplet::event::{
    ChangeEvent, ChangeOp, Outcome, OutcomeStatus, RecordKey, WriteCommand, WriteOp,
};
use serde_json::{Value, json};

fn brokers() -> String {
    match std::env::var("COUPLET_KAFKA_BROKERS") {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!(
            "COUPLET_KAFKA_BROKERS is not set: run `scripts/kafka-broker.sh start` or set it to \
             a broker list, e.g. COUPLET_KAFKA_BROKERS=127.0.0.1:9092"
        ),
    }
}

fn events() -> (ChangeEvent, WriteCommand, Outcome) {
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), json!("Fabrikam, Inc. – Zürich"));
    fields.insert("numberofemployees".into(), json!(120));
    fields.insert("creditlimit".into(), json!(2500.5));
    fields.insert("donotemail".into(), json!(false));
    fields.insert("fax".into(), Value::Null);
    let change = ChangeEvent::new(
        "CUSTOMER",
        RecordKey::new(
            couplet::systems::DATAVERSE,
            "accounts",
            uuid::Uuid::new_v4().to_string(),
        ),
        ChangeOp::Upsert,
        Some(couplet::event::types::now_millis()),
        Some("W/\"1234\"".into()),
        fields,
    );
    let mut target_fields = serde_json::Map::new();
    target_fields.insert("displayName".into(), json!("Fabrikam, Inc. – Zürich"));
    let command = WriteCommand {
        command_id: uuid::Uuid::new_v4(),
        event_id: change.event_id,
        correlation_id: change.correlation_id,
        mapping: change.mapping.clone(),
        source: change.source.clone(),
        source_modified_on: change.modified_on,
        source_etag: change.etag.clone(),
        target_system: couplet::systems::BC,
        target_entity: "customers".into(),
        target_id: None,
        op: WriteOp::Create,
        natural_key: vec![("number".into(), "C00042".into())],
        fields: target_fields,
        content_hash: "ab".repeat(32),
        reverse_hash: None,
        issued_at: couplet::event::types::now_millis(),
    };
    let outcome = Outcome::for_command(&command, OutcomeStatus::Created);
    (change, command, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_reads_couplet_events_from_kafka() {
    let b = brokers();
    let bus = KafkaBus::connect(&KafkaConfig::new(&b))
        .await
        .unwrap_or_else(|e| panic!("connecting to {b}: {e}"));
    let topic = format!("couplet-interop-{}.events", uuid::Uuid::new_v4().simple());
    bus.ensure_topics(&[TopicSpec::new(&topic, 3, false)])
        .await
        .unwrap();
    let (change, command, outcome) = events();
    let key = change.source.to_string();
    let hdr = |t: &str| vec![("type".to_string(), t.to_string())];
    let mut produced: BTreeMap<&str, Produced> = BTreeMap::new();
    for (name, value) in [
        ("ChangeEvent", encode_change(&change).unwrap()),
        ("WriteCommand", encode_command(&command).unwrap()),
        ("Outcome", encode_outcome(&outcome).unwrap()),
    ] {
        let p = bus
            .produce(&topic, &key, Some(&value), &hdr(name))
            .await
            .unwrap();
        produced.insert(name, p);
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kafka/kafka_interop.py");
    let schemas = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([script, "--brokers", &b, "--topic", &topic, "--count", "3"])
            .args(["--schemas", schemas])
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("running python3: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "kafka_interop.py failed ({}); install its clients with \
         `pip install confluent-kafka fastavro`:\n{stderr}",
        out.status
    );
    let read: BTreeMap<String, Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .map(|m| (m["schema"].as_str().unwrap_or_default().to_string(), m))
        .collect();
    assert_eq!(read.len(), 3, "{read:#?}");

    for (name, p) in &produced {
        let m = &read[*name];
        assert_eq!(m["partition"], json!(p.partition), "{name}");
        assert_eq!(m["offset"], json!(p.offset), "{name}");
        assert_eq!(m["key"], json!(key), "{name}");
        assert_eq!(m["headers"], json!([["type", name]]), "{name}");
        assert_eq!(m["fingerprint"].as_str().map(str::len), Some(16));
    }
    let v = &read["ChangeEvent"]["value"];
    assert_eq!(v["event_id"], json!(change.event_id.to_string()));
    assert_eq!(v["mapping"], json!("CUSTOMER"));
    assert_eq!(v["system"], json!("dataverse"));
    assert_eq!(v["entity"], json!("accounts"));
    assert_eq!(v["record_id"], json!(change.source.id));
    assert_eq!(v["op"], json!("UPSERT"));
    assert_eq!(v["etag"], json!("W/\"1234\""));
    assert_eq!(v["fields"]["name"], json!("Fabrikam, Inc. – Zürich"));
    assert_eq!(v["fields"]["numberofemployees"], json!(120));
    assert_eq!(v["fields"]["creditlimit"], json!(2500.5));
    assert_eq!(v["fields"]["donotemail"], json!(false));
    assert_eq!(v["fields"]["fax"], Value::Null);

    let v = &read["WriteCommand"]["value"];
    assert_eq!(v["command_id"], json!(command.command_id.to_string()));
    assert_eq!(v["event_id"], json!(change.event_id.to_string()));
    assert_eq!(v["target_system"], json!("bc"));
    assert_eq!(v["op"], json!("CREATE"));
    assert_eq!(v["natural_key"], json!({"number": "C00042"}));
    assert_eq!(v["fields"]["displayName"], json!("Fabrikam, Inc. – Zürich"));

    let v = &read["Outcome"]["value"];
    assert_eq!(v["command_id"], json!(command.command_id.to_string()));
    assert_eq!(
        v["correlation_id"],
        json!(change.correlation_id.to_string())
    );
    assert_eq!(v["status"], json!("CREATED"));
    assert_eq!(v["attempts"], json!(1));
}
