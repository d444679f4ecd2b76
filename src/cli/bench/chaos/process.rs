//! The `couplet run` child process the chaos suite kills and restarts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;

/// A `couplet run --config CONFIG` child process, its log (stderr) appended to a file; killed
/// when dropped.
#[derive(Debug)]
pub struct Instance {
    child: Child,
    log: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// Starts `exe run --config config`, its standard error appended to `log`.
    pub fn spawn(exe: &Path, config: &Path, log: &Path) -> anyhow::Result<Instance> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open the instance log {}", log.display()))?;
        let child = Command::new(exe)
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn,couplet=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .with_context(|| format!("cannot start {} run", exe.display()))?;
        Ok(Instance {
            child,
            log: log.to_path_buf(),
        })
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (no chance to flush or close anything) and reaps it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill().context("cannot kill couplet run")?;
        self.child.wait().context("cannot reap couplet run")?;
        Ok(())
    }

    /// Asks the process to stop (SIGTERM, through the `kill` command: no `unsafe`) and waits
    /// for it up to `grace`, then kills it; returns whether it stopped by itself.
    pub async fn stop(&mut self, grace: Duration) -> anyhow::Result<bool> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(true);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.kill()?;
        Ok(false)
    }

    /// The exit status when the process has ended by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}
