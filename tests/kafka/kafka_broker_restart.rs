//! A broker restart in the middle of a synchronisation is ridden out with no loss: the broker
//! is SIGKILLed and started again while `couplet run` is creating records on both sides and
//! while new edits arrive; afterwards every company and person exists once on each side, the
//! edits made around the restart reached the other side, and the projection is coupled and
//! equal.
//!
//! It needs a broker whose data survives a SIGKILL. Tansu's memory storage does not (a restart
//! would be a new, empty cluster), so this test starts its own Tansu on its SQLite storage
//! (`scripts/kafka-broker-durable.sh`), on a free loopback port. `.ci/run` installs that
//! build of Tansu (cargo feature `libsql`); the test fails, not skips, when it is missing,
//! naming the install command.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::instances::{
    Instance, assert_projection_in_sync, counts, expected, unique_prefix, wait_converged,
    write_config,
};
use couplet::event::{Fields, System};
use couplet::sandbox::{Sandbox, SandboxConfig};

/// Tansu on SQLite, started by the repository's script in a directory of its own.
struct Broker {
    dir: PathBuf,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kafka-broker-durable.sh")
}

impl Broker {
    fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::new(script());
        cmd.args(args).env("KAFKA_BROKER_DIR", &self.dir);
        let out = cmd.output().expect("scripts/kafka-broker-durable.sh runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success(),
            "`scripts/kafka-broker-durable.sh {}` failed. It needs Tansu built with SQLite storage \
             (`cargo install tansu --locked --version 0.6.0 --features dynostore,libsql \
             --root ~/.cargo/tansu-0.6.0-libsql`, or TANSU naming such a binary); `.ci/run` \
             installs it. Output:\n{text}",
            args.join(" ")
        );
        text
    }

    fn start(dir: &Path) -> Broker {
        let b = Broker {
            dir: dir.to_path_buf(),
            port: free_port(),
        };
        let port = b.port.to_string();
        b.run(&["start", &port]);
        b
    }

    fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// SIGKILLs the broker and starts it again on the same port and storage.
    fn restart(&self) {
        self.run(&["restart"]);
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .arg("stop")
            .env("KAFKA_BROKER_DIR", &self.dir)
            .output();
    }
}

fn patch(field: &str, value: &str) -> Fields {
    let mut f = Fields::new();
    f.insert(field.into(), serde_json::Value::String(value.into()));
    f
}

fn text(sb: &Sandbox, system: System, set: &str, id: &str, field: &str) -> String {
    sb.row(system, set, id)
        .and_then(|r| r.get(field).and_then(|v| v.as_str()).map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_mid_sync_loses_nothing() {
    let tmp = tempfile::Builder::new()
        .prefix("couplet-broker-restart-")
        .disable_cleanup(true)
        .tempdir()
        .unwrap();
    eprintln!(
        "data and logs in {} (kept on failure)",
        tmp.path().display()
    );
    let broker = Broker::start(&tmp.path().join("broker"));
    let sb = Sandbox::start(SandboxConfig {
        records: 120,
        seed: 11,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut target = expected(&sb);
    // The seed as it was, before any synchronisation: which records exist on one side only.
    let seeded_accounts = crate::common::customer_accounts(&sb);
    let dir = tmp.path().join("couplet");
    std::fs::create_dir_all(&dir).unwrap();
    let config = write_config(&sb, &dir, &unique_prefix("restart"), &broker.brokers());
    let log = dir.join("log.txt");
    let mut instance = Instance::spawn(&config, &log);

    // Restart the broker once the synchronisation is well under way.
    let writes =
        || sb.stats(couplet::systems::DATAVERSE).writes + sb.stats(couplet::systems::BC).writes;
    let deadline = Instant::now() + Duration::from_secs(180);
    while writes() < 60 {
        assert!(
            Instant::now() < deadline,
            "no progress: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        instance.assert_running("couplet", &log);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    broker.restart();
    let at_restart = counts(&sb);
    assert_ne!(
        at_restart, target,
        "the synchronisation finished before the restart; nothing was shown"
    );

    // Edits while the broker comes back: one on each side, and a new account. The records are
    // on one side only in the seed (an account without a number, a customer whose number no
    // account carries), so no match on the other side can legitimately overwrite the edits;
    // and the account has finished its round trip (created in BC, the BC number written back)
    // before it is edited. An edit racing that round trip is an update conflict (both sides
    // changed since the last synchronisation), which the mapping's policy decides.
    let field = |r: &Fields, f: &str| {
        r.get(f)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let unnumbered: Vec<String> = seeded_accounts
        .iter()
        .filter(|r| field(r, "accountnumber").is_empty())
        .map(|r| field(r, "accountid"))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    let account = loop {
        let done = unnumbered.iter().find(|id| {
            sb.row(couplet::systems::DATAVERSE, "accounts", id)
                .is_some_and(|r| !field(&r, "accountnumber").is_empty())
        });
        if let Some(id) = done {
            break id.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no account got its BC number after the restart: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        instance.assert_running("couplet", &log);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let accounts = &seeded_accounts;
    sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &account,
        patch("telephone1", "+1 555 0100 restart"),
    )
    .unwrap();
    let numbers: Vec<String> = accounts.iter().map(|r| field(r, "accountnumber")).collect();
    let customer = sb
        .rows(couplet::systems::BC, "customers")
        .iter()
        .find(|r| !numbers.contains(&field(r, "number")))
        .map(|r| field(r, "id"))
        .expect("the seed has customers without an account");
    sb.update_row(
        couplet::systems::BC,
        "customers",
        &customer,
        patch("phoneNumber", "+1 555 0199 restart"),
    )
    .unwrap();
    let mut new_account = patch("name", "Restart Survivors Ltd");
    new_account.insert("statecode".into(), serde_json::json!(0));
    new_account.insert("customertypecode".into(), serde_json::json!(3));
    sb.insert_row(couplet::systems::DATAVERSE, "accounts", new_account)
        .unwrap();
    target[0] += 1;
    target[1] += 1;

    wait_converged(&sb, target, Duration::from_secs(300), || {
        match instance.0.try_wait() {
            Ok(None) => Ok(()),
            _ => Err(format!(
                "couplet exited after the broker restart: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )),
        }
    })
    .await;

    // The edits were not lost (nor reverted by the other side's older values).
    assert_eq!(
        text(
            &sb,
            couplet::systems::DATAVERSE,
            "accounts",
            &account,
            "telephone1"
        ),
        "+1 555 0100 restart"
    );
    assert_eq!(
        text(
            &sb,
            couplet::systems::BC,
            "customers",
            &customer,
            "phoneNumber"
        ),
        "+1 555 0199 restart"
    );
    let survivors: Vec<_> = sb
        .rows(couplet::systems::BC, "customers")
        .into_iter()
        .filter(|r| r.get("displayName").and_then(|v| v.as_str()) == Some("Restart Survivors Ltd"))
        .collect();
    assert_eq!(
        survivors.len(),
        1,
        "the account created during the restart, in BC"
    );

    instance.signal("TERM");
    let _ = instance.0.wait();
    // Coupled and equal: the edits reached the other side.
    assert_projection_in_sync(&sb, &config);
    drop(broker);
    let _ = std::fs::remove_dir_all(tmp.path());
}
