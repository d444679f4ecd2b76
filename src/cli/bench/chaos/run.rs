//! The chaos run: the sandbox, the `couplet run` child, the fault phase (faults, kills, edits),
//! the quiet phase (faults off, both sides settle), the end check.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::broker::Broker;
use super::check;
use super::edits::Editor;
use super::options::{BrokerRestart, ChaosOptions, ChaosReport, Kill};
use super::process::Instance;
use super::schedule::{KillMoment, Schedule};
use super::world;
use crate::cli::build;
use crate::event::System;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::systems::{BC, DATAVERSE};

/// The systems the faults go to (the pair the child synchronises).
const SYSTEMS: [System; 2] = [DATAVERSE, BC];

/// Injected faults not served yet, per system, above which no new one is added: faults come
/// in a steady trickle, so the engine still makes progress between them.
const MAX_PENDING: u64 = 3;

/// With no fault served for this long, a round of edits is made.
const STALL: Duration = Duration::from_secs(1);

/// Rounds of edits made for traffic (beyond those asked for) stop at this many times the rounds
/// asked for: an engine slowed down by the faults (on Kafka, each kill keeps the instance down
/// past the session timeout) would otherwise be buried under edits it can never catch up with
/// (a run on Kafka made 407 rounds where 12 were asked, and did not settle).
const MAX_ROUNDS_FACTOR: usize = 6;

/// How long a SIGKILLed instance stays down at least on Kafka: past the consumer group's
/// session timeout (10 s), as an orchestrator's restart back-off does. Tansu never hands a dead
/// member's partitions to a member that joined while it was still listed (README, "Broker
/// compatibility notes").
const KAFKA_RESTART_BACKOFF: Duration = Duration::from_secs(11);

/// The child's configuration: the sandbox, fast polls, the client's timeout and short backoffs;
/// on Kafka, the run's broker ([`build::tansu_bus_section`]).
fn write_config(
    sb: &Sandbox,
    dir: &Path,
    o: &ChaosOptions,
    brokers: Option<&str>,
) -> anyhow::Result<std::path::PathBuf> {
    let mut text = build::sandbox_config_text(sb, &dir.join("data"));
    text = text.replace("poll_interval_ms = 500", "poll_interval_ms = 200");
    text.push_str(&format!(
        "\n[http]\ntimeout_secs = {}\nbackoff_base_ms = 100\nbackoff_max_secs = 4\n",
        o.client_timeout.as_secs_f64()
    ));
    if let Some(brokers) = brokers {
        let prefix = format!("chaos-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        text.push_str(&build::tansu_bus_section(&prefix, brokers));
    }
    let path = dir.join("couplet.toml");
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn served(sb: &Sandbox) -> u64 {
    SYSTEMS
        .iter()
        .flat_map(|s| sb.faults_served(*s))
        .map(|(_, n)| n)
        .sum()
}

fn writes(sb: &Sandbox) -> u64 {
    SYSTEMS.iter().map(|s| sb.stats(*s).writes).sum()
}

/// The state of the fault phase.
struct Phase<'a> {
    o: &'a ChaosOptions,
    sb: &'a Sandbox,
    config: std::path::PathBuf,
    log: std::path::PathBuf,
    instance: Instance,
    schedule: Schedule,
    kills: Vec<Kill>,
    broker: Option<Broker>,
    restarts: Vec<BrokerRestart>,
    problems: Vec<String>,
}

impl Phase<'_> {
    /// SIGKILLs the instance (right after a write when the schedule says so) and restarts it.
    async fn kill(&mut self) -> anyhow::Result<()> {
        let (moment, mut down) = self.schedule.kill();
        if self.broker.is_some() {
            down += KAFKA_RESTART_BACKOFF;
        }
        let mut after_write_ms = None;
        if moment == KillMoment::AfterWrite {
            let before = writes(self.sb);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if writes(self.sb) > before {
                    after_write_ms = Some(0);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let t = Instant::now();
        self.instance.kill()?;
        if let Some(ms) = after_write_ms.as_mut() {
            *ms = t.elapsed().as_millis();
        }
        tracing::info!(faults = served(self.sb), ?moment, "chaos: SIGKILL");
        tokio::time::sleep(down).await;
        self.instance = Instance::spawn(&self.o.exe, &self.config, &self.log)?;
        self.kills.push(Kill {
            after_faults: served(self.sb),
            after_write_ms,
            down_ms: down.as_millis(),
        });
        Ok(())
    }

    /// SIGKILLs the broker and starts it again after a moment.
    async fn restart_broker(&mut self) -> anyhow::Result<()> {
        let down = self.schedule.broker_down();
        let Some(broker) = self.broker.as_mut() else {
            return Ok(());
        };
        let t = Instant::now();
        tracing::info!(faults = served(self.sb), "chaos: broker SIGKILL");
        broker.restart(down).await?;
        self.restarts.push(BrokerRestart {
            after_faults: served(self.sb),
            down_ms: t.elapsed().as_millis(),
        });
        Ok(())
    }

    /// Restarts an instance that ended by itself, noting it as a problem.
    fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.instance.exited() {
            self.problems.push(format!(
                "couplet run ended by itself ({status}); its log ends:\n{}",
                self.instance.log_tail(3)
            ));
            self.instance = Instance::spawn(&self.o.exe, &self.config, &self.log)?;
        }
        Ok(())
    }

    /// Faults, kills and edits until every fault and kill is served and every round of edits
    /// made, or `max_chaos` has passed.
    async fn run(&mut self, editor: &mut Editor) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut next_fault = [Instant::now(); SYSTEMS.len()];
        let mut next_edit = Instant::now() + Duration::from_secs(3);
        let mut rounds = 0;
        let (mut last_served, mut last_progress) = (0, Instant::now());
        loop {
            let served_now = served(self.sb);
            if served_now != last_served {
                (last_served, last_progress) = (served_now, Instant::now());
            }
            let kills_due = self.kills.len() < self.o.kills as usize;
            let restarts_due = self.broker.is_some()
                && self.restarts.len() < self.o.kafka.as_ref().map_or(0, |k| k.restarts) as usize;
            if served_now >= self.o.faults
                && !kills_due
                && !restarts_due
                && rounds >= self.o.edit_rounds
            {
                return Ok(());
            }
            if started.elapsed() > self.o.max_chaos {
                self.problems.push(format!(
                    "the fault phase ran out of time ({:?}): {served_now} of {} faults served, {} of {} kills, {} broker restarts, {rounds} of {} rounds of edits",
                    self.o.max_chaos, self.o.faults, self.kills.len(), self.o.kills, self.restarts.len(), self.o.edit_rounds
                ));
                return Ok(());
            }
            self.check_alive()?;
            if served_now < self.o.faults {
                for (i, at) in next_fault.iter_mut().enumerate() {
                    if Instant::now() >= *at && self.sb.faults_pending(SYSTEMS[i]) < MAX_PENDING {
                        let (system, fault) = self.schedule.next_fault(&SYSTEMS[i..=i]);
                        self.sb.inject(system, fault);
                        *at = Instant::now() + self.schedule.gap();
                    }
                }
            }
            if kills_due
                && let Some(at) = self.schedule.kill_at(self.kills.len())
                && served_now >= at
            {
                self.kill().await?;
            }
            if restarts_due
                && let Some(at) = self.schedule.restart_at(self.restarts.len())
                && served_now >= at
            {
                self.restart_broker().await?;
            }
            // Edits are spread over the fault phase: one round per 8 % of the faults. Faults
            // aimed at writes or single-record reads are only served while records change: when
            // none was served for STALL, a round of edits (beyond those asked for, if they are
            // made) gives them traffic (a quiet engine only polls).
            let due_rounds = (served_now * 100 / self.o.faults.max(1) / 8) as usize + 1;
            let stalled = served_now < self.o.faults
                && last_progress.elapsed() >= STALL
                && rounds < self.o.edit_rounds.max(1) * MAX_ROUNDS_FACTOR;
            if (stalled || rounds < self.o.edit_rounds && rounds < due_rounds)
                && Instant::now() >= next_edit
            {
                last_progress = Instant::now();
                editor.round(self.sb, &mut self.schedule, self.o.updates_per_round)?;
                rounds += 1;
                next_edit = Instant::now() + Duration::from_millis(500);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Waits until the counts equal `target` and stay so for 8 s; returns whether they did within
/// `timeout`, noting a count above the target (a twin) as it is seen.
async fn settle(
    sb: &Sandbox,
    target: [usize; 4],
    timeout: Duration,
    problems: &mut Vec<String>,
) -> bool {
    let deadline = Instant::now() + timeout;
    let mut stable_since: Option<Instant> = None;
    let mut twin_seen = false;
    loop {
        let now = world::counts(sb);
        if !twin_seen && now.iter().zip(target).any(|(got, want)| *got > want) {
            twin_seen = true;
            problems.push(format!(
                "a twin: the counts {now:?} went above the expected {target:?}"
            ));
        }
        if now == target {
            let since = *stable_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(8) {
                return true;
            }
        } else {
            stable_since = None;
        }
        if Instant::now() >= deadline {
            problems.push(format!(
                "not settled within {timeout:?}: {now:?}, expected {target:?}; {}",
                world::missing(sb)
            ));
            return false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Runs the chaos suite once.
pub async fn run(o: ChaosOptions) -> anyhow::Result<ChaosReport> {
    let started = Instant::now();
    let sb = Sandbox::start(SandboxConfig {
        seed: o.seed,
        records: o.records,
        ..Default::default()
    })
    .await?;
    let (tmp, dir) = match &o.data_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            (None, d.clone())
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("couplet-chaos-")
                .tempdir()?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let broker = match &o.kafka {
        Some(k) => Some(Broker::start(&k.tansu, &dir.join("broker")).await?),
        None => None,
    };
    let brokers = broker.as_ref().map(Broker::brokers);
    let config = write_config(&sb, &dir, &o, brokers.as_deref())?;
    let log = dir.join("couplet.log");
    let mut target = world::expected(&sb);
    let mut editor = Editor::new(o.seed, &sb);
    let mut phase = Phase {
        o: &o,
        sb: &sb,
        instance: Instance::spawn(&o.exe, &config, &log)?,
        config: config.clone(),
        log,
        schedule: Schedule::new(
            o.seed,
            o.faults,
            o.kills,
            o.kafka.as_ref().map_or(0, |k| k.restarts),
            o.client_timeout,
        ),
        kills: Vec::new(),
        broker,
        restarts: Vec::new(),
        problems: Vec::new(),
    };
    phase.run(&mut editor).await?;
    let chaos = started.elapsed();
    for s in SYSTEMS {
        sb.clear_faults(s);
    }
    let edits = editor.counts();
    target[0] += edits.companies;
    target[1] += edits.companies;
    target[2] += edits.persons;
    target[3] += edits.persons;
    let quiet = Instant::now();
    settle(&sb, target, o.settle, &mut phase.problems).await;
    let settled = quiet.elapsed();
    phase.check_alive()?;
    let mut problems = std::mem::take(&mut phase.problems);
    if !phase.instance.stop(Duration::from_secs(30)).await? {
        problems.push("couplet run did not stop within 30 s of SIGTERM".into());
    }
    let found = world::counts(&sb);
    if found != target {
        problems.push(format!(
            "records at the end {found:?}, expected {target:?}; {}",
            world::missing(&sb)
        ));
    }
    let end = check::check(&sb, &config).await?;
    problems.extend(end.problems);
    let served = SYSTEMS
        .iter()
        .flat_map(|s| {
            sb.faults_served(*s)
                .into_iter()
                .map(move |(k, n)| (s.to_string(), k, n))
        })
        .collect::<Vec<_>>();
    let report = ChaosReport {
        seed: o.seed,
        served,
        kills: phase.kills.clone(),
        broker_restarts: phase.restarts.clone(),
        bus: if o.kafka.is_some() {
            "kafka"
        } else {
            "embedded"
        },
        edits,
        expected: target,
        found,
        coupled: end.coupled,
        chaos,
        settled,
        total: started.elapsed(),
        problems,
        data_dir: dir.clone(),
    };
    if report.total_faults() < o.faults {
        // Already noted when the phase ran out of time; kept for a reader of the figures.
        tracing::warn!(
            served = report.total_faults(),
            asked = o.faults,
            "chaos: fewer faults served than asked"
        );
    }
    drop(phase);
    sb.shutdown().await;
    if !report.passed()
        && let Some(t) = tmp
    {
        // The data and the log of a failed run are its evidence: kept.
        let _ = t.keep();
    }
    Ok(report)
}
