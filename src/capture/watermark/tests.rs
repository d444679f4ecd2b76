//! The poller against an in-memory source, the embedded log and a temporary projection.

use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::columns::parse_instant;
use super::*;
use crate::bus::{StartFrom, TopicSpec};
use crate::event::avro::decode_change;
use crate::event::{ChangeOp, RecordKey};

/// A table whose rows the test edits; pages hold `page_size` rows, in modified-on order.
struct FakeSource {
    modified: ModifiedColumns,
    rows: Mutex<Vec<Fields>>,
    page_size: usize,
    /// Pages served (first pages and continuations) before every further page fails.
    fail_after: Mutex<Option<usize>>,
    served: Mutex<usize>,
    /// The `since` of each first page asked for.
    sinces: Mutex<Vec<Option<DateTime<Utc>>>>,
}

impl FakeSource {
    fn new(modified: ModifiedColumns, page_size: usize) -> Self {
        FakeSource {
            modified,
            rows: Mutex::new(Vec::new()),
            page_size,
            fail_after: Mutex::new(None),
            served: Mutex::new(0),
            sinces: Mutex::new(Vec::new()),
        }
    }

    /// Inserts or replaces the row with `row`'s `id`.
    fn put(&self, row: Value) {
        let row = row.as_object().cloned().unwrap_or_default();
        let mut rows = self.rows.lock();
        rows.retain(|r| r.get("id") != row.get("id"));
        rows.push(row);
    }
}

#[async_trait]
impl WatermarkSource for FakeSource {
    fn system(&self) -> System {
        crate::systems::BC
    }

    fn set(&self) -> &str {
        "things"
    }

    async fn page(
        &self,
        since: Option<DateTime<Utc>>,
        link: Option<&str>,
    ) -> Result<WatermarkPage, SystemError> {
        {
            let mut served = self.served.lock();
            if self.fail_after.lock().is_some_and(|n| *served >= n) {
                return Err(SystemError::Malformed {
                    system: crate::systems::BC,
                    operation: "poll",
                    reason: "the fake fails".into(),
                });
            }
            *served += 1;
        }
        if link.is_none() {
            self.sinces.lock().push(since);
        }
        let mut rows: Vec<(DateTime<Utc>, Fields)> = self
            .rows
            .lock()
            .iter()
            .filter_map(|r| self.modified.stamp(r).at.map(|t| (t, r.clone())))
            .filter(|(t, _)| since.is_none_or(|s| *t >= s))
            .collect();
        rows.sort_by_key(|(t, _)| *t);
        let from: usize = link.and_then(|l| l.parse().ok()).unwrap_or(0);
        let to = (from + self.page_size).min(rows.len());
        Ok(WatermarkPage {
            rows: rows[from..to].iter().map(|(_, r)| r.clone()).collect(),
            next_link: (to < rows.len()).then(|| to.to_string()),
        })
    }
}

struct Env {
    _dirs: (TempDir, TempDir),
    bus: Arc<dyn Bus>,
    topics: Topics,
    store: Store,
    state: StateLog,
    status: CaptureStatus,
    read: Mutex<Option<Box<dyn crate::bus::Consumer>>>,
}

async fn env() -> Env {
    let log = tempfile::tempdir().unwrap();
    let db = tempfile::tempdir().unwrap();
    let bus: Arc<dyn Bus> = Arc::new(crate::bus::embedded::EmbeddedBus::open(log.path()).unwrap());
    let topics = Topics::new("t");
    bus.ensure_topics(&[
        TopicSpec::new(&topics.changes, 2, false),
        TopicSpec::new(&topics.checkpoints, 1, true),
    ])
    .await
    .unwrap();
    let store = Store::open(db.path()).unwrap();
    let state = StateLog::new(bus.clone(), topics.clone(), store.clone(), "test".into());
    Env {
        _dirs: (log, db),
        bus,
        topics,
        store,
        state,
        status: CaptureStatus::new("THING/bc/things"),
        read: Mutex::new(None),
    }
}

const NAME: &str = "capture/THING/bc/things";

impl Env {
    fn poller(&self, modified: ModifiedColumns, missing_id: MissingId) -> WatermarkPoller<'_> {
        WatermarkPoller {
            checkpoint: NAME.into(),
            columns: WatermarkColumns {
                id: crate::event::KeyShape::guid("id"),
                modified,
                etag_versions: false,
            },
            missing_id,
            overlap: Duration::from_secs(2),
            store: &self.store,
            state: &self.state,
            bus: &self.bus,
            topics: &self.topics,
            status: &self.status,
        }
    }

    /// One pass of the BC-shaped poll, every new row an upsert of `things`.
    async fn pass(&self, source: &FakeSource) -> Result<(), SystemError> {
        self.poller(
            ModifiedColumns::instant("lastModifiedDateTime"),
            MissingId::Fail,
        )
        .pass(source, |row| async move { Ok(Ok(Some(upsert(row)))) })
        .await
        .unwrap()
    }

    /// The events appended since the last call, as (id, modified-on).
    async fn appended(&self) -> Vec<(String, Option<DateTime<Utc>>)> {
        let mut slot = self.read.lock().take();
        if slot.is_none() {
            let names = vec![self.topics.changes.clone()];
            slot = Some(
                self.bus
                    .subscribe("test", &names, StartFrom::Earliest)
                    .await
                    .unwrap(),
            );
        }
        let mut consumer = slot.unwrap();
        let mut out = Vec::new();
        loop {
            let got = consumer
                .poll(100, Duration::from_millis(100))
                .await
                .unwrap();
            if got.is_empty() {
                break;
            }
            for m in got {
                let ev = decode_change(m.bytes()).unwrap();
                out.push((ev.source.id.clone(), ev.modified_on));
            }
        }
        *self.read.lock() = Some(consumer);
        out.sort();
        out
    }

    fn saved(&self) -> Value {
        self.store.checkpoint(NAME).unwrap().unwrap()
    }
}

fn upsert(row: ChangedRow) -> ChangeEvent {
    ChangeEvent::new(
        "THING",
        RecordKey::new(crate::systems::BC, "things", row.id),
        ChangeOp::Upsert,
        row.modified_on,
        None,
        row.fields,
    )
}

fn utc(s: &str) -> DateTime<Utc> {
    parse_instant(s).unwrap()
}

fn at(id: &str, t: &str) -> (String, Option<DateTime<Utc>>) {
    (id.to_string(), Some(utc(t)))
}

#[tokio::test]
async fn a_row_reread_in_the_overlap_window_is_appended_once_and_a_new_version_again() {
    let e = env().await;
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 10);
    src.put(json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    src.put(json!({"id": "b", "lastModifiedDateTime": "2024-05-01T10:00:01Z"}));
    e.pass(&src).await.unwrap();
    assert_eq!(
        e.appended().await,
        vec![
            at("a", "2024-05-01T10:00:00Z"),
            at("b", "2024-05-01T10:00:01Z")
        ]
    );
    assert_eq!(e.status.full_reads(), 1);

    // Both are re-read in the overlap window: nothing is appended again.
    e.pass(&src).await.unwrap();
    assert_eq!(e.appended().await, vec![]);
    assert_eq!(
        src.sinces.lock().clone(),
        vec![None, Some(utc("2024-05-01T09:59:59Z"))]
    );

    // A new version of `a` in the same second as the watermark, and a late commit of `c`
    // stamped before it: both appended once.
    src.put(json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:00:01.500Z"}));
    src.put(json!({"id": "c", "lastModifiedDateTime": "2024-05-01T10:00:00.500Z"}));
    e.pass(&src).await.unwrap();
    e.pass(&src).await.unwrap();
    assert_eq!(
        e.appended().await,
        vec![
            at("a", "2024-05-01T10:00:01.500Z"),
            at("c", "2024-05-01T10:00:00.500Z")
        ]
    );
    assert_eq!(e.status.events(), 4);
    assert_eq!(
        e.status.full_reads(),
        1,
        "only the first pass reads everything"
    );
}

#[tokio::test]
async fn the_watermark_advances_and_the_seen_map_is_pruned_at_the_overlap_floor() {
    let e = env().await;
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 10);
    src.put(json!({"id": "old", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    src.put(json!({"id": "edge", "lastModifiedDateTime": "2024-05-01T10:00:08Z"}));
    src.put(json!({"id": "new", "lastModifiedDateTime": "2024-05-01T10:00:10Z"}));
    e.pass(&src).await.unwrap();
    let saved = e.saved();
    assert_eq!(saved["watermark"], "2024-05-01T10:00:10.000Z");
    assert_eq!(
        saved["seen"],
        json!({"edge": "2024-05-01T10:00:08Z", "new": "2024-05-01T10:00:10Z"})
    );
    assert!(saved["at"].as_str().and_then(parse_instant).is_some());

    src.put(json!({"id": "old", "lastModifiedDateTime": "2024-05-01T10:00:20Z"}));
    e.pass(&src).await.unwrap();
    let saved = e.saved();
    assert_eq!(saved["watermark"], "2024-05-01T10:00:20.000Z");
    assert_eq!(saved["seen"], json!({"old": "2024-05-01T10:00:20Z"}));
    assert_eq!(e.appended().await.len(), 4);
}

#[tokio::test]
async fn each_page_is_on_the_log_before_its_checkpoint_and_a_fault_keeps_the_last_one() {
    let e = env().await;
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 1);
    src.put(json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    src.put(json!({"id": "b", "lastModifiedDateTime": "2024-05-01T10:00:10Z"}));
    *src.fail_after.lock() = Some(1);
    let err = e.pass(&src).await.unwrap_err();
    assert!(err.to_string().contains("the fake fails"), "{err}");
    assert_eq!(e.appended().await, vec![at("a", "2024-05-01T10:00:00Z")]);
    assert_eq!(e.saved()["watermark"], "2024-05-01T10:00:00.000Z");

    // The retry goes on from there, without `a` again.
    *src.fail_after.lock() = None;
    e.pass(&src).await.unwrap();
    assert_eq!(e.appended().await, vec![at("b", "2024-05-01T10:00:10Z")]);
    assert_eq!(e.saved()["watermark"], "2024-05-01T10:00:10.000Z");
}

#[tokio::test]
async fn a_checkpoint_written_by_the_earlier_captures_is_read_and_kept() {
    let e = env().await;
    // As `BcCapture` saved it before the poller: `a` appended in this exact version.
    let before = json!({
        "watermark": "2024-05-01T10:00:00.000Z",
        "seen": {"a": "2024-05-01T10:00:00Z"},
        "at": "2024-05-01T10:00:05.123456789+00:00",
    });
    e.state.save_checkpoint(NAME, &before).await.unwrap();
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 10);
    src.put(json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    src.put(json!({"id": "b", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    e.pass(&src).await.unwrap();
    assert_eq!(e.appended().await, vec![at("b", "2024-05-01T10:00:00Z")]);
    assert_eq!(e.status.full_reads(), 0);
    assert_eq!(
        src.sinces.lock().clone(),
        vec![Some(utc("2024-05-01T09:59:58Z"))]
    );
    let saved = e.saved();
    assert_eq!(saved["watermark"], before["watermark"]);
    assert_eq!(
        saved["seen"],
        json!({"a": "2024-05-01T10:00:00Z", "b": "2024-05-01T10:00:00Z"})
    );
}

#[tokio::test]
async fn a_row_without_an_id_fails_the_pass_or_is_left_out() {
    let e = env().await;
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 10);
    src.put(json!({"lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    src.put(json!({"id": "b", "lastModifiedDateTime": "2024-05-01T10:00:01Z"}));
    let err = e.pass(&src).await.unwrap_err();
    assert!(err.to_string().contains("a things row has no id"), "{err}");
    assert_eq!(e.appended().await, vec![]);
    assert!(e.store.checkpoint(NAME).unwrap().is_none());

    e.poller(
        ModifiedColumns::instant("lastModifiedDateTime"),
        MissingId::Skip,
    )
    .pass(&src, |row| async move { Ok(Ok(Some(upsert(row)))) })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(e.appended().await, vec![at("b", "2024-05-01T10:00:01Z")]);
}

#[tokio::test]
async fn a_row_the_caller_leaves_out_is_still_seen_and_moves_the_watermark() {
    let e = env().await;
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 10);
    src.put(json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    src.put(json!({"id": "b", "lastModifiedDateTime": "2024-05-01T10:00:01Z"}));
    let mut offered = Vec::new();
    e.poller(
        ModifiedColumns::instant("lastModifiedDateTime"),
        MissingId::Fail,
    )
    .pass(&src, |row| {
        offered.push(row.id.clone());
        let keep = row.id == "a";
        async move { Ok(Ok(keep.then(|| upsert(row)))) }
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(offered, vec!["a", "b"]);
    assert_eq!(e.appended().await, vec![at("a", "2024-05-01T10:00:00Z")]);
    assert_eq!(e.saved()["watermark"], "2024-05-01T10:00:01.000Z");
    assert_eq!(e.status.events(), 1);
}

#[tokio::test]
async fn sap_b1_update_date_and_time_columns_drive_the_same_poll() {
    let e = env().await;
    let modified = ModifiedColumns::date_and_time("UpdateDate", "UpdateTime");
    let src = FakeSource::new(modified.clone(), 10);
    src.put(json!({"id": "C1", "UpdateDate": "2024-05-01T00:00:00Z", "UpdateTime": "10:15:30"}));
    src.put(json!({"id": "C2", "UpdateDate": "2024-05-01", "UpdateTime": "10:15:31"}));
    let poller = e.poller(modified, MissingId::Fail);
    let pass = || poller.pass(&src, |row| async move { Ok(Ok(Some(upsert(row)))) });
    pass().await.unwrap().unwrap();
    assert_eq!(
        e.appended().await,
        vec![
            at("C1", "2024-05-01T10:15:30Z"),
            at("C2", "2024-05-01T10:15:31Z")
        ]
    );
    assert_eq!(e.saved()["watermark"], "2024-05-01T10:15:31.000Z");
    assert_eq!(
        e.saved()["seen"],
        json!({"C1": "2024-05-01T10:15:30Z", "C2": "2024-05-01T10:15:31Z"})
    );
    pass().await.unwrap().unwrap();
    assert_eq!(e.appended().await, vec![]);
    src.put(json!({"id": "C1", "UpdateDate": "2024-05-01", "UpdateTime": "10:15:32"}));
    pass().await.unwrap().unwrap();
    assert_eq!(e.appended().await, vec![at("C1", "2024-05-01T10:15:32Z")]);
}

/// The checkpoint messages appended so far.
async fn checkpoint_messages(e: &Env) -> usize {
    let mut c = e
        .bus
        .subscribe(
            &format!("count-{}", uuid::Uuid::new_v4().simple()),
            std::slice::from_ref(&e.topics.checkpoints),
            StartFrom::Earliest,
        )
        .await
        .unwrap();
    let mut n = 0;
    loop {
        let got = c.poll(100, Duration::from_millis(100)).await.unwrap();
        if got.is_empty() {
            return n;
        }
        n += got.len();
    }
}

#[tokio::test]
async fn an_idle_table_appends_no_checkpoint() {
    let e = env().await;
    let src = FakeSource::new(ModifiedColumns::instant("lastModifiedDateTime"), 10);
    // An empty table: the first pass records that it was read, once.
    e.pass(&src).await.unwrap();
    e.pass(&src).await.unwrap();
    assert_eq!(checkpoint_messages(&e).await, 1);
    assert_eq!(e.saved()["watermark"], Value::Null);

    src.put(json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:00:00Z"}));
    e.pass(&src).await.unwrap();
    assert_eq!(checkpoint_messages(&e).await, 2);
    // Nothing moves: many passes, no checkpoint.
    for _ in 0..5 {
        e.pass(&src).await.unwrap();
    }
    assert_eq!(checkpoint_messages(&e).await, 2);
    src.put(json!({"id": "b", "lastModifiedDateTime": "2024-05-01T10:00:05Z"}));
    e.pass(&src).await.unwrap();
    assert_eq!(checkpoint_messages(&e).await, 3);
    assert_eq!(e.saved()["watermark"], json!("2024-05-01T10:00:05.000Z"));
}
