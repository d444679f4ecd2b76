//! One mapping's reconciliation: the couplings in pages, each page's two sides read through
//! the connectors, compared, optionally fixed, and the run's state saved after each page (so an
//! interrupted run resumes after the last page it finished).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tracing::Instrument;

use super::check::check_page;
use super::config::FixSide;
use super::error::DriftError;
use super::fix;
use super::metrics::{completed, drift_metrics};
use super::read::{keys_for, read_by_keys, read_pairs};
use super::report::MappingReport;
use super::state::{self, RunState};
use crate::event::Side;
use crate::mapping::TableMapping;
use crate::pipeline::EngineParts;
use crate::pipeline::state::StateLog;
use crate::transform::CurrencyTable;
use crate::transform::fields::Context;

/// How to reconcile.
#[derive(Clone)]
pub struct ReconcileOptions {
    /// Check a random sample of this many couplings (`None`: all).
    pub sample: Option<usize>,
    /// Fix the differing pairs, this side winning.
    pub fix: Option<FixSide>,
    /// Couplings per page.
    pub page_size: usize,
    /// Reads in flight per system.
    pub concurrency: usize,
    /// Stop after this many pages (the next run resumes).
    pub max_pages: Option<usize>,
    /// Start afresh even when the previous run did not finish.
    pub restart: bool,
    /// How long a fix waits for its outcomes.
    pub fix_timeout: Duration,
    /// `cli` or `schedule` (the runs metric's label).
    pub trigger: &'static str,
    /// Stops the run between pages when it turns true.
    pub stop: Option<watch::Receiver<bool>>,
    /// Progress lines.
    pub progress: Arc<dyn Fn(String) + Send + Sync>,
}

impl ReconcileOptions {
    /// Options from `[reconcile]`, for `trigger`.
    pub fn from_config(c: &super::ReconcileConfig, trigger: &'static str) -> Self {
        ReconcileOptions {
            sample: c.sample,
            fix: c.fix,
            page_size: c.page_size,
            concurrency: c.concurrency,
            max_pages: None,
            restart: false,
            fix_timeout: Duration::from_secs(c.fix_timeout_secs),
            trigger,
            stop: None,
            progress: Arc::new(|_| {}),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| *s.borrow())
    }
}

/// Reconciles mapping `m` (resuming its unfinished run unless `restart`), returning what it
/// found so far.
pub async fn reconcile_mapping(
    p: &EngineParts,
    state: &StateLog,
    currencies: &CurrencyTable,
    m: &TableMapping,
    opts: &ReconcileOptions,
) -> Result<MappingReport, DriftError> {
    let span = tracing::info_span!("reconcile", mapping = %m.name, trigger = opts.trigger);
    let r = run(p, state, currencies, m, opts).instrument(span).await;
    let result = match &r {
        Ok(r) if r.complete => "complete",
        Ok(_) => "partial",
        Err(_) => "failed",
    };
    drift_metrics()
        .runs
        .with_label_values(&[&m.name, opts.trigger, result])
        .inc();
    r
}

async fn run(
    p: &EngineParts,
    log: &StateLog,
    currencies: &CurrencyTable,
    m: &TableMapping,
    opts: &ReconcileOptions,
) -> Result<MappingReport, DriftError> {
    let metrics = drift_metrics();
    let (mut run, resumed) = match state::load(&p.store, &m.name)? {
        Some(r) if r.finished_at.is_none() && r.sample == opts.sample && !opts.restart => (r, true),
        _ => (RunState::new(opts.sample), false),
    };
    run.runs += 1;
    state::save(log, &m.name, &run).await?;
    let all = p.store.couplings(Some(&m.name))?;
    let couplings = all.len() as u64;
    let todo = run.remaining(all);
    (opts.progress)(format!(
        "{}: {} coupling(s){}, {} to check{}",
        m.name,
        couplings,
        opts.sample
            .map(|n| format!(", sample of {n}"))
            .unwrap_or_default(),
        todo.len(),
        if resumed {
            format!(", resuming run {} after {} checked", run.id, run.checked)
        } else {
            String::new()
        }
    ));
    let cx = Context {
        catalogue: &p.catalogue,
        store: &p.store,
        currencies,
    };
    let mut complete = true;
    for (i, page) in todo.chunks(opts.page_size.max(1)).enumerate() {
        if opts.stopped() || opts.max_pages.is_some_and(|n| i >= n) {
            complete = false;
            break;
        }
        let pairs = read_pairs(&p.targets, m, page, opts.concurrency).await?;
        let mut twins = Vec::new();
        for side in [Side::Crm, Side::Erp] {
            if m.key(side).is_none() {
                continue;
            }
            let keys = keys_for(m, side, &pairs);
            for row in read_by_keys(&p.targets, m, side, &keys).await? {
                twins.push((side, row));
            }
        }
        let found = check_page(m, &pairs, &twins, &cx)?;
        metrics
            .checked
            .with_label_values(&[&m.name])
            .inc_by(page.len() as u64);
        for d in &found.drift {
            let mut one = super::report::DriftCounts::default();
            one.add(d);
            for (kind, n) in one.by_kind() {
                if n > 0 {
                    metrics.found.with_label_values(&[&m.name, kind]).inc_by(n);
                }
            }
        }
        if let Some(side) = opts.fix {
            let plan = fix::plan(m, side, &pairs, &found.drift);
            let results = fix::apply(&p.bus, &p.topics, &m.name, plan, opts.fix_timeout).await?;
            run.note_fixes(results);
        }
        run.note(found.drift);
        run.out_of_filter += found.out_of_filter;
        run.checked += page.len() as u64;
        run.pages += 1;
        run.cursor = page.last().map(|c| run.order_key(c));
        state::save(log, &m.name, &run).await?;
        (opts.progress)(format!(
            "{}: page {} checked ({} of {}), {} drift so far",
            m.name,
            run.pages,
            run.checked,
            opts.sample
                .map(|n| n.min(couplings as usize) as u64)
                .unwrap_or(couplings),
            run.counts.total()
        ));
    }
    if complete {
        run.finished_at = Some(Utc::now());
        state::save(log, &m.name, &run).await?;
        completed(&m.name, &run.counts);
    }
    p.store.flush()?;
    Ok(MappingReport {
        mapping: m.name.clone(),
        crm_entity: m.crm_entity.clone(),
        erp_entity: m.erp_entity.clone(),
        complete,
        resumed,
        sample: opts.sample,
        couplings,
        checked: run.checked,
        pages: run.pages,
        out_of_filter: run.out_of_filter,
        counts: run.counts,
        drift: run.drift,
        fixes: run.fixes,
    })
}

/// Reconciles `mappings` (every configured one when empty) in the catalogue's order.
pub async fn reconcile_all(
    p: &EngineParts,
    mappings: &[String],
    opts: &ReconcileOptions,
) -> Result<Vec<MappingReport>, DriftError> {
    for name in mappings {
        if p.catalogue.get(name).is_none() {
            return Err(DriftError::UnknownMapping(name.clone()));
        }
    }
    let log = StateLog::new(
        p.bus.clone(),
        p.topics.clone(),
        p.store.clone(),
        crate::pipeline::engine::instance_id(&p.store)?,
    );
    let (currencies, _) = crate::pipeline::stages::load_currencies(p).await?;
    let mut reports = Vec::new();
    for m in p.catalogue.ordered() {
        if !mappings.is_empty() && !mappings.contains(&m.name) {
            continue;
        }
        reports.push(reconcile_mapping(p, &log, &currencies, m, opts).await?);
        if opts.stopped() {
            break;
        }
    }
    Ok(reports)
}
