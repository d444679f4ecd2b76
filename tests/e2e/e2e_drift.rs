//! End-to-end: `couplet reconcile` on the sandbox. After a sync, records are changed behind
//! Couplet's back directly in the sandbox (a field on the ERP side, a record deleted on the
//! CRM side, an uncoupled CRM twin carrying a coupled customer's number); reconciliation
//! reports each drift with its fields and both values, resumes after a page limit, samples,
//! fixes the differing pair through the normal pipeline (audited as a forced change) and finds
//! it fixed after. A scheduled run from `[reconcile]` fires on a short interval, fixes, and
//! updates the `couplet_reconcile_*` metrics. On F&O (composite keys, legal entities, the
//! default catalogue with its document and price mappings) a synced world shows no drift.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use couplet::drift::metrics::drift_metrics;
use couplet::drift::run::{ReconcileOptions, reconcile_all};
use couplet::drift::{Drift, FixSide, ReconcileConfig};
use couplet::event::{Fields, Side};
use couplet::mapping::schedule::Schedule;
use couplet::pipeline::sync_now::LocalStages;
use couplet::systems::{BC, DATAVERSE};
use serde_json::{Value, json};

/// The reconcile metrics are process-global: the tests here take turns.
async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn fields(v: Value) -> Fields {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn options(page_size: usize) -> ReconcileOptions {
    ReconcileOptions {
        sample: None,
        fix: None,
        page_size,
        concurrency: 2,
        max_pages: None,
        restart: false,
        fix_timeout: Duration::from_secs(60),
        trigger: "cli",
        stop: None,
        progress: Arc::new(|l| eprintln!("{l}")),
    }
}

fn customer() -> Vec<String> {
    vec!["CUSTOMER".to_string()]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reports_drift_made_behind_couplets_back_resumes_samples_and_fixes_it() {
    let _turn = turn().await;
    let mut h = Harness::start(10, 83).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();
    h.stop_engine().await;
    let parts = h.open_parts().await;
    let mut couplings = parts.store.couplings(Some("CUSTOMER")).unwrap();
    couplings.sort_by(|a, b| a.crm_id.cmp(&b.crm_id));
    let n = couplings.len();
    assert!(n >= 8, "{n} customers coupled");
    let (changed, deleted, twinned) = (&couplings[1], &couplings[4], &couplings[7]);

    // Behind Couplet's back: the ERP's phone changed, a CRM account deleted, and a new CRM
    // account carrying a coupled customer's number.
    let old_phone = h.row(DATAVERSE, "accounts", &changed.crm_id)["telephone1"].clone();
    h.sb.update_row(
        BC,
        "customers",
        &changed.erp_id,
        fields(json!({"phoneNumber": "+1 555 0199"})),
    )
    .unwrap();
    h.sb.delete_row(DATAVERSE, "accounts", &deleted.crm_id)
        .unwrap();
    let number = h.row(BC, "customers", &twinned.erp_id)["number"]
        .as_str()
        .unwrap()
        .to_string();
    let twin = h
        .sb
        .insert_row(
            DATAVERSE,
            "accounts",
            fields(json!({"name": "Twin of a coupled customer", "accountnumber": number, "statecode": 0, "customertypecode": 3})),
        )
        .unwrap();

    // A run limited to one page stops after it; the next resumes after that page.
    let mut o = options(3);
    o.max_pages = Some(1);
    let r = reconcile_all(&parts, &customer(), &o).await.unwrap();
    assert_eq!(r.len(), 1);
    assert!(!r[0].complete, "{r:?}");
    assert_eq!((r[0].checked, r[0].pages), (3, 1));
    let saved = parts
        .store
        .checkpoint("reconcile/CUSTOMER")
        .unwrap()
        .expect("the run's state is a checkpoint");
    assert_eq!(saved["checked"], json!(3), "{saved}");
    assert!(saved["finished_at"].is_null(), "{saved}");
    let checked_before = drift_metrics()
        .checked
        .with_label_values(&["CUSTOMER"])
        .get();
    o.max_pages = None;
    let r = reconcile_all(&parts, &customer(), &o).await.unwrap();
    let r = &r[0];
    assert!(r.complete && r.resumed, "{r:?}");
    assert_eq!(
        r.checked as usize, n,
        "every coupling once over the two runs"
    );
    assert_eq!(r.pages as usize, n.div_ceil(3));
    assert_eq!(
        drift_metrics()
            .checked
            .with_label_values(&["CUSTOMER"])
            .get()
            - checked_before,
        (n - 3) as u64,
        "the resumed run did not read the first page again"
    );

    // Each drift, with the fields and both values.
    assert_eq!(
        (
            r.counts.differs,
            r.counts.missing_crm,
            r.counts.missing_erp,
            r.counts.twin_crm,
            r.counts.twin_erp
        ),
        (1, 1, 0, 1, 0),
        "{r:#?}"
    );
    let differs = r
        .drift
        .iter()
        .find_map(|d| match d {
            Drift::Differs {
                crm_id,
                erp_id,
                fields,
            } if crm_id == &changed.crm_id && erp_id == &changed.erp_id => Some(fields),
            _ => None,
        })
        .expect("the changed pair differs");
    assert_eq!(differs.len(), 1, "{differs:?}");
    assert_eq!(differs[0].field, "phoneNumber");
    assert_eq!(differs[0].side, Side::Erp);
    assert_eq!(differs[0].crm, old_phone);
    assert_eq!(differs[0].erp, json!("+1 555 0199"));
    assert!(r.drift.contains(&Drift::Missing {
        crm_id: deleted.crm_id.clone(),
        erp_id: deleted.erp_id.clone(),
        gone: Some(Side::Crm),
    }));
    assert!(
        r.drift.contains(&Drift::Twin {
            crm_id: twinned.crm_id.clone(),
            erp_id: twinned.erp_id.clone(),
            side: Side::Crm,
            id: twin.clone(),
            key: number.clone(),
        }),
        "{:#?}",
        r.drift
    );
    let text = couplet::drift::report::render(std::slice::from_ref(r), "dataverse", "bc");
    assert!(
        text.contains(&format!(
            "phoneNumber (erp field): CRM {old_phone} | ERP \"+1 555 0199\""
        )),
        "{text}"
    );

    // A sample checks that many couplings (and resumes within the same sample).
    let mut s = options(2);
    s.sample = Some(4);
    s.max_pages = Some(1);
    let r = reconcile_all(&parts, &customer(), &s).await.unwrap();
    assert_eq!(
        (r[0].checked, r[0].complete, r[0].resumed),
        (2, false, false)
    );
    s.max_pages = None;
    let r = reconcile_all(&parts, &customer(), &s).await.unwrap();
    assert_eq!((r[0].checked, r[0].complete, r[0].resumed), (4, true, true));
    assert_eq!(r[0].sample, Some(4));

    // --fix erp: the ERP's values win, through the pipeline (the command's own stages).
    let stages = LocalStages::start(&parts).await.unwrap();
    let mut f = options(3);
    f.fix = Some(FixSide::Erp);
    let r = reconcile_all(&parts, &customer(), &f).await.unwrap();
    stages.stop(Duration::from_secs(10)).await.unwrap();
    let fixes = &r[0].fixes;
    assert_eq!(
        fixes.len(),
        1,
        "only the differing pair is fixed: {fixes:?}"
    );
    assert_eq!(fixes[0].crm_id, changed.crm_id);
    assert_eq!(fixes[0].from, Some(Side::Erp));
    assert!(
        fixes[0].settled && fixes[0].result.starts_with("updated"),
        "{fixes:?}"
    );
    assert_eq!(
        h.row(DATAVERSE, "accounts", &changed.crm_id)["telephone1"],
        json!("+1 555 0199")
    );
    let audit: Vec<String> = parts
        .store
        .audit(&format!("bc/customers/{}", changed.erp_id))
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.kind, e.summary))
        .collect();
    assert!(
        audit.iter().any(|a| a.contains("forced by reconcile")),
        "{audit:#?}"
    );
    assert!(
        audit
            .iter()
            .any(|a| a.starts_with("outcome updated") && a.contains(&changed.crm_id)),
        "{audit:#?}"
    );

    // After the fix: nothing differs; what needs a person's decision is still reported.
    let r = reconcile_all(&parts, &customer(), &options(3))
        .await
        .unwrap();
    assert_eq!(
        (
            r[0].counts.differs,
            r[0].counts.missing_crm,
            r[0].counts.twin_crm
        ),
        (0, 1, 1),
        "{:#?}",
        r[0]
    );
    assert_eq!(
        drift_metrics()
            .drift
            .with_label_values(&["CUSTOMER", "differs"])
            .get(),
        0
    );
    assert_eq!(
        drift_metrics()
            .drift
            .with_label_values(&["CUSTOMER", "missing_crm"])
            .get(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_reconciliation_fires_from_the_config_fixes_and_updates_the_metrics() {
    let _turn = turn().await;
    let mut h = Harness::start(4, 84).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();
    // The CRM's credit limit changed behind Couplet's back: the mapping carries it from the
    // ERP only, so capture leaves the pair drifted.
    let c = h.store().couplings(Some("CUSTOMER")).unwrap()[0].clone();
    let erp_limit = h.row(BC, "customers", &c.erp_id)["creditLimit"].clone();
    h.sb.update_row(
        DATAVERSE,
        "accounts",
        &c.crm_id,
        fields(json!({"creditlimit": 987654})),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_eq!(
        h.row(DATAVERSE, "accounts", &c.crm_id)["creditlimit"],
        json!(987654)
    );

    let m = drift_metrics();
    let runs = || {
        m.runs
            .with_label_values(&["CUSTOMER", "schedule", "complete"])
            .get()
    };
    let (runs0, forced0, found0) = (
        runs(),
        m.fixes.with_label_values(&["CUSTOMER", "forced"]).get(),
        m.found.with_label_values(&["CUSTOMER", "differs"]).get(),
    );
    let cfg: ReconcileConfig = toml::from_str(
        "schedule = { every = \"300ms\" }\nmappings = [\"CUSTOMER\"]\nfix = \"erp\"\npage_size = 2",
    )
    .unwrap();
    assert_eq!(cfg.schedule, Some(Schedule::Every("300ms".into())));
    let (stop, rx) = tokio::sync::watch::channel(false);
    let mut unknown = cfg.clone();
    unknown.mappings = vec!["NO SUCH".into()];
    let e = couplet::drift::schedule::spawn(h.engine().parts().clone(), unknown, rx.clone())
        .unwrap_err()
        .to_string();
    assert!(e.contains("[reconcile] mappings names 'NO SUCH'"), "{e}");
    let task = couplet::drift::schedule::spawn(h.engine().parts().clone(), cfg, rx)
        .unwrap()
        .expect("a schedule is configured");
    let deadline = Instant::now() + Duration::from_secs(60);
    while runs() < runs0 + 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    task.await.unwrap();
    assert!(runs() >= runs0 + 2, "two scheduled runs within 60 s");
    assert_eq!(
        m.found.with_label_values(&["CUSTOMER", "differs"]).get() - found0,
        1,
        "the first run found the drift, the next ones none"
    );
    assert_eq!(
        m.fixes.with_label_values(&["CUSTOMER", "forced"]).get() - forced0,
        1
    );
    assert_eq!(
        m.drift.with_label_values(&["CUSTOMER", "differs"]).get(),
        0,
        "the last run found it fixed"
    );
    assert!(
        m.last_complete.with_label_values(&["CUSTOMER"]).get()
            >= chrono::Utc::now().timestamp() - 60
    );
    assert_eq!(
        h.row(DATAVERSE, "accounts", &c.crm_id)["creditlimit"],
        erp_limit,
        "the ERP's value won"
    );
    let text = couplet::metrics::metrics().render();
    assert!(
        text.contains("couplet_reconcile_drift{kind=\"differs\",mapping=\"CUSTOMER\"} 0"),
        "{text}"
    );
    let st = h
        .store()
        .checkpoint(couplet::drift::schedule::CHECKPOINT)
        .unwrap()
        .expect("the schedule's checkpoint");
    assert!(
        st["next_run"].is_string() && st["last_run"].is_string(),
        "{st}"
    );
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_fo_sync_nothing_drifts_and_a_change_made_while_stopped_is_found() {
    let _turn = turn().await;
    let mut h = Harness::start_erp(
        "fo",
        couplet::sandbox::SandboxConfig {
            records: 12,
            seed: 85,
            ..Default::default()
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let parts = h.engine().parts().clone();
    let reports = reconcile_all(&parts, &[], &options(5)).await.unwrap();
    assert!(!reports.is_empty());
    let mut checked = 0;
    for r in &reports {
        assert!(r.complete, "{r:?}");
        assert_eq!(r.counts.total(), 0, "{r:#?}");
        checked += r.checked;
    }
    assert!(checked > 0, "{reports:#?}");
    // A change in F&O made while Couplet is stopped is found on its pair, by the legal
    // entity's composite key.
    let c = parts.store.couplings(Some("CUSTOMER")).unwrap()[0].clone();
    h.stop_engine().await;
    drop(parts);
    let fo_row =
        h.sb.rows(couplet::systems::fo::system::SYSTEM, "CustomersV3")
            .into_iter()
            .find(|r| {
                couplet::systems::fo::system::SYSTEM
                    .record_id("CustomersV3", r)
                    .as_deref()
                    == Some(c.erp_id.as_str())
            })
            .expect("the coupled customer");
    let number = fo_row["CustomerAccount"].as_str().unwrap().to_string();
    h.sb.fo_update_row(
        "CustomersV3",
        &format!("dataAreaId='usmf',CustomerAccount='{number}'"),
        fields(json!({"AddressCity": "Fargo"})),
    )
    .unwrap();
    let parts = h.open_parts().await;
    let r = reconcile_all(&parts, &customer(), &options(5))
        .await
        .unwrap();
    assert_eq!(r[0].counts.total(), 1, "{:#?}", r[0]);
    match &r[0].drift[0] {
        Drift::Differs { erp_id, fields, .. } => {
            assert_eq!(erp_id, &c.erp_id);
            assert!(fields.iter().any(|f| f.erp == json!("Fargo")), "{fields:?}");
        }
        other => panic!("{other:?}"),
    }
}
