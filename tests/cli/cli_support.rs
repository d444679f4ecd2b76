//! Running the `couplet` binary against a sandbox: a config file pointing at it in a
//! temporary data directory, and the command's exit status and output.

use std::path::PathBuf;

use couplet::cli::build;
use couplet::event::{Fields, System};
use couplet::sandbox::{Sandbox, SandboxConfig};
use serde_json::json;
use tempfile::TempDir;

/// A sandbox, a data directory and a config file for the binary.
pub struct Cli {
    /// The sandbox.
    pub sb: Sandbox,
    /// The data directory (and where the config file is).
    pub dir: TempDir,
    /// The config file.
    pub config: PathBuf,
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub out: String,
    /// Standard error.
    pub err: String,
}

impl Cli {
    /// A sandbox with `records` seeded companies and a config pointing at it.
    pub async fn start(records: usize) -> Cli {
        Cli::start_with(SandboxConfig {
            records,
            seed: 7,
            ..Default::default()
        })
        .await
    }

    /// A sandbox started with `cfg` and a config pointing at it.
    pub async fn start_with(cfg: SandboxConfig) -> Cli {
        let sb = Sandbox::start(cfg).await.expect("sandbox starts");
        let dir = tempfile::Builder::new()
            .prefix("couplet-cli-")
            .tempdir()
            .expect("temp dir");
        let config = dir.path().join("couplet.toml");
        std::fs::write(
            &config,
            build::sandbox_config_text(&sb, &dir.path().join("data")),
        )
        .expect("config written");
        Cli { sb, dir, config }
    }

    /// Runs `couplet ARGS` (with `--config` appended when `with_config`).
    pub async fn run(&self, args: &[&str], with_config: bool) -> Run {
        let config = self.config.to_string_lossy().into_owned();
        let mut all = args.to_vec();
        if with_config {
            all.extend(["--config", config.as_str()]);
        }
        couplet(&all, &[]).await
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Inserts a Business Central customer; returns its id.
    pub fn customer(&self, name: &str, phone: &str) -> String {
        self.sb
            .insert_row(
                couplet::systems::BC,
                "customers",
                fields(json!({"displayName": name, "phoneNumber": phone, "type": "Company"})),
            )
            .expect("customer inserted")
    }

    /// Inserts a Dataverse account; returns its id.
    pub fn account(&self, name: &str, phone: &str) -> String {
        self.sb
            .insert_row(
                couplet::systems::DATAVERSE,
                "accounts",
                fields(json!({"name": name, "telephone1": phone, "statecode": 0, "customertypecode": 3})),
            )
            .expect("account inserted")
    }

    /// A field of a live row, as text.
    pub fn text(&self, system: System, set: &str, id: &str, field: &str) -> String {
        let row = self
            .sb
            .row(system, set, id)
            .unwrap_or_else(|| panic!("{system}/{set}/{id} does not exist"));
        row.get(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    }
}

/// A JSON object as fields.
pub fn fields(v: serde_json::Value) -> Fields {
    match v {
        serde_json::Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// Runs `couplet ARGS` with `env` added to its environment (`RUST_LOG=warn`), echoing the
/// command and its output to the test's log.
pub async fn couplet(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_couplet"));
    cmd.args(args).env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("couplet runs");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ couplet {}\n{}{}(exit {})",
        args.join(" "),
        r.out,
        r.err,
        r.code
    );
    r
}
