//! `couplet run` child processes on a Kafka-protocol broker, for the tests that stop
//! instances or brokers under the engine: configuration, start, stop, and the checks that
//! every company and person ended up once on each side, coupled and equal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use couplet::cli::bench::chaos::world;
use couplet::cli::build;
use couplet::sandbox::Sandbox;

/// A `couplet run` child process, killed when dropped.
pub struct Instance(pub Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Instance {
    /// Starts `couplet run --config CONFIG`, its log (stderr) going to `log`.
    pub fn spawn(config: &Path, log: &Path) -> Instance {
        let out = std::fs::File::create(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_couplet"))
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn,couplet=info")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("couplet starts");
        Instance(child)
    }

    /// Sends `signal` (`TERM`, `KILL`) through the `kill` command (no `unsafe`).
    pub fn signal(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.0.id().to_string()])
            .status();
    }

    /// Fails the test with the instance's log when it has exited.
    pub fn assert_running(&mut self, name: &str, log: &Path) {
        assert!(
            self.0.try_wait().unwrap().is_none(),
            "instance {name} exited: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

/// Writes the configuration of an instance on `sb` and the brokers, topics under `prefix`,
/// data in `dir/data`; returns its path.
pub fn write_config(sb: &Sandbox, dir: &Path, prefix: &str, brokers: &str) -> PathBuf {
    let mut text = build::sandbox_config_text(sb, &dir.join("data"));
    text = text.replace("poll_interval_ms = 500", "poll_interval_ms = 200");
    text.push_str(&build::tansu_bus_section(prefix, brokers));
    let path = dir.join("couplet.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A topic prefix of its own for one test run.
pub fn unique_prefix(what: &str) -> String {
    format!("{what}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// How many distinct customer companies and persons the seed holds: the counts each side
/// must reach, as `[accounts, customers, contacts (CRM), contacts (ERP)]` (the chaos suite's).
pub fn expected(sb: &Sandbox) -> [usize; 4] {
    world::expected(sb)
}

/// The companies and persons one side has and the other lacks, for failure messages.
pub fn missing(sb: &Sandbox) -> String {
    world::missing(sb)
}

/// The record counts of each side now, in the order of [`expected`].
pub fn counts(sb: &Sandbox) -> [usize; 4] {
    world::counts(sb)
}

/// Waits until the counts equal `target` and stay so for 8 s, failing on a twin (a count above
/// the target), when `running` reports a dead instance, or after `timeout`.
pub async fn wait_converged(
    sb: &Sandbox,
    target: [usize; 4],
    timeout: Duration,
    mut running: impl FnMut() -> Result<(), String>,
) {
    let deadline = Instant::now() + timeout;
    let mut stable_since: Option<Instant> = None;
    loop {
        if let Err(e) = running() {
            panic!("{e}");
        }
        let now = counts(sb);
        for (got, want) in now.iter().zip(target) {
            assert!(*got <= want, "a twin was created: {now:?} > {target:?}");
        }
        if now == target {
            let since = *stable_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_secs(8) {
                return;
            }
        } else {
            stable_since = None;
        }
        assert!(
            Instant::now() < deadline,
            "not converged within {timeout:?}: {now:?}, want {target:?}; {}",
            missing(sb)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Opens the (stopped) instance's projection and checks that every mapping is coupled and
/// equal on both sides.
pub fn assert_projection_in_sync(sb: &Sandbox, config: &Path) {
    let cfg = couplet::config::Config::load(config).unwrap();
    let store = build::open_store(&cfg.data_dir).unwrap();
    let catalogue = build::catalogue(&cfg).unwrap();
    for check in super::checks(sb, &store, &catalogue) {
        assert!(check.ok(), "{}", super::describe_check(&check));
    }
}
