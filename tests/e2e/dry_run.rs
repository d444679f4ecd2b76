//! End-to-end: `couplet mappings dry-run` on the embedded log after a synchronisation of the
//! sandbox. Three changed mapping files: a field mapping with a rule added, a field removed,
//! a table filter added. Each report names exactly the field or the records the change
//! touches, and the dry-run leaves the log, the consumer groups and the projection as they
//! were.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use couplet::cli::mappings_dry_run::{DryRunArgs, report};
use couplet::dryrun::model::{Report, Verdict};
use couplet::event::avro::{decode_command, decode_outcome};
use couplet::event::{OutcomeStatus, WriteCommand};

use crate::common::*;

/// What the dry-run must leave as it was: every topic's end offsets, the engine's committed
/// offsets, and the projection.
#[derive(Debug, PartialEq)]
struct Snapshot {
    ends: Vec<(String, Vec<u64>)>,
    committed: Vec<(String, String, Vec<Option<u64>>)>,
    projection: String,
}

async fn snapshot(h: &Harness) -> Snapshot {
    let p = h.open_parts().await;
    let mut ends = Vec::new();
    for spec in p.topics.specs(p.partitions, 1) {
        ends.push((
            spec.name.clone(),
            p.bus.end_offsets(&spec.name).await.unwrap(),
        ));
    }
    let mut committed = Vec::new();
    for group in ["transform", "apply"] {
        let g = p.topics.group(group);
        for t in [&p.topics.changes, &p.topics.commands] {
            committed.push((g.clone(), t.clone(), p.bus.committed(&g, t).await.unwrap()));
        }
    }
    let s = &p.store;
    let projection = format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        s.couplings(None).unwrap(),
        s.parked().unwrap(),
        s.errors().unwrap(),
        s.checkpoints().unwrap()
    );
    Snapshot {
        ends,
        committed,
        projection,
    }
}

/// Every command the sync issued.
async fn logged_commands(h: &Harness) -> Vec<WriteCommand> {
    let p = h.open_parts().await;
    read_topic(&p.bus, &p.topics.commands)
        .await
        .iter()
        .map(|m| decode_command(m.bytes()).unwrap())
        .collect()
}

/// Runs the dry-run of `mappings` (a file's text) the way the command does, retrying while
/// sled still holds the just-closed log for a moment.
async fn dry_run(h: &Harness, mappings: &str, format_check: bool) -> Report {
    dry_run_window(h, mappings, format_check, None, None).await
}

/// [`dry_run`] over `--since` or `--last`.
async fn dry_run_window(
    h: &Harness,
    mappings: &str,
    format_check: bool,
    since: Option<&str>,
    last: Option<usize>,
) -> Report {
    let file = h.dir.path().join("new-mappings.toml");
    std::fs::write(&file, mappings).unwrap();
    let config = h.dir.path().join("couplet.toml");
    let text = couplet::cli::build::sandbox_config_text(&h.sb, h.dir.path());
    std::fs::write(&config, text).unwrap();
    let args = DryRunArgs {
        config: PathBuf::from(&config),
        mappings: file,
        mapping: None,
        since: since.map(str::to_string),
        last,
        format: "json".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let r = loop {
        match report(&args).await {
            Ok(r) => break r,
            Err(e) if Instant::now() < deadline && format!("{e:#}").contains("in use") => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("dry-run failed: {e:#}"),
        }
    };
    if format_check {
        let json: serde_json::Value =
            serde_json::from_str(&serde_json::to_string_pretty(&r).unwrap()).unwrap();
        assert_eq!(json["backend"], "embedded");
        assert_eq!(json["changes"].as_u64(), Some(r.changes));
        assert!(
            json["mappings"]["CUSTOMER"]["verdicts"].is_object(),
            "{json}"
        );
        assert!(json["records"].is_array());
    }
    r
}

/// The fields the report names, with how they change.
fn fields_named(r: &Report) -> BTreeSet<(String, String)> {
    r.records
        .iter()
        .flat_map(|rec| &rec.changes)
        .flat_map(|c| &c.fields)
        .map(|f| (f.field.clone(), format!("{:?}", f.change)))
        .collect()
}

/// The event ids the report lists with `verdict`.
fn events_with(r: &Report, verdict: Verdict) -> HashSet<uuid::Uuid> {
    r.records
        .iter()
        .flat_map(|rec| &rec.changes)
        .filter(|c| c.verdict == verdict)
        .map(|c| c.event_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_names_the_changed_field_the_removed_field_and_the_filtered_records() {
    let base = couplet::mapping::catalogue::DEFAULTS;
    let mut h = Harness::start_with_mappings(16, 23, base).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.assert_in_sync();
    h.stop_engine().await;
    let before = snapshot(&h).await;
    let commands = logged_commands(&h).await;
    let customer: Vec<&WriteCommand> = commands
        .iter()
        .filter(|c| c.mapping == "CUSTOMER")
        .collect();
    assert!(customer.len() >= 8, "{} CUSTOMER commands", customer.len());

    // The mappings as they run: every change is decided as the log shows.
    let same = dry_run(&h, base, true).await;
    assert!(same.changes > 0);
    assert!(same.no_difference(), "{same:#?}");
    assert!(same.records.is_empty(), "{:#?}", same.records);
    let c = &same.mappings["CUSTOMER"];
    assert_eq!(c.count(Verdict::Same), c.changes, "{c:?}");

    // (a) A changed field mapping: the name written upper-case.
    let upper = defaults_with(
        "CUSTOMER",
        "crm = \"name\"\n  erp = \"displayName\"",
        "crm = \"name\"\n  erp = \"displayName\"\n  rules = [\"upper\"]",
    );
    let r = dry_run(&h, &upper, true).await;
    let named = fields_named(&r);
    assert!(!named.is_empty(), "{r:#?}");
    for (field, change) in &named {
        assert!(
            ["name", "displayName"].contains(&field.as_str()) && change == "Changed",
            "the dry-run names {field} ({change}): {named:?}"
        );
    }
    for f in r
        .records
        .iter()
        .flat_map(|rec| &rec.changes)
        .flat_map(|c| &c.fields)
    {
        let was = f.was.as_ref().and_then(|v| v.as_str()).unwrap();
        assert_eq!(
            f.would_be.as_ref().and_then(|v| v.as_str()),
            Some(was.to_uppercase().as_str())
        );
    }
    // Every logged write of a name with lower-case letters is reported, and nothing else.
    let expected: HashSet<uuid::Uuid> = customer
        .iter()
        .filter(|c| {
            ["name", "displayName"].iter().any(|f| {
                c.fields
                    .get(*f)
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| v != v.to_uppercase())
            })
        })
        .map(|c| c.event_id)
        .collect();
    let changed = events_with(&r, Verdict::Changed);
    assert!(
        expected.is_subset(&changed),
        "missing: {:?}",
        expected.difference(&changed)
    );
    let c = &r.mappings["CUSTOMER"];
    assert_eq!(c.count(Verdict::Changed), changed.len() as u64, "{c:?}");
    assert_eq!(
        c.fields_changed,
        changed.len() as u64,
        "one field per change: {c:?}"
    );
    assert_eq!(c.fields_added + c.fields_removed, 0, "{c:?}");
    assert_eq!(
        c.count(Verdict::Same) + c.count(Verdict::Changed),
        c.changes,
        "{c:?}"
    );
    let contact = &r.mappings["CONTACT"];
    assert_eq!(contact.count(Verdict::Same), contact.changes, "{contact:?}");

    // (b) A field removed: websiteurl <-> website.
    let removed = defaults_with(
        "CUSTOMER",
        "  [[mapping.fields]]\n  crm = \"websiteurl\"\n  erp = \"website\"\n",
        "",
    );
    let r = dry_run(&h, &removed, false).await;
    let named = fields_named(&r);
    assert!(!named.is_empty(), "{r:#?}");
    for (field, change) in &named {
        assert!(
            ["websiteurl", "website"].contains(&field.as_str()) && change == "Removed",
            "the dry-run names {field} ({change}): {named:?}"
        );
    }
    let expected: HashSet<uuid::Uuid> = customer
        .iter()
        .filter(|c| c.fields.contains_key("website") || c.fields.contains_key("websiteurl"))
        .map(|c| c.event_id)
        .collect();
    let changed = events_with(&r, Verdict::Changed);
    assert!(!expected.is_empty());
    assert!(
        expected.is_subset(&changed),
        "missing: {:?}",
        expected.difference(&changed)
    );
    let c = &r.mappings["CUSTOMER"];
    assert_eq!(c.fields_removed, changed.len() as u64, "{c:?}");
    assert_eq!(c.fields_added + c.fields_changed, 0, "{c:?}");

    // (c) A table filter added: accounts of one city are left out.
    let city = customer
        .iter()
        .filter(|c| c.source.system == couplet::systems::DATAVERSE)
        .find_map(|c| {
            let ev =
                h.sb.row(couplet::systems::DATAVERSE, "accounts", &c.source.id)?;
            Some(text(&ev, "address1_city")).filter(|s| !s.is_empty())
        })
        .expect("a CRM account written to the ERP has a city");
    let filtered = defaults_with(
        "CUSTOMER",
        "crm_filter = \"statecode eq 0 and (customertypecode eq 3 or customertypecode eq null)\"",
        &format!(
            "crm_filter = \"statecode eq 0 and (customertypecode eq 3 or customertypecode eq null) and address1_city ne '{city}'\""
        ),
    );
    let r = dry_run(&h, &filtered, false).await;
    let out = events_with(&r, Verdict::FilteredOut);
    // Exactly the written changes of accounts in that city.
    let in_city: HashSet<uuid::Uuid> = customer
        .iter()
        .filter(|c| c.source.system == couplet::systems::DATAVERSE)
        .filter(|c| {
            h.sb.row(couplet::systems::DATAVERSE, "accounts", &c.source.id)
                .is_some_and(|row| text(&row, "address1_city") == city)
        })
        .map(|c| c.event_id)
        .collect();
    assert!(!in_city.is_empty());
    assert_eq!(out, in_city, "filtered out");
    for rec in &r.records {
        assert!(rec.record.starts_with("dataverse/accounts/"), "{rec:?}");
        for c in &rec.changes {
            assert!(matches!(c.verdict, Verdict::FilteredOut), "{c:?}");
            assert!(
                c.reason.as_deref().unwrap_or_default().contains(&city),
                "{c:?}"
            );
            assert!(c.fields.is_empty());
        }
    }
    assert_eq!(
        r.mappings["CUSTOMER"].count(Verdict::FilteredOut),
        in_city.len() as u64
    );
    // The text output has the counts and the records.
    let text_out = couplet::dryrun::render::text(&r, "new-mappings.toml");
    assert!(text_out.contains("filtered out"), "{text_out}");
    assert!(text_out.contains("nothing written"), "{text_out}");

    // (d) A rule that cannot transform the names: every CUSTOMER change would fail, named.
    let failing = defaults_with(
        "CUSTOMER",
        "crm = \"name\"\n  erp = \"displayName\"",
        "crm = \"name\"\n  erp = \"displayName\"\n  rules = [{ date_format = { from = \"%d.%m.%Y\", to = \"%Y-%m-%d\" } }]",
    );
    let r = dry_run(&h, &failing, false).await;
    let fail = events_with(&r, Verdict::WouldFail);
    let written: HashSet<uuid::Uuid> = customer.iter().map(|c| c.event_id).collect();
    assert!(
        written.is_subset(&fail),
        "missing: {:?}",
        written.difference(&fail)
    );
    for c in r.records.iter().flat_map(|rec| &rec.changes) {
        assert_eq!(c.verdict, Verdict::WouldFail, "{c:?}");
        let why = c.reason.as_deref().unwrap_or_default();
        assert!(
            why.contains("date_format")
                && (why.contains("field name:") || why.contains("field displayName:")),
            "{why}"
        );
    }
    // The rest were filtered out before the fields are mapped, then as now.
    let c = &r.mappings["CUSTOMER"];
    assert_eq!(
        c.count(Verdict::WouldFail) + c.count(Verdict::Same),
        c.changes,
        "{c:?}"
    );

    // The windows: the last 5 changes; none after a time to come.
    let r = dry_run_window(&h, &upper, false, None, Some(5)).await;
    assert_eq!((r.changes, r.window.as_str()), (5, "the last 5 changes"));
    let r = dry_run_window(&h, &upper, false, Some("2099-01-01T00:00:00Z"), None).await;
    assert_eq!(r.changes, 0);
    assert!(r.records.is_empty());

    // Nothing was written, no offset committed, the projection as it was.
    let after = snapshot(&h).await;
    assert_eq!(before, after);
    // The outcomes the comparison rests on are the sync's own.
    let p = h.open_parts().await;
    let outcomes: Vec<OutcomeStatus> = read_topic(&p.bus, &p.topics.outcomes)
        .await
        .iter()
        .map(|m| decode_outcome(m.bytes()).unwrap().status)
        .collect();
    assert!(outcomes.contains(&OutcomeStatus::Created));
}
