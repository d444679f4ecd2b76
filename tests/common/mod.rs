//! Shared harness of the end-to-end tests: a seeded sandbox, an engine on a temporary data
//! directory with a short poll interval, idle waits with deadlines, the side-by-side
//! comparison of every mapping, and readers of the log.
//!
//! Metrics are process-global (shared by every test of one binary), so the helpers here read
//! per-test facts instead: the store, the sandbox's counters and the test's own log.

#![allow(dead_code)] // every test binary uses a different subset

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use couplet::bus::{Bus, Message, StartFrom, Topics};
use couplet::cli::build;
use couplet::event::avro::decode_outcome;
use couplet::event::{Fields, Outcome, System};
use couplet::mapping::Catalogue;
use couplet::pipeline::Engine;
use couplet::sandbox::{Sandbox, SandboxConfig};
use couplet::store::Store;
use couplet::transform::compare::MappingCheck;
use tempfile::TempDir;

pub mod instances;

/// Poll interval of the captures in the tests.
pub const POLL_MS: u64 = 150;
/// Default deadline of an idle wait.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Held by every test that runs `couplet::fullsync::full_sync` in this process, for as long as
/// it runs it. The full-sync gauges (`full_sync_records_total` / `_done`, per mapping) are
/// process-global and the mappings of two full syncs overlap (CONTACT is in both the default
/// and the whole catalogue), so a test that reads them holds this to read its own job's.
pub async fn full_sync_gauges() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Logs to the test output when `RUST_LOG` is set (e.g. `RUST_LOG=couplet=debug`).
pub fn init_tracing() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// A change to the engine's configuration, made before each start.
pub type Tweak = Arc<dyn Fn(&mut couplet::config::Config) + Send + Sync>;

/// A sandbox and an engine synchronising it.
pub struct Harness {
    /// The sandbox (Dataverse, Business Central, Entra ID).
    pub sb: Sandbox,
    /// The engine's data directory (removed on drop).
    pub dir: TempDir,
    engine: Option<Engine>,
    /// A mapping file replacing the shipped defaults (see [`Harness::start_with_mappings`]).
    pub mapping_file: Option<std::path::PathBuf>,
    /// The mappings the engine runs (empty: the configuration's default).
    mappings: Vec<String>,
    /// `[orders]` for the next [`Harness::start_engine`].
    pub orders: couplet::orders::OrdersConfig,
    /// The ERP the engine keeps in step (`[erp] system`, a registered name).
    pub erp: String,
    /// Changes the configuration before each [`Harness::start_engine`].
    pub tweak: Option<Tweak>,
}

impl Harness {
    /// A sandbox with `records` companies from `seed`, and an engine running on it.
    pub async fn start(records: usize, seed: u64) -> Harness {
        Self::start_with(SandboxConfig {
            records,
            seed,
            ..Default::default()
        })
        .await
    }

    /// As [`Harness::start`], with a sandbox configured by the caller.
    pub async fn start_with(cfg: SandboxConfig) -> Harness {
        init_tracing();
        let sb = Sandbox::start(cfg).await.expect("sandbox starts");
        let dir = tempfile::Builder::new()
            .prefix("couplet-e2e-")
            .tempdir()
            .expect("temp dir");
        let mut h = Harness {
            sb,
            dir,
            engine: None,
            mapping_file: None,
            mappings: vec![],
            orders: Default::default(),
            erp: "bc".into(),
            tweak: None,
        };
        h.start_engine().await;
        h
    }

    /// A sandbox configured by the caller and an engine keeping Dataverse in step with `erp`
    /// (`fo`, say) on its default mappings.
    pub async fn start_erp(erp: &str, cfg: SandboxConfig) -> Harness {
        Self::start_erp_with(erp, cfg, None).await
    }

    /// As [`Harness::start_erp`], with the engine's configuration changed by `tweak`.
    pub async fn start_erp_with(erp: &str, cfg: SandboxConfig, tweak: Option<Tweak>) -> Harness {
        init_tracing();
        let sb = Sandbox::start(cfg).await.expect("sandbox starts");
        let mut h = Harness {
            sb,
            dir: Self::data_dir(),
            engine: None,
            mapping_file: None,
            mappings: vec![],
            orders: Default::default(),
            erp: erp.into(),
            tweak,
        };
        h.start_engine().await;
        h
    }

    /// As [`Harness::start`], with `mappings` (a mapping file's text) instead of the defaults.
    pub async fn start_with_mappings(records: usize, seed: u64, mappings: &str) -> Harness {
        let dir = Self::data_dir();
        let file = dir.path().join("mappings.toml");
        std::fs::write(&file, mappings).expect("mapping file written");
        Self::start_in(dir, records, seed, Some(file), vec![]).await
    }

    /// A sandbox with `records` companies from `seed`, and an engine running every default
    /// mapping.
    pub async fn start_full_catalogue(records: usize, seed: u64) -> Harness {
        let mappings = Catalogue::defaults()
            .expect("defaults load")
            .ordered()
            .iter()
            .map(|m| m.name.clone())
            .collect();
        Self::start_in(Self::data_dir(), records, seed, None, mappings).await
    }

    fn data_dir() -> TempDir {
        tempfile::Builder::new()
            .prefix("couplet-e2e-")
            .tempdir()
            .expect("temp dir")
    }

    async fn start_in(
        dir: TempDir,
        records: usize,
        seed: u64,
        mapping_file: Option<std::path::PathBuf>,
        mappings: Vec<String>,
    ) -> Harness {
        init_tracing();
        let sb = Sandbox::start(SandboxConfig {
            records,
            seed,
            ..Default::default()
        })
        .await
        .expect("sandbox starts");
        let mut h = Harness {
            sb,
            dir,
            engine: None,
            mapping_file,
            mappings,
            orders: Default::default(),
            erp: "bc".into(),
            tweak: None,
        };
        h.start_engine().await;
        h
    }

    /// Starts an engine on the data directory (after a [`Harness::stop_engine`]).
    pub async fn start_engine(&mut self) {
        assert!(self.engine.is_none(), "an engine is already running");
        let parts = self.open_parts().await;
        self.engine = Some(Engine::start(parts).await.expect("engine starts"));
    }

    /// Opens the engine's parts (projection, log, clients) on the data directory without
    /// starting it, e.g. to prepare state while the engine is stopped; drop them before
    /// [`Harness::start_engine`].
    pub async fn open_parts(&self) -> couplet::pipeline::engine::EngineParts {
        let mut cfg = build::sandbox_config_for(&self.sb, self.dir.path(), &self.erp)
            .expect("sandbox config");
        cfg.capture.poll_interval_ms = POLL_MS;
        cfg.sync.mapping_file = self.mapping_file.clone();
        cfg.orders = self.orders.clone();
        if !self.mappings.is_empty() {
            cfg.sync.mappings = self.mappings.clone();
        }
        if let Some(tweak) = &self.tweak {
            tweak(&mut cfg);
        }
        // The projection and the log are sled databases: a just-closed one may still be
        // locked for a moment by its background flusher, so opening is retried briefly.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match build::parts(&cfg) {
                Ok(p) => return p,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("opening the data directory again: {e:#}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot open the engine's parts: {e:#}"),
            }
        }
    }

    /// Shuts the engine down (every task stopped, the projection flushed).
    pub async fn stop_engine(&mut self) {
        let e = self.engine.take().expect("an engine is running");
        e.shutdown().await.expect("engine shuts down cleanly");
    }

    /// The running engine.
    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("an engine is running")
    }

    /// The running engine, mutably.
    pub fn engine_mut(&mut self) -> &mut Engine {
        self.engine.as_mut().expect("an engine is running")
    }

    /// The projection.
    pub fn store(&self) -> &Store {
        &self.engine().parts().store
    }

    /// The log.
    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.engine().parts().bus
    }

    /// Topic names.
    pub fn topics(&self) -> &Topics {
        &self.engine().parts().topics
    }

    /// The mappings.
    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.engine().parts().catalogue
    }

    /// Waits until the engine is idle, failing the test with the errors, parked changes and
    /// capture errors when it is not within `timeout`.
    pub async fn wait_idle(&mut self, timeout: Duration) {
        let started = Instant::now();
        let idle = self
            .engine_mut()
            .wait_idle(timeout)
            .await
            .expect("no engine task failed");
        if !idle {
            panic!(
                "the engine did not become idle within {timeout:?} (waited {:?})\n{}",
                started.elapsed(),
                self.describe()
            );
        }
    }

    /// Errors, parked changes and capture states, for failure messages.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for e in self.store().errors().expect("errors list") {
            s += &format!(
                "  error {} [{}] field {:?}: {}\n",
                e.record, e.class, e.field, e.reason
            );
        }
        for p in self.store().parked().expect("parked") {
            s += &format!(
                "  parked {} waiting for {}: {}\n",
                p.record, p.waiting_for, p.reason
            );
        }
        for c in self.engine().captures() {
            s += &format!(
                "  capture {}: {} cycles, {} events, {} full reads, last error {:?}\n",
                c.name(),
                c.cycles(),
                c.events(),
                c.full_reads(),
                c.last_error()
            );
        }
        s
    }

    /// Compares every mapping's two tables through the couplings.
    pub fn check(&self) -> Vec<MappingCheck> {
        checks(&self.sb, self.store(), self.catalogue())
    }

    /// Asserts that every mapping is fully coupled, equal and free of duplicates, with as
    /// many records on each side as couplings, and that nothing is in error or parked.
    pub fn assert_in_sync(&self) {
        let checks = self.check();
        let mut problems = String::new();
        for c in &checks {
            problems += &describe_check(c);
            if c.crm_records != c.erp_records || c.coupled != c.crm_records {
                problems += &format!(
                    "  {}: {} CRM records, {} ERP records, {} coupled\n",
                    c.mapping, c.crm_records, c.erp_records, c.coupled
                );
            }
        }
        let errors = self.store().errors().expect("errors list");
        let parked = self.store().parked().expect("parked");
        if !problems.is_empty() || !errors.is_empty() || !parked.is_empty() {
            panic!(
                "the two systems are not in sync:\n{problems}{}",
                self.describe()
            );
        }
    }

    /// Every message of `topic` so far, read from the beginning by a fresh consumer group.
    pub async fn read_topic(&self, topic: &str) -> Vec<Message> {
        read_topic(self.bus(), topic).await
    }

    /// Every outcome on the outcomes topic so far.
    pub async fn outcomes(&self) -> Vec<Outcome> {
        self.read_topic(&self.topics().outcomes.clone())
            .await
            .iter()
            .map(|m| decode_outcome(m.bytes()).expect("outcomes decode"))
            .collect()
    }

    /// Outcomes of this test's log, counted by status.
    pub async fn outcome_counts(&self) -> BTreeMap<&'static str, usize> {
        count_by_status(&self.outcomes().await)
    }

    /// The coupling of a record, if any.
    pub fn coupling(
        &self,
        mapping: &str,
        system: System,
        id: &str,
    ) -> Option<couplet::store::Coupling> {
        self.store()
            .coupling(mapping, system, id)
            .expect("store reads")
    }

    /// The other side's id of a coupled record; fails the test when it is not coupled.
    pub fn coupled_id(&self, mapping: &str, system: System, id: &str) -> String {
        self.coupling(mapping, system, id)
            .unwrap_or_else(|| {
                panic!(
                    "{mapping} {system}/{id} is not coupled\n{}",
                    self.describe()
                )
            })
            .id_on(system.side().other())
            .to_string()
    }

    /// Summaries of the audit trail of a record key (`dataverse/accounts/<id>`).
    pub fn audit(&self, record: &str) -> Vec<String> {
        self.store()
            .audit(record)
            .expect("audit reads")
            .into_iter()
            .map(|e| format!("{} {}", e.kind, e.summary))
            .collect()
    }

    /// A live row, or a failure naming it.
    pub fn row(&self, system: System, set: &str, id: &str) -> Fields {
        self.sb
            .row(system, set, id)
            .unwrap_or_else(|| panic!("{system}/{set}/{id} does not exist"))
    }
}

/// One line per problem of a comparison.
pub fn describe_check(c: &MappingCheck) -> String {
    let mut s = String::new();
    let list = |what: &str, items: &[String]| {
        if items.is_empty() {
            String::new()
        } else {
            format!("  {} {what}: {}\n", c.mapping, items.join("; "))
        }
    };
    s += &list("uncoupled CRM records", &c.uncoupled_crm);
    s += &list("uncoupled ERP records", &c.uncoupled_erp);
    s += &list("duplicates", &c.duplicates);
    s += &list("dangling couplings", &c.dangling);
    for d in &c.diffs {
        s += &format!(
            "  {} {} <-> {} field {}: expected {} found {}\n",
            c.mapping, d.crm_id, d.erp_id, d.field, d.expected, d.actual
        );
    }
    s
}

/// Outcomes counted by status name.
pub fn count_by_status(outcomes: &[Outcome]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for o in outcomes {
        *m.entry(o.status.as_str()).or_default() += 1;
    }
    m
}

/// Every message of `topic` so far, from the beginning, by a fresh consumer group.
pub async fn read_topic(bus: &Arc<dyn Bus>, topic: &str) -> Vec<Message> {
    let total: u64 = bus
        .end_offsets(topic)
        .await
        .expect("end offsets")
        .iter()
        .sum();
    let group = format!("test-reader-{}", uuid::Uuid::new_v4());
    let mut c = bus
        .subscribe(&group, &[topic.to_string()], StartFrom::Earliest)
        .await
        .expect("subscribe");
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while (out.len() as u64) < total {
        assert!(
            Instant::now() < deadline,
            "read {} of {total} messages of {topic}",
            out.len()
        );
        out.extend(
            c.poll(1024, Duration::from_millis(200))
                .await
                .expect("poll"),
        );
    }
    out
}

/// Polls `cond` every 50 ms until it holds; fails the test with `what` after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `find` every 100 ms until it gives something or `timeout` passes.
pub async fn wait_for<T>(timeout: Duration, mut find: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(t) = find() {
            return Some(t);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A string field of a row.
pub fn text(row: &Fields, field: &str) -> String {
    row.get(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// A one-field patch.
pub fn patch(field: &str, value: serde_json::Value) -> Fields {
    let mut f = Fields::new();
    f.insert(field.to_string(), value);
    f
}

/// Ids of the rows of a set, by its id column.
pub fn ids(rows: &[Fields], id_col: &str) -> Vec<String> {
    rows.iter().map(|r| text(r, id_col)).collect()
}

/// Counts of each non-blank value of `field` over `rows` that occur more than once.
pub fn repeated(rows: &[couplet::event::Fields], field: &str, lower: bool) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let mut v = text(r, field).trim().to_string();
        if lower {
            v = v.to_lowercase();
        }
        if !v.is_empty() {
            *seen.entry(v).or_default() += 1;
        }
    }
    let mut out: Vec<String> = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(v, n)| format!("{v} x{n}"))
        .collect();
    out.sort();
    out
}

/// Natural keys are unique over every row of both sides (not only those in the filters).
pub fn assert_no_duplicates(h: &Harness) {
    for (system, set, field, lower) in [
        (
            couplet::systems::DATAVERSE,
            "accounts",
            "accountnumber",
            false,
        ),
        (couplet::systems::BC, "customers", "number", false),
        (
            couplet::systems::DATAVERSE,
            "contacts",
            "emailaddress1",
            true,
        ),
        (couplet::systems::BC, "contacts", "email", true),
    ] {
        let d = repeated(&h.sb.rows(system, set), field, lower);
        assert!(d.is_empty(), "duplicate {system}/{set} {field}: {d:?}");
    }
}

/// A coupled record of `set` on `system` (the `skip`-th one), by its id column.
pub fn coupled(h: &Harness, mapping: &str, system: System, set: &str, skip: usize) -> String {
    let id_col = match (system.as_str(), set) {
        ("dataverse", "accounts") => "accountid",
        ("dataverse", "contacts") => "contactid",
        _ => "id",
    };
    ids(&h.sb.rows(system, set), id_col)
        .into_iter()
        .filter(|id| h.coupling(mapping, system, id).is_some())
        .nth(skip)
        .unwrap_or_else(|| panic!("fewer than {} coupled {system}/{set}", skip + 1))
}

/// The Dataverse accounts that are customers (the seed also holds vendor accounts,
/// `customertypecode` 11, which the VENDOR mapping synchronises).
pub fn customer_accounts(sb: &Sandbox) -> Vec<Fields> {
    sb.rows(couplet::systems::DATAVERSE, "accounts")
        .into_iter()
        .filter(|r| r.get("customertypecode") != Some(&serde_json::json!(11)))
        .collect()
}

/// The shipped default mappings with the first `from` inside mapping `mapping`'s table
/// replaced by `to` (e.g. a policy changed on CUSTOMER only).
pub fn defaults_with(mapping: &str, from: &str, to: &str) -> String {
    let text = couplet::mapping::catalogue::DEFAULTS;
    let start = text
        .find(&format!("name = \"{mapping}\""))
        .unwrap_or_else(|| panic!("no mapping {mapping} in the defaults"));
    let (head, tail) = text.split_at(start);
    assert!(tail.contains(from), "no `{from}` in mapping {mapping}");
    format!("{head}{}", tail.replacen(from, to, 1))
}

/// Compares every mapping of `catalogue` side by side on the sandbox, through the couplings
/// in `store` (currencies by ISO code, the sandbox's local currency USD).
pub fn checks(sb: &Sandbox, store: &Store, catalogue: &Catalogue) -> Vec<MappingCheck> {
    let erp = catalogue.pair().erp;
    couplet::cli::sandbox_checks::compare_mappings_reading(sb, store, catalogue, |m| {
        sb.rows(erp, &m.erp_entity)
    })
    .expect("comparison reads the store")
}
