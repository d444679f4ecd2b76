//! `couplet couple` (two records, or by match criteria) and `couplet uncouple`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use std::io::IsTerminal;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{CoupleArgs, UncoupleArgs};
use super::local;
use crate::config::Config;
use crate::event::{Fields, Outcome, OutcomeStatus, RecordKey, Side};
use crate::mapping::TableMapping;
use crate::mapping::matching::{Criterion, MatchResult, match_records, parse_criteria};
use crate::pipeline::manual_coupling::{Coupled, couple, uncouple};
use crate::pipeline::state::StateLog;
use crate::pipeline::sync_now::{LocalStages, wait_outcomes_with};
use crate::pipeline::{EngineParts, engine::instance_id};

/// The mapping named `name` among those the config runs.
pub fn mapping(parts: &EngineParts, name: &str) -> anyhow::Result<Arc<TableMapping>> {
    parts.catalogue.get(name).cloned().ok_or_else(|| {
        let known: Vec<&str> = parts
            .catalogue
            .ordered()
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        anyhow::anyhow!(
            "no mapping named {name} in this configuration; known mappings: {} (see `couplet mappings list`)",
            known.join(", ")
        )
    })
}

async fn state_log(p: &EngineParts) -> anyhow::Result<StateLog> {
    p.bus
        .ensure_topics(&crate::pipeline::captures::topic_specs(p))
        .await?;
    Ok(StateLog::new(
        p.bus.clone(),
        p.topics.clone(),
        p.store.clone(),
        instance_id(&p.store)?,
    ))
}

/// `couplet couple`.
pub async fn run(a: &CoupleArgs) -> anyhow::Result<bool> {
    let cfg = Config::load(&a.config)?;
    let opened = local::open(&cfg, "couplet couple").await?;
    let p = &opened.parts;
    let m = mapping(p, &a.mapping)?;
    let state = state_log(p).await?;
    let ok = match (&a.erp_id, &a.crm_id, &a.match_fields) {
        (Some(erp), Some(crm), _) => pair(p, &state, &m, erp, crm).await?,
        (_, _, Some(spec)) => by_match(p, opened.local, &state, &m, spec, a).await?,
        _ => anyhow::bail!("pass --erp-id and --crm-id, or --match FIELD[,FIELD...]"),
    };
    p.store.flush()?;
    Ok(ok)
}

async fn pair(
    p: &EngineParts,
    state: &StateLog,
    m: &TableMapping,
    erp_id: &str,
    crm_id: &str,
) -> anyhow::Result<bool> {
    let crm_key = RecordKey::new(m.system(Side::Crm), m.crm_entity.clone(), crm_id);
    let erp_key = RecordKey::new(m.system(Side::Erp), m.erp_entity.clone(), erp_id);
    if p.targets
        .crm
        .get(&m.crm_entity, crm_id)
        .await
        .with_context(|| format!("reading {crm_key}"))?
        .is_none()
    {
        anyhow::bail!(
            "{crm_key} does not exist in Dataverse: check --crm-id (the {} id)",
            m.system(Side::Crm).key_shape(&m.crm_entity).names()
        );
    }
    if p.targets
        .erp
        .get(&m.erp_entity, erp_id)
        .await
        .with_context(|| format!("reading {erp_key}"))?
        .is_none()
    {
        anyhow::bail!(
            "{erp_key} does not exist in Business Central: check --erp-id (the record's id, a GUID)"
        );
    }
    match couple(
        state,
        &p.bus,
        &p.topics,
        m,
        crm_id,
        erp_id,
        "coupled by hand (couplet couple)",
    )
    .await?
    {
        Coupled::New(_) => println!(
            "Coupled {erp_key} <-> {crm_key} in {}. Nothing was written; the next change of either record synchronises it, or run `couplet sync-now`.",
            m.name
        ),
        Coupled::Already(_) => println!(
            "{erp_key} and {crm_key} were already coupled in {}.",
            m.name
        ),
    }
    Ok(true)
}

/// A progress bar on a terminal (hidden otherwise): count, rate and ETA.
fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(len),
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what}, {{per_sec}}, ETA {{eta}}"
    )) {
        bar.set_style(style);
    }
    bar
}

/// `couplet couple --match`: couples the uncoupled Business Central records of `m` with the
/// Dataverse records matching them on `spec` (with `--create-missing`, creates the unmatched
/// ones in Dataverse), and prints what happened to each. True when nothing failed.
async fn by_match(
    p: &EngineParts,
    local: bool,
    state: &StateLog,
    m: &TableMapping,
    spec: &str,
    a: &CoupleArgs,
) -> anyhow::Result<bool> {
    let criteria = parse_criteria(m, spec)?;
    if a.create_missing && !m.direction.allows_from(Side::Erp) {
        anyhow::bail!(
            "--create-missing creates Business Central records in Dataverse, but mapping {} runs {}",
            m.name,
            m.direction.as_str()
        );
    }
    let c = Candidates::read(p, m).await?;
    c.announce(m);
    let results = match_records(&criteria, a.case_sensitive, &c.erp, &c.crm, &c.coupled_crm);
    let labels = Labels {
        erp: &c.erp,
        criteria: &criteria,
        m,
    };
    let mut report = couple_matched(p, state, m, spec, &results, &labels).await;
    if a.create_missing && !report.unmatched.is_empty() {
        create_missing(p, local, m, a, &c.erp, &labels, &mut report).await?;
    }
    report.print(m, &labels);
    Ok(report.failed.is_empty())
}

/// The records `couple --match` works on: the mapping's records on both sides (its filters
/// applied), the Business Central ones not coupled yet.
struct Candidates {
    /// Dataverse records, by id.
    crm: Vec<(String, Fields)>,
    /// Uncoupled Business Central records, by id.
    erp: Vec<(String, Fields)>,
    /// The Dataverse ids coupled in the mapping already.
    coupled_crm: HashSet<String>,
    /// How many Business Central records were left out as coupled already.
    skipped_coupled: usize,
}

impl Candidates {
    /// Reads the records of `m` from both sides and its couplings from the store.
    async fn read(p: &EngineParts, m: &TableMapping) -> anyhow::Result<Candidates> {
        let erp_filter = p.catalogue.filter(&m.name, false);
        let crm_filter = p.catalogue.filter(&m.name, true);
        let (crm_system, erp_system) = (m.system(Side::Crm), m.system(Side::Erp));
        let crm: Vec<(String, Fields)> = p
            .targets
            .crm
            .query(&m.crm_entity, "")
            .await
            .with_context(|| format!("reading Dataverse {}", m.crm_entity))?
            .into_iter()
            .filter(|r| crm_filter.is_none_or(|f| f.matches(r)))
            .filter_map(|r| Some((crm_system.record_id(&m.crm_entity, &r)?, r)))
            .collect();
        let mut skipped_coupled = 0;
        let mut erp: Vec<(String, Fields)> = Vec::new();
        let all_erp = p
            .targets
            .erp
            .connector()
            .read_all(&m.erp_entity)
            .await
            .with_context(|| format!("reading {} {}", m.system(Side::Erp), m.erp_entity))?;
        for r in all_erp {
            if erp_filter.is_some_and(|f| !f.matches(&r)) {
                continue;
            }
            let Some(id) = erp_system.record_id(&m.erp_entity, &r) else {
                continue;
            };
            if p.store.coupling(&m.name, Side::Erp, &id)?.is_some() {
                skipped_coupled += 1;
                continue;
            }
            erp.push((id, r));
        }
        let coupled_crm: HashSet<String> = p
            .store
            .couplings(Some(&m.name))?
            .into_iter()
            .map(|c| c.crm_id)
            .collect();
        Ok(Candidates {
            crm,
            erp,
            coupled_crm,
            skipped_coupled,
        })
    }

    /// Says on stderr what is about to be matched.
    fn announce(&self, m: &TableMapping) {
        let (erp, crm, coupled_crm) = (&self.erp, &self.crm, &self.coupled_crm);
        eprintln!(
            "Matching {} uncoupled Business Central {} against {} Dataverse {} ({} already coupled) …",
            erp.len(),
            m.erp_entity,
            crm.len()
                - crm
                    .iter()
                    .filter(|(id, _)| coupled_crm.contains(id))
                    .count(),
            m.crm_entity,
            self.skipped_coupled
        );
    }
}

/// Names a Business Central record in the report: its key and the value of the first
/// match criterion.
struct Labels<'a> {
    erp: &'a [(String, Fields)],
    criteria: &'a [Criterion],
    m: &'a TableMapping,
}

impl Labels<'_> {
    /// The label of the Business Central record `id`.
    fn label(&self, id: &str) -> String {
        let (erp, criteria, m) = (self.erp, self.criteria, self.m);
        let rec = erp.iter().find(|(i, _)| i == id).map(|(_, r)| r);
        let shown = criteria
            .first()
            .and_then(|c| rec.and_then(|r| r.get(&c.erp)))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        format!("{}/{}/{id} ({shown})", m.system(Side::Erp), m.erp_entity)
    }
}

/// What `couple --match` did, one line per record in each list.
#[derive(Default)]
struct Report {
    matched: Vec<String>,
    created: Vec<String>,
    ambiguous: Vec<String>,
    /// The ids of the Business Central records no Dataverse record matched.
    unmatched: Vec<String>,
    failed: Vec<String>,
}

/// Couples each record matched exactly once (a failure is reported, not returned), and sorts
/// the others into ambiguous and unmatched.
async fn couple_matched(
    p: &EngineParts,
    state: &StateLog,
    m: &TableMapping,
    spec: &str,
    results: &[(String, MatchResult)],
    labels: &Labels<'_>,
) -> Report {
    let to_couple = results
        .iter()
        .filter(|(_, r)| matches!(r, MatchResult::Matched { .. }))
        .count();
    let bar = progress(to_couple as u64, "coupled");
    let label = |id: &str| labels.label(id);
    let mut report = Report::default();
    let Report {
        matched,
        ambiguous,
        unmatched,
        failed,
        ..
    } = &mut report;
    for (erp_id, r) in results {
        match r {
            MatchResult::Matched { crm_id, priority } => {
                let how = format!(
                    "coupled by match (couplet couple --match {spec}), priority {priority}"
                );
                bar.inc(1);
                match couple(state, &p.bus, &p.topics, m, crm_id, erp_id, &how).await {
                    Ok(_) => matched.push(format!(
                        "{} <-> {}/{}/{crm_id}",
                        label(erp_id),
                        m.system(Side::Crm),
                        m.crm_entity
                    )),
                    Err(e) => failed.push(format!("{}: {e}", label(erp_id))),
                }
            }
            MatchResult::Ambiguous { candidates, reason } => ambiguous.push(format!(
                "{}: {reason}: {}",
                label(erp_id),
                candidates.join(", ")
            )),
            MatchResult::Unmatched => unmatched.push(erp_id.clone()),
        }
    }
    bar.finish_and_clear();
    report
}

/// `--create-missing`: sends each unmatched record through the pipeline as a change (running
/// the stages here when no instance runs), waits for the outcomes, and reports each record
/// as created or failed; none stays unmatched.
async fn create_missing(
    p: &EngineParts,
    local: bool,
    m: &TableMapping,
    a: &CoupleArgs,
    erp: &[(String, Fields)],
    labels: &Labels<'_>,
    report: &mut Report,
) -> anyhow::Result<()> {
    // Without a running instance, this command runs the stages that create them.
    let stages = match local {
        true => Some(LocalStages::start(p).await?),
        false => None,
    };
    let since = chrono::Utc::now() - chrono::Duration::seconds(5);
    let waiting = send_unmatched(p, m, erp, &report.unmatched).await?;
    let ids: HashSet<uuid::Uuid> = waiting.keys().copied().collect();
    let bar = progress(ids.len() as u64, "created");
    let outcomes = wait_outcomes_with(
        &p.bus,
        &p.topics,
        &ids,
        since,
        Duration::from_secs(a.timeout_secs),
        &mut |n| bar.set_position(n as u64),
    )
    .await?;
    bar.finish_and_clear();
    if let Some(stages) = stages {
        stages.stop(Duration::from_secs(10)).await?;
    }
    report_created(m, a, &waiting, &outcomes, labels, report);
    report.unmatched.clear();
    Ok(())
}

/// Produces a change event for each unmatched Business Central record; the id of each record,
/// by the correlation id of its change.
async fn send_unmatched(
    p: &EngineParts,
    m: &TableMapping,
    erp: &[(String, Fields)],
    unmatched: &[String],
) -> anyhow::Result<HashMap<uuid::Uuid, String>> {
    let mut waiting: HashMap<uuid::Uuid, String> = HashMap::new();
    for id in unmatched {
        let Some((_, rec)) = erp.iter().find(|(i, _)| i == id) else {
            continue;
        };
        // The ERP's own modified-on column and ETag rule, as a full read's events have them.
        let ev = crate::capture::emit::upsert_event(
            &m.name,
            RecordKey::new(m.system(Side::Erp), m.erp_entity.clone(), id.clone()),
            rec.clone(),
        );
        let bytes = crate::event::avro::encode_change(&ev)?;
        p.bus
            .produce(
                &p.topics.changes,
                &ev.source.to_string(),
                Some(&bytes),
                &[("couplet-couple".into(), "create-missing".into())],
            )
            .await?;
        waiting.insert(ev.correlation_id, id.clone());
    }
    Ok(waiting)
}

/// Reports each record sent by [`send_unmatched`] as created (or coupled), failed, or still
/// without an outcome (a failure too).
fn report_created(
    m: &TableMapping,
    a: &CoupleArgs,
    waiting: &HashMap<uuid::Uuid, String>,
    outcomes: &HashMap<uuid::Uuid, Outcome>,
    labels: &Labels<'_>,
    report: &mut Report,
) {
    let label = |id: &str| labels.label(id);
    let (created, failed) = (&mut report.created, &mut report.failed);
    let mut still = Vec::new();
    for (cid, id) in waiting {
        match outcomes.get(cid) {
            Some(o)
                if matches!(
                    o.status,
                    OutcomeStatus::Created | OutcomeStatus::Updated | OutcomeStatus::Coupled
                ) =>
            {
                created.push(format!(
                    "{} -> {}/{}/{} ({})",
                    label(id),
                    m.system(Side::Crm),
                    m.crm_entity,
                    o.target_id.as_deref().unwrap_or("?"),
                    o.status.as_str()
                ))
            }
            Some(o) => failed.push(format!(
                "{}: {}: {}",
                label(id),
                o.status.as_str(),
                o.reason.as_deref().unwrap_or("")
            )),
            None => still.push(id.clone()),
        }
    }
    for id in still {
        failed.push(format!(
            "{}: no outcome within {} s; see `couplet audit {}/{}/{id}`",
            label(&id),
            a.timeout_secs,
            m.system(Side::Erp),
            m.erp_entity
        ));
    }
}

impl Report {
    /// Prints each non-empty list, sorted, then the counts.
    fn print(&self, m: &TableMapping, labels: &Labels<'_>) {
        let unmatched: Vec<String> = self.unmatched.iter().map(|id| labels.label(id)).collect();
        let Report {
            matched,
            created,
            ambiguous,
            failed,
            ..
        } = self;
        for (title, list) in [
            ("matched and coupled", matched),
            ("created and coupled", created),
            ("ambiguous (not coupled; couple by hand)", ambiguous),
            ("unmatched", &unmatched),
            ("failed", failed),
        ] {
            if list.is_empty() {
                continue;
            }
            println!("{title}: {}", list.len());
            let mut sorted = list.clone();
            sorted.sort();
            for l in sorted {
                println!("  {l}");
            }
        }
        println!(
            "{}: {} matched, {} created, {} ambiguous, {} unmatched, {} failed.",
            m.name,
            matched.len(),
            created.len(),
            ambiguous.len(),
            unmatched.len(),
            failed.len()
        );
    }
}

/// `couplet uncouple`.
pub async fn uncouple_cmd(a: &UncoupleArgs) -> anyhow::Result<bool> {
    let cfg = Config::load(&a.config)?;
    let opened = local::open(&cfg, "couplet uncouple").await?;
    let p = &opened.parts;
    let m = mapping(p, &a.mapping)?;
    let state = state_log(p).await?;
    let targets = if a.all {
        p.store.couplings(Some(&m.name))?
    } else {
        let (system, id) = match (&a.erp_id, &a.crm_id) {
            (Some(e), _) => (m.system(Side::Erp), e),
            (_, Some(c)) => (m.system(Side::Crm), c),
            _ => anyhow::bail!("pass --erp-id, --crm-id or --all"),
        };
        match p.store.coupling(&m.name, system, id)? {
            Some(c) => vec![c],
            None => {
                println!(
                    "{}/{}/{id} is not coupled in {}; nothing to do.",
                    system,
                    m.entity(system),
                    m.name
                );
                return Ok(true);
            }
        }
    };
    for c in &targets {
        uncouple(
            &state,
            &p.bus,
            &p.topics,
            m.pair,
            c,
            "uncoupled by hand (couplet uncouple); both records kept",
        )
        .await?;
        println!(
            "Uncoupled {} <-> {}",
            c.key(m.pair, Side::Erp),
            c.key(m.pair, Side::Crm)
        );
    }
    p.store.flush()?;
    println!(
        "{} coupling(s) removed from {}; the records are kept on both sides.",
        targets.len(),
        m.name
    );
    Ok(true)
}
