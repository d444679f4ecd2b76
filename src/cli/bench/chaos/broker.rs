//! The Kafka-protocol broker a chaos run on Kafka restarts: Tansu on its SQLite storage, whose
//! data survives a SIGKILL (its memory storage would come back as a new, empty cluster), on a
//! free loopback port, in a directory of the run's own. The same command line as
//! `scripts/kafka-broker-durable.sh`, which the broker-restart test uses.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How Tansu with SQLite storage is installed (what `.ci/run` does).
pub const TANSU_INSTALL: &str = "cargo install tansu --locked --version 0.6.0 --features dynostore,libsql --root ~/.cargo/tansu-0.6.0-libsql";

/// The Tansu binary to use: `TANSU` when set, else where `.ci/run` installs it.
pub fn default_tansu() -> PathBuf {
    if let Some(t) = std::env::var_os("TANSU") {
        return PathBuf::from(t);
    }
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".cargo/tansu-0.6.0-libsql/bin/tansu")
}

/// A Tansu broker child process on SQLite storage; killed when dropped.
#[derive(Debug)]
pub struct Broker {
    tansu: PathBuf,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("no free loopback port")?;
    Ok(l.local_addr()?.port())
}

fn accepts(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

impl Broker {
    /// Starts Tansu in `dir` (created) on a free loopback port.
    pub async fn start(tansu: &Path, dir: &Path) -> anyhow::Result<Broker> {
        if !tansu.is_file() {
            bail!(
                "the chaos run on Kafka needs Tansu built with SQLite storage, not found at {} \
                 (set TANSU or pass --tansu): {TANSU_INSTALL}",
                tansu.display()
            );
        }
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut b = Broker {
            tansu: tansu.to_path_buf(),
            dir: dir.to_path_buf(),
            port: free_port()?,
            child: None,
        };
        b.spawn().await?;
        Ok(b)
    }

    /// The `bootstrap.servers` value.
    pub fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> PathBuf {
        self.dir.join("tansu.log")
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .with_context(|| format!("cannot open {}", self.log().display()))?;
        let err = out.try_clone()?;
        let url = format!("tcp://127.0.0.1:{}", self.port);
        // The sqlite URL's host is a path relative to the working directory.
        let child = Command::new(&self.tansu)
            .current_dir(&self.dir)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
            ])
            .arg(&url)
            .args(["--storage-engine", "sqlite://tansu.db"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", self.tansu.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !accepts(self.port) {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                self.child = None;
                let hint = if self.log_tail().contains("FeatureNotEnabled") {
                    format!("; this Tansu was built without SQLite storage: {TANSU_INSTALL}")
                } else {
                    String::new()
                };
                bail!(
                    "Tansu exited during start-up ({status}){hint}; its log ({}) ends:\n{}",
                    self.log().display(),
                    self.log_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "Tansu did not accept connections on port {} within 20 s; log: {}",
                    self.port,
                    self.log().display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    /// SIGKILLs the broker (nothing flushed beyond what SQLite's journal holds), keeps it down
    /// for `down`, and starts it again on the same port and storage.
    pub async fn restart(&mut self, down: Duration) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().context("cannot kill Tansu")?;
            c.wait().context("cannot reap Tansu")?;
        }
        // The listening socket can outlive the process by a moment.
        let deadline = Instant::now() + Duration::from_secs(5);
        while accepts(self.port) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(down).await;
        let _ = std::fs::OpenOptions::new()
            .append(true)
            .open(self.log())
            .and_then(|mut f| {
                use std::io::Write as _;
                writeln!(f, "--- restart by the chaos run ---")
            });
        self.spawn().await
    }
}
