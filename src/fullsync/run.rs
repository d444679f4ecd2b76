//! Running a full synchronisation: jobs in dependency order through the engine's normal
//! pipeline (transform, apply, parking), waiting for every record's outcome.
//!
//! `couplet full-sync` runs its own engine without capture (the projection is a sled database
//! that one process opens at a time, so stop `couplet run` first): the only changes flowing are
//! the jobs' own, which keeps the dependency order strict. Each job reads every record of its
//! source table, appends a change event per record with the job's run id as correlation id,
//! and waits until each has an outcome (written, skipped, parked or failed). A mapping starts
//! when every mapping in its `depends_on` has finished; independent mappings run concurrently.
//! For a bidirectional mapping the ERP→CRM job runs first, then CRM→ERP, as in Business
//! Central. Job state is persisted, so a killed run resumes without redoing finished jobs;
//! writes are idempotent (natural-key lookup before every create), so the job that was cut
//! short is simply run again without making duplicates.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;

use super::error::FullSyncError;
use super::state::{
    self, JobState, JobStatus, SESSION, Session, direction_from, job_name, register_run,
};
use super::tracker::Tracker;
use crate::bus::StartFrom;
use crate::capture::emit::{emit_all, upsert_event};
use crate::event::avro::decode_outcome;
use crate::event::{RecordKey, Side, System};
use crate::mapping::TableMapping;
use crate::metrics::metrics;
use crate::pipeline::engine::instance_id;
use crate::pipeline::state::StateLog;
use crate::pipeline::{Engine, EngineParts};

/// How to run a full synchronisation.
pub struct FullSyncOptions {
    /// Only this mapping (its dependencies are assumed synchronised).
    pub only: Option<String>,
    /// Start a new session even if the previous one did not finish.
    pub restart: bool,
    /// How long one job may wait for its records' outcomes.
    pub job_timeout: Duration,
    /// Draw progress bars (on a terminal).
    pub progress: bool,
    /// Where the plain per-job log lines go.
    pub log: Arc<dyn Fn(String) + Send + Sync>,
}

struct Ctx {
    parts: EngineParts,
    state: StateLog,
    tracker: Tracker,
    bars: MultiProgress,
    opts: FullSyncOptions,
}

/// Runs (or resumes) a full synchronisation and returns every job's final state.
pub async fn full_sync(
    parts: EngineParts,
    opts: FullSyncOptions,
) -> Result<Vec<JobState>, FullSyncError> {
    let mappings: Vec<Arc<TableMapping>> = match &opts.only {
        Some(n) => vec![
            parts
                .catalogue
                .get(n)
                .cloned()
                .ok_or_else(|| FullSyncError::UnknownMapping(n.clone()))?,
        ],
        None => parts.catalogue.ordered().to_vec(),
    };
    let names: Vec<String> = mappings.iter().map(|m| m.name.clone()).collect();
    let mut engine = Engine::start_without_capture(parts.clone()).await?;
    let store = parts.store.clone();
    let state = StateLog::new(
        parts.bus.clone(),
        parts.topics.clone(),
        store.clone(),
        instance_id(&store)?,
    );
    let previous: Option<Session> = state::load(&store, SESSION)?;
    let mut session = match previous {
        Some(s) if s.finished_at.is_none() && s.mappings == names && !opts.restart => {
            (opts.log)(format!(
                "Resuming full-sync session {} (started {}).",
                s.id, s.started_at
            ));
            s
        }
        _ => {
            let s = Session {
                id: Uuid::new_v4(),
                mappings: names.clone(),
                started_at: Utc::now(),
                finished_at: None,
            };
            for m in &mappings {
                for d in directions(m) {
                    let dir = direction_from(d);
                    state::save(
                        &state,
                        &job_name(&m.name, dir),
                        &JobState::pending(&m.name, dir),
                    )
                    .await?;
                }
            }
            state::save(&state, SESSION, &s).await?;
            (opts.log)(format!(
                "Full-sync session {} over {}.",
                s.id,
                names.join(", ")
            ));
            s
        }
    };

    let tracker = Tracker::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let t = tracker.clone();
    let follower = tokio::spawn(crate::pipeline::consume::consume(
        parts.bus.clone(),
        crate::pipeline::consume::Subscription::new(
            parts.topics.group(&format!("full-sync-{}", Uuid::new_v4())),
            vec![parts.topics.outcomes.clone()],
            StartFrom::Timestamp(Utc::now() - chrono::Duration::seconds(5)),
            4,
        ),
        stop_rx,
        move |msg| {
            let t = t.clone();
            async move {
                if let Ok(o) = decode_outcome(msg.bytes()) {
                    t.observe(&o);
                }
                Ok(())
            }
        },
    ));
    let bars = MultiProgress::with_draw_target(if opts.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let ctx = Arc::new(Ctx {
        parts: parts.clone(),
        state,
        tracker,
        bars,
        opts,
    });

    let result = schedule(&ctx, &mappings, &names, &mut engine).await;
    let _ = stop_tx.send(true);
    let _ = follower.await;
    // Let the audit indexer and the state follower catch up before stopping.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !engine.drained().await.unwrap_or(true) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut jobs = Vec::new();
    for m in &mappings {
        for d in directions(m) {
            let dir = direction_from(d);
            jobs.push(
                state::load(&store, &job_name(&m.name, dir))?
                    .unwrap_or_else(|| JobState::pending(&m.name, dir)),
            );
        }
    }
    if result.is_ok() && jobs.iter().all(|j| j.status == JobStatus::Finished) {
        session.finished_at = Some(Utc::now());
        state::save(&ctx.state, SESSION, &session).await?;
    }
    engine.shutdown().await?;
    result.map(|_| jobs)
}

/// The sources a mapping's jobs read, in Business Central's order: ERP→CRM, then CRM→ERP.
fn directions(m: &TableMapping) -> Vec<System> {
    [m.system(Side::Erp), m.system(Side::Crm)]
        .into_iter()
        .filter(|s| m.direction.allows_from(*s))
        .collect()
}

/// Starts each mapping once its dependencies finished, until all ran.
async fn schedule(
    ctx: &Arc<Ctx>,
    mappings: &[Arc<TableMapping>],
    names: &[String],
    engine: &mut Engine,
) -> Result<(), FullSyncError> {
    let mut done: HashSet<String> = HashSet::new();
    let mut failed: HashSet<String> = HashSet::new();
    let mut started: HashSet<String> = HashSet::new();
    let mut first_error = None;
    let mut running = JoinSet::new();
    loop {
        for m in mappings {
            if started.contains(&m.name) {
                continue;
            }
            let deps: Vec<&String> = m.depends_on.iter().filter(|d| names.contains(d)).collect();
            if deps.iter().any(|d| failed.contains(*d)) {
                started.insert(m.name.clone());
                failed.insert(m.name.clone());
                for d in directions(m) {
                    let mut j = JobState::pending(&m.name, direction_from(d));
                    j.status = JobStatus::Blocked;
                    state::save(&ctx.state, &job_name(&m.name, &j.direction), &j).await?;
                }
                (ctx.opts.log)(format!(
                    "full-sync {}: blocked, a mapping it depends on did not finish",
                    m.name
                ));
            } else if deps.iter().all(|d| done.contains(*d)) {
                started.insert(m.name.clone());
                let (ctx, m) = (ctx.clone(), m.clone());
                running.spawn(async move {
                    let r = run_mapping(&ctx, &m).await;
                    (m.name.clone(), r)
                });
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            r = running.join_next() => match r {
                Some(Ok((name, Ok(())))) => { done.insert(name); }
                Some(Ok((name, Err(e)))) => {
                    (ctx.opts.log)(format!("full-sync {name}: stopped: {e}"));
                    failed.insert(name);
                    first_error.get_or_insert(e);
                }
                Some(Err(e)) => {
                    first_error.get_or_insert(FullSyncError::Pipeline(
                        crate::pipeline::PipelineError::Stage { stage: "full-sync".into(), reason: e.to_string() },
                    ));
                    break;
                }
                None => break,
            },
            _ = tokio::time::sleep(Duration::from_millis(500)) => {
                if let Some(e) = engine.failed_task() {
                    running.abort_all();
                    return Err(e.into());
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn run_mapping(ctx: &Ctx, m: &TableMapping) -> Result<(), FullSyncError> {
    let mut base_done = 0u64;
    let mut base_total = 0u64;
    for source in directions(m) {
        let dir = direction_from(source);
        let name = job_name(&m.name, dir);
        let job: JobState = state::load(&ctx.parts.store, &name)?
            .unwrap_or_else(|| JobState::pending(&m.name, dir));
        if job.status == JobStatus::Finished {
            (ctx.opts.log)(format!(
                "full-sync {} {dir}: finished in an earlier run; not redone",
                m.name
            ));
            base_done += job.counts.done();
            base_total += job.total;
            continue;
        }
        let span = tracing::info_span!("full_sync", mapping = %m.name, direction = dir);
        let job = run_job(ctx, m, source, job, base_done, base_total)
            .instrument(span)
            .await?;
        base_done += job.counts.done();
        base_total += job.total;
    }
    Ok(())
}

async fn run_job(
    ctx: &Ctx,
    m: &TableMapping,
    source: System,
    mut job: JobState,
    base_done: u64,
    base_total: u64,
) -> Result<JobState, FullSyncError> {
    let p = &ctx.parts;
    let dir = direction_from(source);
    let name = job_name(&m.name, dir);
    let entity = m.entity(source).to_string();
    let run = Uuid::new_v4();
    register_run(&ctx.state, run).await?;
    job.run_id = Some(run);
    job.runs += 1;
    job.status = JobStatus::Running;
    job.started_at = Some(Utc::now());
    job.finished_at = None;
    job.counts = Default::default();
    state::save(&ctx.state, &name, &job).await?;
    let started = Instant::now();

    let rows = p
        .targets
        .get(source)
        .connector()
        .read_all(&entity)
        .await
        .map_err(|e| FullSyncError::Read {
            mapping: m.name.clone(),
            direction: dir.to_string(),
            system: source,
            entity: entity.clone(),
            source: e,
        })?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(id) = source.record_id(&entity, &row) else {
            tracing::warn!(system = %source, entity = %entity, "A record without an id is skipped.");
            continue;
        };
        let mut ev = upsert_event(&m.name, RecordKey::new(source, entity.clone(), id), row);
        ev.correlation_id = run;
        events.push(ev);
    }
    job.total = events.len() as u64;
    state::save(&ctx.state, &name, &job).await?;
    let gauge_total = metrics().full_sync_total.with_label_values(&[&m.name]);
    let gauge_done = metrics().full_sync_done.with_label_values(&[&m.name]);
    gauge_total.set((base_total + job.total) as i64);
    gauge_done.set(base_done as i64);
    (ctx.opts.log)(format!(
        "full-sync {} {dir}: started, {} records from {source}/{entity}",
        m.name, job.total
    ));
    ctx.tracker
        .register(run, events.iter().map(|e| e.source.to_string()));
    let bar = ctx.bars.add(ProgressBar::new(job.total));
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:<20} [{bar:30}] {pos}/{len} {elapsed} {msg}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(format!("{} {dir}", m.name));
    for chunk in events.chunks(500) {
        emit_all(&p.bus, &p.topics, chunk.to_vec()).await?;
    }
    loop {
        let (pending, counts) = ctx.tracker.progress(run);
        bar.set_position(job.total - pending as u64);
        gauge_done.set((base_done + counts.done()) as i64);
        if pending == 0 {
            job.counts = counts;
            break;
        }
        if started.elapsed() > ctx.opts.job_timeout {
            bar.abandon();
            return Err(FullSyncError::Timeout {
                mapping: m.name.clone(),
                direction: dir.to_string(),
                pending,
                secs: ctx.opts.job_timeout.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = ctx.tracker.created(run);
    ctx.tracker.forget(run);
    settle_created(ctx, m, m.pair.other(source), created).await?;
    job.status = JobStatus::Finished;
    job.finished_at = Some(Utc::now());
    state::save(&ctx.state, &name, &job).await?;
    p.store.flush()?;
    let c = job.counts;
    bar.finish_with_message("done");
    (ctx.opts.log)(format!(
        "full-sync {} {dir}: finished in {:.1} s: {} records, {} inserted, {} modified, {} coupled, {} skipped, {} parked, {} failed",
        m.name,
        started.elapsed().as_secs_f64(),
        job.total,
        c.inserted,
        c.modified,
        c.coupled,
        c.skipped,
        c.parked,
        c.failed
    ));
    Ok(job)
}

/// Values the target assigns to a record it creates (the number Business Central gives a new
/// customer) flow back to the source, as the target's capture would make them flow in
/// `couplet run`: the records a job created are read again and synchronised back, waiting for
/// each outcome.
async fn settle_created(
    ctx: &Ctx,
    m: &TableMapping,
    target: System,
    created: Vec<String>,
) -> Result<(), FullSyncError> {
    let p = &ctx.parts;
    if created.is_empty()
        || !m.direction.allows_from(target)
        || m.fields_from(target).next().is_none()
    {
        return Ok(());
    }
    let entity = m.entity(target).to_string();
    let wanted: HashSet<String> = created.into_iter().collect();
    let rows = p
        .targets
        .get(target)
        .connector()
        .read_all(&entity)
        .await
        .map_err(|e| FullSyncError::Read {
            mapping: m.name.clone(),
            direction: direction_from(target).to_string(),
            system: target,
            entity: entity.clone(),
            source: e,
        })?;
    let run = Uuid::new_v4();
    register_run(&ctx.state, run).await?;
    let mut events = Vec::new();
    for row in rows {
        let Some(id) = target
            .record_id(&entity, &row)
            .filter(|id| wanted.contains(id))
        else {
            continue;
        };
        let mut ev = upsert_event(&m.name, RecordKey::new(target, entity.clone(), id), row);
        ev.correlation_id = run;
        events.push(ev);
    }
    ctx.tracker
        .register(run, events.iter().map(|e| e.source.to_string()));
    for chunk in events.chunks(500) {
        emit_all(&p.bus, &p.topics, chunk.to_vec()).await?;
    }
    let started = Instant::now();
    loop {
        let (pending, _) = ctx.tracker.progress(run);
        if pending == 0 {
            break;
        }
        if started.elapsed() > ctx.opts.job_timeout {
            return Err(FullSyncError::Timeout {
                mapping: m.name.clone(),
                direction: direction_from(target).to_string(),
                pending,
                secs: ctx.opts.job_timeout.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ctx.tracker.forget(run);
    Ok(())
}
