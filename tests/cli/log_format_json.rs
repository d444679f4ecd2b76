//! `--log-format json`: every line on stderr is a JSON object, and one record can be followed
//! from capture through transform to apply by the correlation id its spans carry.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

#[test]
fn json_logs_follow_one_record_from_capture_to_write() {
    let out = Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args([
            "--log-format",
            "json",
            "demo",
            "--records",
            "3",
            "--edits",
            "1",
        ])
        .env("RUST_LOG", "couplet=debug")
        .output()
        .expect("couplet runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut stages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        let span = &v["span"];
        if let (Some(name), Some(cid), Some(record)) = (
            span["name"].as_str(),
            span["correlation_id"].as_str(),
            span["record"].as_str(),
        ) {
            assert!(record.contains('/'), "record identity in {line}");
            stages
                .entry(cid.to_string())
                .or_default()
                .insert(name.to_string());
        }
    }
    let full = stages
        .values()
        .filter(|s| {
            ["capture", "transform", "apply"]
                .iter()
                .all(|n| s.contains(*n))
        })
        .count();
    assert!(
        full > 0,
        "no correlation id seen in capture, transform and apply spans: {stages:?}"
    );
}
