//! The command line (`anyhow` lives here only).

pub mod args;
pub mod bench;
pub mod build;
pub mod check;
pub mod console;
pub mod couple;
pub mod credentials;
pub mod credentials_args;
pub mod demo;
pub mod demo_fo;
pub mod edits;
pub mod full_sync;
pub mod inspect;
pub mod local;
pub mod mappings;
pub mod mappings_dry_run;
pub mod orders;
pub mod reconcile;
pub mod replay;
pub mod report;
pub mod sandbox_checks;
pub mod status;
pub mod story;
pub mod story_fo;
pub mod story_run;
pub mod sync_now;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use args::{BenchAction, Cli, Command, CouplingsAction, ErrorsAction, MappingsAction};

fn init_tracing(format: &str, default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

/// Entry point of the `couplet` binary.
pub fn main() -> ExitCode {
    quiet_on_broken_pipe();
    // Everything Couplet writes (the data directory, the credential store) is its owner's
    // only.
    crate::private_fs::private_umask();
    let cli = Cli::parse();
    let quiet = matches!(cli.command, Command::Demo { .. } | Command::Bench { .. });
    report::set_quiet(cli.log_format == "json");
    init_tracing(
        &cli.log_format,
        if quiet { "warn,couplet=error" } else { "info" },
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(dispatch(cli.command)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// `couplet couplings list | head -1` closes standard output early; the next `println!` then
/// fails with a broken pipe, which the standard library raises as a panic. That is the reader
/// leaving, not a fault of Couplet's: exit at once and quietly (status 0, nothing on stderr),
/// as other command-line tools do, instead of a panic message and status 101. Every other
/// panic keeps the default report.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

async fn dispatch(cmd: Command) -> anyhow::Result<bool> {
    match cmd {
        Command::Bench {
            action:
                BenchAction::Chaos {
                    seed,
                    faults,
                    kills,
                    records,
                    rounds,
                    data_dir,
                    max_chaos_secs,
                    settle_secs,
                    kafka,
                    broker_restarts,
                    tansu,
                },
        } => {
            let exe = std::env::current_exe()
                .map_err(|e| anyhow::anyhow!("cannot find the couplet binary to run: {e}"))?;
            let mut o = bench::chaos::ChaosOptions::new(exe);
            o.seed = seed;
            o.faults = faults;
            o.kills = kills;
            o.records = records;
            o.edit_rounds = rounds;
            o.data_dir = data_dir;
            o.max_chaos = Duration::from_secs(max_chaos_secs);
            o.settle = Duration::from_secs(settle_secs);
            o.kafka = kafka.then(|| bench::chaos::KafkaChaos {
                tansu: tansu.unwrap_or_else(bench::chaos::default_tansu),
                restarts: broker_restarts,
            });
            let on = if kafka {
                format!("Kafka (Tansu, {broker_restarts} broker restarts)")
            } else {
                "the embedded log".to_string()
            };
            println!(
                "Chaos run: seed {seed}, {faults} faults, {kills} SIGKILLs, {records} companies, {rounds} rounds of edits, on {on}; machine: {} cores, {} {}.",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
                std::env::consts::OS,
                std::env::consts::ARCH
            );
            let report = bench::chaos::run(o).await?;
            print!("{}", bench::chaos::render(&report));
            Ok(report.passed())
        }
        Command::Demo {
            records,
            seed,
            data_dir,
            edits,
            throttle,
            timeout_secs,
            keep_running,
            metrics_listen,
            bus,
            brokers,
            no_story,
            erp,
        } => {
            demo::run(demo::DemoOptions {
                records,
                seed,
                data_dir,
                edits,
                throttle,
                timeout: Duration::from_secs(timeout_secs),
                keep_running,
                metrics_listen,
                bus,
                brokers,
                story: !no_story,
                erp,
            })
            .await
        }
        Command::Run { config } => run(&config).await.map(|_| true),
        Command::Check { config } => check::run(&config).await,
        Command::Sandbox {
            records,
            seed,
            port,
            throttle,
        } => sandbox(records, seed, port, throttle).await.map(|_| true),
        Command::FullSync(a) => full_sync::run(&a).await,
        Command::Status(d) => status::show(&d).await.map(|_| true),
        Command::Couplings {
            action: CouplingsAction::List { mapping, dir },
        } => inspect::couplings(mapping.as_deref(), &dir).map(|_| true),
        Command::Audit { record, dir } => inspect::audit(&record, &dir).map(|_| true),
        Command::Errors {
            action: ErrorsAction::List(d),
        } => inspect::errors(&d).map(|_| true),
        Command::Errors {
            action: ErrorsAction::Retry { config, record },
        } => inspect::retry(&config, record.as_deref())
            .await
            .map(|_| true),
        Command::Parked(d) => inspect::parked(&d).map(|_| true),
        Command::Replay {
            config,
            rebuild,
            topic,
            from_offset,
            from_time,
            mapping,
            record,
        } => replay::run(
            &config,
            rebuild,
            &topic,
            from_offset,
            from_time.as_deref(),
            mapping,
            record,
        )
        .await
        .map(|_| true),
        Command::Mappings { action } => match action {
            MappingsAction::List(s) => {
                mappings::list(s.config.as_deref(), s.file.as_deref()).map(|_| true)
            }
            MappingsAction::Show { name, source } => {
                mappings::show(&name, source.config.as_deref(), source.file.as_deref())
                    .map(|_| true)
            }
            MappingsAction::Validate { source, offline } => {
                mappings::validate(source.config.as_deref(), source.file.as_deref(), offline).await
            }
            MappingsAction::DryRun(a) => mappings_dry_run::run(&a).await,
        },
        Command::Couple(a) => couple::run(&a).await,
        Command::Uncouple(a) => couple::uncouple_cmd(&a).await,
        Command::SyncNow(a) => sync_now::run(&a).await,
        Command::Reconcile(a) => reconcile::run(&a).await,
        Command::Orders {
            action: args::OrdersAction::CreateInErp(a),
        } => orders::create_in_erp(&a).await,
        Command::Credentials { action } => credentials::run(&action).await,
    }
}

async fn run(config: &std::path::Path) -> anyhow::Result<()> {
    let cfg = crate::config::Config::load(config)?;
    let parts = build::connect_parts(&cfg).await?;
    let names: Vec<String> = parts
        .catalogue
        .ordered()
        .iter()
        .map(|m| m.name.clone())
        .collect();
    crate::metrics::metrics().prime(&parts.catalogue, &parts.topics);
    let console = console::from_config(&cfg)?;
    let listen = crate::console::config::listen_addr(cfg.metrics.listen, console.is_some());
    let server = match listen {
        Some(addr) => Some(
            crate::metrics_server::MetricsServer::start_with_routes(
                addr,
                cfg.metrics.detail_token()?,
                console.clone().map(crate::console::routes::router),
            )
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?,
        ),
        None => None,
    };
    crate::drift::schedule::check(&parts.catalogue, &cfg.reconcile)?;
    let scheduled = parts.clone();
    let mut engine = crate::pipeline::Engine::start(parts).await?;
    let (stop_reconcile, reconcile_rx) = tokio::sync::watch::channel(false);
    let reconcile =
        match crate::drift::schedule::spawn(scheduled, cfg.reconcile.clone(), reconcile_rx) {
            Ok(h) => h,
            Err(e) => {
                engine.shutdown().await?;
                return Err(e.into());
            }
        };
    if let Some(s) = &server {
        s.set_probe(probe(&engine));
        if let Some(c) = &console {
            console::attach(c, &engine, s.local_addr())?;
        }
    }
    tracing::info!(mappings = %names.join(","), data_dir = %cfg.data_dir.display(), "Couplet is running; Ctrl-C to stop.");
    let stop = stop_signal();
    tokio::pin!(stop);
    let outcome = loop {
        tokio::select! {
            _ = &mut stop => break Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                if let Some(e) = engine.failed_task() {
                    break Err(e);
                }
            }
        }
    };
    tracing::info!("Stopping.");
    let _ = stop_reconcile.send(true);
    if let Some(h) = reconcile {
        let _ = h.await;
    }
    engine.shutdown().await?;
    if let Some(s) = server {
        s.shutdown().await;
    }
    outcome.map_err(Into::into)
}

/// What `/readyz` checks for a running engine.
pub fn probe(engine: &crate::pipeline::Engine) -> crate::metrics_server::Probe {
    crate::metrics_server::Probe {
        bus: engine.parts().bus.clone(),
        topic: engine.parts().topics.changes.clone(),
        captures: engine.captures().to_vec(),
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what `docker stop` sends).
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn sandbox(records: usize, seed: u64, port: u16, throttle: bool) -> anyhow::Result<()> {
    use crate::sandbox::{RateLimit, Sandbox, SandboxConfig};
    let mut cfg = SandboxConfig {
        seed,
        records,
        entra_port: port,
        dataverse_port: port.saturating_add(1),
        bc_port: port.saturating_add(2),
        ..Default::default()
    };
    cfg.fo.port = port.saturating_add(3);
    if throttle {
        cfg.dataverse_limits = Some(RateLimit::dataverse_default());
        cfg.bc_limits = Some(RateLimit::bc_default());
        cfg.fo.limits = Some(RateLimit::fo_default());
        cfg.fo.execution_limit = Some(std::time::Duration::from_secs(1200));
    }
    let sb = Sandbox::start(cfg).await?;
    println!(
        "{}",
        build::sandbox_config_text_env(&sb, std::path::Path::new("couplet-data"))
    );
    // The config takes the sandbox's client secret from a variable; the line to set it goes
    // to standard error, not into the config a user saves.
    eprintln!(
        "Sandbox running (Entra ID, Dataverse, Business Central; Finance & Operations at {}). Save the config above, then in the shell that runs Couplet:\n  export {}='{}'\n  couplet run --config FILE\nCtrl-C to stop.",
        sb.fo_data_url(),
        build::SANDBOX_SECRET_ENV,
        sb.credentials().client_secret
    );
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    Ok(())
}
