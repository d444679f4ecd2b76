//! `couplet status` while `couplet run` runs: it asks the running instance (its `[metrics]
//! listen`) and names the system records wait for, since when and how many; the wait goes
//! once the system answers; the last fault's text only with the detail token; with no
//! instance running it says so and prints the projection.

use std::process::Stdio;
use std::time::{Duration, Instant};

use couplet::sandbox::{Fault, Requests};

use crate::cli_support::{Cli, Run, couplet};

const TOKEN_VAR: &str = "COUPLET_TEST_STATUS_TOKEN";

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The number of records `couplet status` says wait for `system`, when it says it waits.
fn waiting(out: &str, system: &str) -> Option<usize> {
    let line = out.lines().find(|l| {
        l.trim_start().starts_with(&format!("{system} ")) && l.contains("waiting since")
    })?;
    let (_, tail) = line.rsplit_once(": ")?;
    tail.split_whitespace().next()?.parse().ok()
}

async fn status_until(
    cli: &Cli,
    env: &[(&str, &str)],
    what: &str,
    ok: impl Fn(&Run) -> bool,
) -> Run {
    let cfg = cli.config.to_string_lossy().into_owned();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = couplet(&["status", "--config", &cfg], env).await;
        if ok(&r) {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: never shown; last:\n{}{}",
            r.out,
            r.err
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_names_the_system_waited_for_since_when_and_how_many() {
    let cli = Cli::start(3).await;
    let port = free_port();
    let mut text = std::fs::read_to_string(&cli.config).unwrap();
    text.push_str(&format!(
        "\n[metrics]\nlisten = \"127.0.0.1:{port}\"\ndetail_token_env = \"{TOKEN_VAR}\"\n\n[http]\nmax_attempts = 2\nbackoff_base_ms = 50\n"
    ));
    std::fs::write(&cli.config, text).unwrap();
    let log = cli.dir.path().join("run.log");
    let mut run = tokio::process::Command::new(env!("CARGO_BIN_EXE_couplet"))
        .args(["run", "--config"])
        .arg(&cli.config)
        .env("RUST_LOG", "warn,couplet=info")
        .env(TOKEN_VAR, "status-token")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("couplet run starts");

    let r = status_until(&cli, &[], "both systems answering", |r| {
        r.out.contains("bc           answering") && r.out.contains("dataverse    answering")
    })
    .await;
    assert!(
        r.out
            .contains(&format!("Running instance at 127.0.0.1:{port}")),
        "{}",
        r.out
    );

    // Business Central refuses every write with a 500: a new account's customer waits.
    cli.sb.inject(
        couplet::systems::BC,
        Fault::ServerError {
            count: 100_000,
            status: 500,
            retry_after: None,
            on: Requests::Write,
        },
    );
    cli.account("Status Waits Ltd", "+1 555 0107");
    let r = status_until(&cli, &[], "bc waited for", |r| {
        waiting(&r.out, "bc").is_some_and(|n| n > 0)
    })
    .await;
    assert!(r.out.contains("unavailable"), "{}", r.out);
    assert!(r.out.contains("dataverse    answering"), "{}", r.out);
    assert!(
        !r.out.contains("last fault"),
        "no detail without the token: {}",
        r.out
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let with_token = couplet(
        &["status", "--config", &cli.config.to_string_lossy()],
        &[(TOKEN_VAR, "status-token")],
    )
    .await;
    assert!(
        with_token.out.contains("last fault: "),
        "{}",
        with_token.out
    );

    // Business Central answers again: the customer is written, once, and nothing waits.
    cli.sb.clear_faults(couplet::systems::BC);
    status_until(&cli, &[], "bc answering again", |r| {
        r.out.contains("bc           answering") && waiting(&r.out, "bc").is_none()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = cli
            .sb
            .rows(couplet::systems::BC, "customers")
            .iter()
            .filter(|c| c.get("displayName").and_then(|v| v.as_str()) == Some("Status Waits Ltd"))
            .count();
        if n == 1 {
            break;
        }
        assert!(n == 0 && Instant::now() < deadline, "{n} customers");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // No instance: said plainly, and the projection is shown.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &run.id().unwrap().to_string()])
        .status();
    let exit = tokio::time::timeout(Duration::from_secs(30), run.wait())
        .await
        .expect("couplet run stops")
        .unwrap();
    assert!(exit.success(), "{}", std::fs::read_to_string(&log).unwrap());
    let r = couplet(&["status", "--config", &cli.config.to_string_lossy()], &[]).await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.contains(&format!("none answers at 127.0.0.1:{port}")),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("Couplings\n") && r.out.contains("\n  CUSTOMER "),
        "{}",
        r.out
    );
    assert!(r.out.contains("Errors   0"), "{}", r.out);
}
