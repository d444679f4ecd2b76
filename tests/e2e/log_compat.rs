//! Wire compatibility across the connector redesign: a log written by the version before it
//! (`tests/fixtures/log-before-connectors.json`: every message of every topic after a sandbox
//! synchronisation of 3 companies, written by couplet 1fe7155 on the embedded log) is read by
//! this version. Every event decodes to the same record keys and system names, and a rebuild
//! of the projection from it restores the same couplings and checkpoints the old version held.

use std::sync::Arc;

use base64::Engine as _;
use couplet::bus::{Bus, EmbeddedBus, Topics};
use couplet::event::avro::{decode_change, decode_command, decode_outcome};
use couplet::mapping::Catalogue;
use couplet::pipeline::replay::rebuild;
use couplet::store::Store;
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/log-before-connectors.json");

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_before_the_connector_interface_is_read_and_rebuilt() {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let dir = tempfile::tempdir().expect("dir");
    let bus: Arc<dyn Bus> = Arc::new(EmbeddedBus::open(&dir.path().join("log")).expect("log"));
    let topics = Topics::new("couplet");
    let partitions = fixture["partitions"].as_u64().expect("partitions") as u32;
    bus.ensure_topics(&topics.specs(partitions, 1))
        .await
        .expect("topics");
    let b64 = base64::engine::general_purpose::STANDARD;
    let (mut changes, mut commands, mut outcomes) = (0, 0, 0);
    for m in fixture["messages"].as_array().expect("messages") {
        let key = text(&m["key"]);
        let value = match &m["value"] {
            Value::Null => Vec::new(),
            v => b64.decode(text(v)).expect("base64"),
        };
        let headers: Vec<(String, String)> =
            serde_json::from_value(m["headers"].clone()).expect("headers");
        let topic = match text(&m["topic"]) {
            "changes" => {
                let ev = decode_change(&value).expect("a change of the old version decodes");
                assert_eq!(ev.source.to_string(), key);
                assert!(["dataverse", "bc"].contains(&ev.source.system.as_str()));
                changes += 1;
                &topics.changes
            }
            "commands" => {
                let c = decode_command(&value).expect("a command of the old version decodes");
                assert_eq!(c.source.to_string(), key);
                assert_ne!(c.source.system, c.target_system);
                commands += 1;
                &topics.commands
            }
            "outcomes" => {
                let o = decode_outcome(&value).expect("an outcome of the old version decodes");
                assert_eq!(o.source.to_string(), key);
                outcomes += 1;
                &topics.outcomes
            }
            "dlq" => &topics.dlq,
            "couplings" => &topics.couplings,
            "checkpoints" => &topics.checkpoints,
            "parked" => &topics.parked,
            "intents" => &topics.intents,
            other => panic!("unknown topic {other} in the fixture"),
        };
        let partition = m["partition"].as_u64().expect("partition") as u32;
        bus.produce_to(topic, partition, key, Some(&value), &headers)
            .await
            .expect("produce");
    }
    assert!(changes > 0 && commands > 0 && outcomes > 0);

    let store = Store::open(&dir.path().join("projection")).expect("store");
    let catalogue = Catalogue::defaults().expect("defaults");
    let report = rebuild(&bus, &topics, &store, &catalogue)
        .await
        .expect("rebuild");
    let mut couplings: Vec<Value> = store
        .couplings(None)
        .expect("couplings")
        .into_iter()
        .map(|c| serde_json::json!([c.mapping, c.crm_entity, c.crm_id, c.erp_entity, c.erp_id]))
        .collect();
    couplings.sort_by_key(|c| c.to_string());
    assert_eq!(&Value::Array(couplings), &fixture["couplings"]);
    assert_eq!(
        report.couplings,
        fixture["couplings"].as_array().map_or(0, Vec::len)
    );
    let mut checkpoints: Vec<String> = store
        .checkpoints()
        .expect("checkpoints")
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !n.starts_with('_'))
        .collect();
    checkpoints.sort();
    let mut expected: Vec<String> =
        serde_json::from_value(fixture["checkpoints"].clone()).expect("checkpoint names");
    expected.sort();
    assert_eq!(checkpoints, expected);
}
