//! `couplet sync-now`: one record overwritten from the other side at once, in each direction,
//! through the binary (no running instance: the command runs the stages), and through a
//! running engine (a forced change on the changes topic).

use std::collections::HashSet;
use std::time::Duration;

use crate::cli_support::{Cli, fields};
use crate::common::Harness;
use couplet::event::{OutcomeStatus, RecordKey};
use couplet::pipeline::sync_now::{read_change, request, wait_outcomes};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_overwrites_a_deliberately_different_target_in_each_direction() {
    let cli = Cli::start(0).await;
    let erp = cli.customer("Sync Now Co", "+1 555 0100");
    let crm = cli.account("Sync Now Co (old name)", "+1 555 0999");
    let r = cli
        .run(
            &["couple", "CUSTOMER", "--erp-id", &erp, "--crm-id", &crm],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");

    // ERP -> CRM.
    let r = cli
        .run(
            &["sync-now", "CUSTOMER", &erp, "--direction", "to-crm"],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out.contains(&format!(
            "CUSTOMER: bc/customers/{erp} -> dataverse/accounts/{crm}: updated"
        )),
        "{}",
        r.out
    );
    assert!(r.out.contains("now holds:"), "{}", r.out);
    assert!(r.out.contains("\"Sync Now Co\""), "{}", r.out);
    assert_eq!(
        cli.text(couplet::systems::DATAVERSE, "accounts", &crm, "name"),
        "Sync Now Co"
    );
    assert_eq!(
        cli.text(couplet::systems::DATAVERSE, "accounts", &crm, "telephone1"),
        "+1 555 0100"
    );

    // Forced: the same values again are written again (not "unchanged").
    let r = cli
        .run(
            &["sync-now", "CUSTOMER", &erp, "--direction", "to-crm"],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains(": updated"), "{}", r.out);

    // CRM -> ERP, with the ERP side deliberately different; the record is named by its
    // Dataverse key.
    cli.sb
        .update_row(
            couplet::systems::DATAVERSE,
            "accounts",
            &crm,
            fields(json!({"telephone1": "+1 555 0777"})),
        )
        .unwrap();
    cli.sb
        .update_row(
            couplet::systems::BC,
            "customers",
            &erp,
            fields(json!({"phoneNumber": "+1 555 0333"})),
        )
        .unwrap();
    let r = cli
        .run(
            &[
                "sync-now",
                "CUSTOMER",
                &format!("dataverse/accounts/{crm}"),
                "--direction",
                "to-erp",
            ],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out.contains(&format!(
            "dataverse/accounts/{crm} -> bc/customers/{erp}: updated"
        )),
        "{}",
        r.out
    );
    assert_eq!(
        cli.text(couplet::systems::BC, "customers", &erp, "phoneNumber"),
        "+1 555 0777"
    );

    // The target side's id stands for its coupled source: ERP -> CRM named by the CRM id.
    cli.sb
        .update_row(
            couplet::systems::DATAVERSE,
            "accounts",
            &crm,
            fields(json!({"name": "Renamed in CRM"})),
        )
        .unwrap();
    let r = cli
        .run(
            &["sync-now", "CUSTOMER", &crm, "--direction", "to-crm"],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        cli.text(couplet::systems::DATAVERSE, "accounts", &crm, "name"),
        "Sync Now Co"
    );

    // The audit trail and the couplings list record the forced writes.
    let r = cli
        .run(&["audit", &format!("bc/customers/{erp}")], true)
        .await;
    assert!(r.out.matches("updated").count() >= 3, "{}", r.out);
    let r = cli
        .run(&["couplings", "list", "--mapping", "CUSTOMER"], true)
        .await;
    let line = r.out.lines().find(|l| l.contains(&crm)).unwrap();
    assert!(
        line.contains("to_crm") && line.contains("updated"),
        "{line}"
    );

    // A direction the mapping does not allow is refused before anything is done.
    let r = cli
        .run(
            &["sync-now", "CUSTOMER", "nope", "--direction", "sideways"],
            true,
        )
        .await;
    assert_ne!(r.code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_of_an_uncoupled_record_creates_and_couples_once() {
    let cli = Cli::start(0).await;
    let erp = cli.customer("Fresh Start Ltd", "+1 555 0123");
    let before = cli.sb.rows(couplet::systems::DATAVERSE, "accounts").len();
    let r = cli
        .run(
            &["sync-now", "CUSTOMER", &erp, "--direction", "to-crm"],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains(": created"), "{}", r.out);
    assert_eq!(
        cli.sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        before + 1
    );
    // Again: the coupled account is updated, no twin.
    let r = cli
        .run(
            &["sync-now", "CUSTOMER", &erp, "--direction", "to-crm"],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains(": updated"), "{}", r.out);
    assert_eq!(
        cli.sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        before + 1
    );
    // A record that does not exist is named.
    let r = cli
        .run(
            &[
                "sync-now",
                "CUSTOMER",
                "00000000-0000-0000-0000-00000000abcd",
                "--direction",
                "to-crm",
            ],
            true,
        )
        .await;
    assert_ne!(r.code, 0);
    assert!(r.err.contains("does not exist in bc"), "{}", r.err);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_engine_handles_a_forced_change() {
    let mut h = Harness::start(12, 5).await;
    h.wait_idle(crate::common::IDLE_TIMEOUT).await;
    let c = h.store().couplings(Some("CUSTOMER")).unwrap().remove(0);
    let cfg = couplet::cli::build::sandbox_config(&h.sb, h.dir.path()).unwrap();
    let crm = couplet::cli::build::targets(&cfg).unwrap().crm;
    let key = RecordKey::new(couplet::systems::DATAVERSE, "accounts", c.crm_id.clone());
    let topics = h.topics().clone();
    let bus = h.bus().clone();

    // Not forced: the current CRM record maps to what was last written: unchanged.
    let ev = read_change(&crm, "CUSTOMER", &key).await.unwrap().unwrap();
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let bytes = couplet::event::avro::encode_change(&ev).unwrap();
    bus.produce(&topics.changes, &key.to_string(), Some(&bytes), &[])
        .await
        .unwrap();
    let ids: HashSet<uuid::Uuid> = [ev.correlation_id].into();
    let got = wait_outcomes(&bus, &topics, &ids, since, Duration::from_secs(30))
        .await
        .unwrap();
    let o = &got[&ev.correlation_id];
    assert!(
        matches!(
            o.status,
            OutcomeStatus::Unchanged | OutcomeStatus::Echo | OutcomeStatus::Stale
        ),
        "{o:?}"
    );

    // Forced: written, whatever was synchronised before.
    let ev = read_change(&crm, "CUSTOMER", &key).await.unwrap().unwrap();
    request(&bus, &topics, &ev).await.unwrap();
    let ids: HashSet<uuid::Uuid> = [ev.correlation_id].into();
    let got = wait_outcomes(&bus, &topics, &ids, since, Duration::from_secs(30))
        .await
        .unwrap();
    let o = &got[&ev.correlation_id];
    assert_eq!(o.status, OutcomeStatus::Updated, "{o:?}");
    assert_eq!(o.target_id.as_deref(), Some(c.erp_id.as_str()));
    h.wait_idle(crate::common::IDLE_TIMEOUT).await;
    h.assert_in_sync();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_change_is_not_forced_again() {
    use couplet::bus::{Bus, StartFrom, Topics};
    use couplet::pipeline::replay::{ReplayFilter, read_topic, replay};
    use couplet::pipeline::sync_now::{FORCE_HEADER, is_forced};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let bus: Arc<dyn Bus> = couplet::cli::build::open_bus(dir.path()).unwrap();
    let topics = Topics::new("t");
    bus.ensure_topics(&topics.specs(2, 1)).await.unwrap();
    let ev = couplet::event::ChangeEvent::new(
        "CUSTOMER",
        RecordKey::new(
            couplet::systems::BC,
            "customers",
            "00000000-0000-0000-0000-000000000009",
        ),
        couplet::event::ChangeOp::Upsert,
        None,
        None,
        Default::default(),
    );
    request(&bus, &topics, &ev).await.unwrap();
    let (read, sent) = replay(
        &bus,
        &topics,
        &topics.changes,
        StartFrom::Earliest,
        &ReplayFilter {
            mapping: None,
            record: None,
        },
        |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!((read, sent), (1, 1));
    let mut msgs = Vec::new();
    read_topic(&bus, &topics.changes, StartFrom::Earliest, |m| {
        msgs.push(m.clone());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(msgs.len(), 2);
    let forced: Vec<bool> = msgs.iter().map(is_forced).collect();
    assert_eq!(forced.iter().filter(|f| **f).count(), 1, "{msgs:?}");
    let replayed = msgs
        .iter()
        .find(|m| m.headers.iter().any(|(k, _)| k == "couplet-replay"))
        .unwrap();
    assert!(!replayed.headers.iter().any(|(k, _)| k == FORCE_HEADER));
}
