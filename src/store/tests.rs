//! Tests of the sled projection.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::event::Side;
use crate::event::{ChangeEvent, ChangeOp, Fields, Outcome, OutcomeStatus, RecordKey};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).single().unwrap()
}

fn coupling(mapping: &str, crm: &str, erp: &str) -> Coupling {
    Coupling {
        mapping: mapping.into(),
        crm_entity: "accounts".into(),
        crm_id: crm.into(),
        erp_entity: "customers".into(),
        erp_id: erp.into(),
        crm_modified_on: None,
        erp_modified_on: None,
        crm_etag: None,
        erp_etag: None,
        hash_to_crm: None,
        hash_to_erp: None,
        coupled_at: t(0),
        last_sync_at: None,
        last_direction: None,
        last_result: None,
    }
}

fn event(id: &str) -> ChangeEvent {
    ChangeEvent::new(
        "CUSTOMER",
        RecordKey::new(crate::systems::DATAVERSE, "accounts", id),
        ChangeOp::Upsert,
        None,
        None,
        Fields::new(),
    )
}

/// Opens the store in `dir` again. Sled releases its file lock from its flusher thread a moment
/// after the last handle is dropped: under load an immediate reopen can find it still held (once
/// in a full `cargo test --lib`), so the reopen is tried for up to 10 s.
fn reopen(dir: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match Store::open(dir) {
            Ok(s) => return s,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("reopen: {e}; trying again");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("the store does not open again: {e}"),
        }
    }
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

#[test]
fn couple_if_absent_is_exclusive_on_both_sides() {
    let (_d, s) = open();
    let c = coupling("CUSTOMER", "a1", "e1");
    assert_eq!(s.couple_if_absent(&c).unwrap(), CoupleResult::Inserted);
    // Same CRM record, other ERP record.
    let r = s
        .couple_if_absent(&coupling("CUSTOMER", "a1", "e2"))
        .unwrap();
    assert_eq!(r, CoupleResult::Existing(c.clone()));
    // Other CRM record, same ERP record.
    let r = s
        .couple_if_absent(&coupling("CUSTOMER", "a2", "e1"))
        .unwrap();
    assert_eq!(r, CoupleResult::Existing(c.clone()));
    assert!(s.coupling("CUSTOMER", Side::Erp, "e2").unwrap().is_none());
    assert!(s.coupling("CUSTOMER", Side::Crm, "a2").unwrap().is_none());
    // Another mapping is independent.
    assert_eq!(
        s.couple_if_absent(&coupling("VENDOR", "a1", "e1")).unwrap(),
        CoupleResult::Inserted
    );
    assert_eq!(s.coupling_count("CUSTOMER").unwrap(), 1);
}

#[test]
fn couple_if_absent_races_have_one_winner() {
    let (_d, s) = open();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            std::thread::spawn(move || {
                // Every thread couples a1 with a different ERP record.
                s.couple_if_absent(&coupling("M", "a1", &format!("e{i}")))
                    .unwrap()
            })
        })
        .collect();
    let inserted = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|r| *r == CoupleResult::Inserted)
        .count();
    assert_eq!(inserted, 1);
    assert_eq!(s.couplings(None).unwrap().len(), 1);
}

#[test]
fn put_replaces_and_remove_clears_both_sides() {
    let (_d, s) = open();
    s.put_coupling(&coupling("M", "a1", "e1")).unwrap();
    let mut c = coupling("M", "a1", "e2");
    c.crm_etag = Some("W/1".into());
    s.put_coupling(&c).unwrap();
    assert!(s.coupling("M", Side::Erp, "e1").unwrap().is_none());
    assert_eq!(s.coupling("M", Side::Erp, "e2").unwrap(), Some(c.clone()));
    assert_eq!(s.coupling("M", Side::Crm, "a1").unwrap(), Some(c.clone()));

    let removed = s.remove_coupling("M", Side::Erp, "e2").unwrap();
    assert_eq!(removed, Some(c));
    assert!(s.coupling("M", Side::Crm, "a1").unwrap().is_none());
    assert!(s.remove_coupling("M", Side::Erp, "e2").unwrap().is_none());
    assert_eq!(s.coupling_count("M").unwrap(), 0);
}

#[test]
fn couplings_are_listed_by_mapping_then_crm_id() {
    let (_d, s) = open();
    for (m, a, e) in [
        ("B", "a2", "x"),
        ("A", "a9", "y"),
        ("B", "a1", "z"),
        ("AB", "a0", "w"),
    ] {
        s.put_coupling(&coupling(m, a, e)).unwrap();
    }
    let all: Vec<_> = s
        .couplings(None)
        .unwrap()
        .into_iter()
        .map(|c| (c.mapping, c.crm_id))
        .collect();
    let want = [("A", "a9"), ("AB", "a0"), ("B", "a1"), ("B", "a2")];
    assert_eq!(
        all,
        want.map(|(m, a)| (m.to_string(), a.to_string())).to_vec()
    );
    assert_eq!(s.couplings(Some("B")).unwrap().len(), 2);
    assert_eq!(s.couplings(Some("A")).unwrap().len(), 1);
}

#[tokio::test]
async fn watch_receives_inserts_and_replacements() {
    let (_d, s) = open();
    let mut rx = s.watch_couplings();
    let c = coupling("M", "a1", "e1");
    s.couple_if_absent(&c).unwrap();
    s.couple_if_absent(&c).unwrap(); // Existing: no notification.
    let mut c2 = c.clone();
    c2.last_result = Some("ok".into());
    s.put_coupling(&c2).unwrap();
    assert_eq!(rx.recv().await.unwrap(), c);
    assert_eq!(rx.recv().await.unwrap(), c2);
    assert!(rx.try_recv().is_err());
}

#[test]
fn checkpoints_persist_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Store::open(dir.path()).unwrap();
        s.save_checkpoint("CUSTOMER/dataverse", &json!({"delta": "https://x/1"}))
            .unwrap();
        s.save_checkpoint("CUSTOMER/bc", &json!("2024-01-01"))
            .unwrap();
        s.save_checkpoint("CUSTOMER/bc", &json!("2024-02-01"))
            .unwrap();
        s.save_checkpoint("gone", &json!(1)).unwrap();
        s.delete_checkpoint("gone").unwrap();
    }
    let s = reopen(dir.path());
    assert_eq!(
        s.checkpoint("CUSTOMER/dataverse").unwrap(),
        Some(json!({"delta": "https://x/1"}))
    );
    assert_eq!(s.checkpoint("gone").unwrap(), None);
    let all = s.checkpoints().unwrap();
    assert_eq!(
        all,
        vec![
            ("CUSTOMER/bc".to_string(), json!("2024-02-01")),
            (
                "CUSTOMER/dataverse".to_string(),
                json!({"delta": "https://x/1"})
            ),
        ]
    );
}

#[test]
fn parked_take_and_unpark() {
    let (_d, s) = open();
    let park = |waiting: &str, record: &str| ParkedEntry {
        waiting_for: waiting.into(),
        record: record.into(),
        mapping: "CONTACT".into(),
        reason: "parent not coupled".into(),
        parked_at: t(0),
        event: event(record),
    };
    s.park(&park("CUSTOMER/bc/C1", "dataverse/contacts/1"))
        .unwrap();
    s.park(&park("CUSTOMER/bc/C1", "dataverse/contacts/2"))
        .unwrap();
    s.park(&park("CUSTOMER/bc/C1", "dataverse/contacts/2"))
        .unwrap(); // replaces
    s.park(&park("CUSTOMER/bc/C10", "dataverse/contacts/3"))
        .unwrap();
    s.park(&park("CUSTOMER/bc/C2", "dataverse/contacts/1"))
        .unwrap();
    assert_eq!(s.parked().unwrap().len(), 4);

    let taken = s.take_parked("CUSTOMER/bc/C1").unwrap();
    let records: Vec<_> = taken.iter().map(|p| p.record.as_str()).collect();
    assert_eq!(records, ["dataverse/contacts/1", "dataverse/contacts/2"]);
    assert!(s.take_parked("CUSTOMER/bc/C1").unwrap().is_empty());
    assert_eq!(s.parked().unwrap().len(), 2);

    s.unpark_record("dataverse/contacts/1").unwrap();
    let left = s.parked().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].record, "dataverse/contacts/3");
}

#[test]
fn errors_keep_first_at_and_count_attempts() {
    let (_d, s) = open();
    let err = |record: &str, at: DateTime<Utc>| ErrorEntry {
        record: record.into(),
        mapping: "CUSTOMER".into(),
        class: "validation".into(),
        actor: "user".into(),
        field: Some("name".into()),
        reason: format!("{record} is invalid"),
        first_at: at,
        last_at: at,
        attempts: 1,
        event: Some(event(record)),
    };
    s.record_error(&err("bc/customers/2", t(5))).unwrap();
    s.record_error(&err("bc/customers/1", t(10))).unwrap();
    s.record_error(&err("bc/customers/1", t(20))).unwrap();
    s.record_error(&err("bc/customers/1", t(30))).unwrap();
    let list = s.errors().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].record, "bc/customers/2");
    let e = &list[1];
    assert_eq!((e.first_at, e.last_at, e.attempts), (t(10), t(30), 3));

    s.clear_error("CUSTOMER", "bc/customers/1").unwrap();
    assert_eq!(s.errors().unwrap().len(), 1);
}

#[test]
fn audit_is_ordered_by_time_and_idempotent() {
    let (_d, s) = open();
    let entry = |at: DateTime<Utc>, offset: u64| AuditEntry {
        at,
        kind: "change".into(),
        topic: "couplet.changes".into(),
        partition: 3,
        offset,
        mapping: "CUSTOMER".into(),
        correlation_id: "c".into(),
        summary: format!("offset {offset}"),
    };
    let rec = "bc/customers/1";
    s.append_audit(rec, &entry(t(30), 7)).unwrap();
    s.append_audit(rec, &entry(t(10), 9)).unwrap();
    s.append_audit(rec, &entry(t(20), 8)).unwrap();
    s.append_audit(rec, &entry(t(20), 8)).unwrap(); // same message again
    s.append_audit(rec, &entry(t(20) + Duration::milliseconds(1), 7))
        .unwrap(); // offset 7 re-indexed with another time: still one entry
    s.append_audit("bc/customers/10", &entry(t(0), 1)).unwrap();
    let trail: Vec<_> = s
        .audit(rec)
        .unwrap()
        .into_iter()
        .map(|e| e.offset)
        .collect();
    assert_eq!(trail, [9, 8, 7]);
    assert_eq!(s.audit("bc/customers/10").unwrap().len(), 1);
    assert!(s.audit("bc/customers").unwrap().is_empty());
}

#[test]
fn natural_key_index_both_ways() {
    let (_d, s) = open();
    s.index_put(crate::systems::BC, "customers", "number", "C00010", "id-1")
        .unwrap();
    assert_eq!(
        s.index_id(crate::systems::BC, "customers", "number", "C00010")
            .unwrap(),
        Some("id-1".into())
    );
    assert_eq!(
        s.index_value(crate::systems::BC, "customers", "number", "id-1")
            .unwrap(),
        Some("C00010".into())
    );
    // The record's number changes: the old number no longer resolves.
    s.index_put(crate::systems::BC, "customers", "number", "C00011", "id-1")
        .unwrap();
    assert_eq!(
        s.index_id(crate::systems::BC, "customers", "number", "C00010")
            .unwrap(),
        None
    );
    assert_eq!(
        s.index_id(crate::systems::BC, "customers", "number", "C00011")
            .unwrap(),
        Some("id-1".into())
    );
    // Other system, same names: independent.
    assert_eq!(
        s.index_id(crate::systems::DATAVERSE, "customers", "number", "C00011")
            .unwrap(),
        None
    );
}

#[test]
fn corrupt_values_name_tree_and_key() {
    let (_d, s) = open();
    s.inner
        .checkpoints
        .insert("bad", b"{not json".to_vec())
        .unwrap();
    let err = s.checkpoint("bad").unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt { tree: "checkpoints", ref key, .. } if key == "bad")
    );
}

#[test]
fn clear_all_empties_every_tree() {
    let (_d, s) = open();
    s.put_coupling(&coupling("M", "a", "e")).unwrap();
    s.save_checkpoint("x", &json!(1)).unwrap();
    s.clear_all().unwrap();
    assert!(s.couplings(None).unwrap().is_empty());
    assert!(s.checkpoints().unwrap().is_empty());
}

/// sled panics on some damaged files (random bytes over pages in the middle of its `db` file,
/// not reproducibly the same run to run) and opens others as empty (a truncated or overwritten
/// file; the engine then rebuilds the projection from the log, see `pipeline::recover`). A
/// panic while opening is an error naming the directory and `couplet replay --rebuild`; the
/// rebuild sets the damaged directory aside and starts an empty one.
#[test]
fn a_damaged_projection_is_an_error_naming_the_remedy_and_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("projection");
    drop(Store::open(&path).unwrap());

    let e = super::db::open_db_with(&path, || panic!("failed to read page 17: checksum"))
        .expect_err("a panic opening the projection is an error");
    let text = e.to_string();
    assert!(matches!(e, StoreError::Damaged { .. }), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("checksum"), "{text}");
    assert!(text.contains("couplet replay --rebuild"), "{text}");

    let e = super::db::open_db_with(&path, || Err(sled::Error::Corruption { at: None, bt: () }))
        .expect_err("sled's corruption error");
    assert!(matches!(e, StoreError::Damaged { .. }), "{e}");

    let aside = super::db::set_aside(&path).unwrap();
    assert!(aside.join("db").exists());
    assert!(!path.exists());
    assert_eq!(Store::open(&path).unwrap().checkpoints().unwrap().len(), 0);
}

#[test]
fn audit_entries_older_than_the_retention_are_pruned() {
    let (_d, s) = open();
    let entry = |at: DateTime<Utc>, offset: u64| AuditEntry {
        at,
        kind: "change".into(),
        topic: "couplet.changes".into(),
        partition: 0,
        offset,
        mapping: "CUSTOMER".into(),
        correlation_id: "c".into(),
        summary: format!("offset {offset}"),
    };
    s.append_audit("bc/customers/1", &entry(t(10), 1)).unwrap();
    s.append_audit("bc/customers/1", &entry(t(30), 3)).unwrap();
    s.append_audit("bc/customers/2", &entry(t(15), 2)).unwrap();
    assert_eq!(s.prune_audit(t(20)).unwrap(), 2);
    let offsets =
        |rec: &str| -> Vec<u64> { s.audit(rec).unwrap().iter().map(|e| e.offset).collect() };
    assert_eq!(offsets("bc/customers/1"), [3]);
    assert!(offsets("bc/customers/2").is_empty());
    // The de-duplication entries went with them: one trail entry and its one dedup entry.
    assert_eq!(s.inner.audit.len(), 2);
    assert_eq!(s.prune_audit(t(20)).unwrap(), 0);
}

/// Coupled on a match with the target's values winning (nothing written): the source's values
/// as mapped towards the target are the target side's baseline, so the target's later update
/// of the source is not judged an update conflict merely because the source's ETag moved.
#[test]
fn a_coupling_made_on_a_match_keeps_the_sources_values_as_the_baseline() {
    let (_dir, store) = open();
    let o = Outcome {
        outcome_id: uuid::Uuid::new_v4(),
        command_id: Some(uuid::Uuid::new_v4()),
        event_id: uuid::Uuid::new_v4(),
        correlation_id: uuid::Uuid::new_v4(),
        mapping: "CUSTOMER".into(),
        source: RecordKey::new(crate::systems::DATAVERSE, "accounts", "a1"),
        source_modified_on: Some(t(10)),
        source_etag: Some("W/\"7\"".into()),
        target_system: crate::systems::BC,
        target_entity: "customers".into(),
        target_id: Some("c1".into()),
        status: OutcomeStatus::Coupled,
        target_modified_on: None,
        target_etag: None,
        content_hash: Some("hash-of-a1-as-a-customer".into()),
        reverse_hash: Some("hash-of-a1-as-an-account".into()),
        error: None,
        reason: None,
        attempts: 1,
        latency_ms: None,
        at: t(11),
    };
    let plan = project::plan_outcome(&store, &o, None).unwrap();
    let c = plan.put.expect("a coupling");
    assert_eq!((c.crm_id.as_str(), c.erp_id.as_str()), ("a1", "c1"));
    assert_eq!(c.hash_to(Side::Erp), Some("hash-of-a1-as-a-customer"));
    // Nothing was written to the CRM: the customer's values still have to go there.
    assert_eq!(c.hash_to(Side::Crm), None);
    assert_eq!(c.crm_etag.as_deref(), Some("W/\"7\""));
    assert_eq!(c.erp_etag, None);
}
