//! `couplet status`: what the running instance waits for (asked on its listener's `/status`,
//! as `couplet run` holds the projection), then the projection's couplings, parked records,
//! errors, schedules and checkpoints when it can be opened.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::args::DataDir;
use super::inspect;
use crate::config::Config;
use crate::status_endpoint::{PATH, StatusReport, SystemState};
use crate::store::Store;

/// How long the running instance has to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);

/// What asking the running instance gave.
enum Live {
    /// Not asked: why.
    NotAsked(String),
    /// Asked at `addr`; nothing answered, for `reason`.
    NoAnswer { addr: SocketAddr, reason: String },
    /// The instance at `addr` answered.
    Answered {
        addr: SocketAddr,
        report: StatusReport,
    },
}

/// `couplet status`.
pub async fn show(d: &DataDir) -> anyhow::Result<()> {
    let cfg = d.config.as_deref().map(Config::load).transpose()?;
    let live = ask(d, cfg.as_ref()).await;
    print!("{}", render_live(&live, Utc::now()));
    let dir = match (&d.data_dir, &cfg) {
        (Some(dir), _) => dir.clone(),
        (None, Some(cfg)) => cfg.data_dir.clone(),
        (None, None) => inspect::data_dir(d)?,
    };
    match inspect::open_dir(&dir) {
        Ok(store) => print_projection(&store),
        // sled lets one process open the projection: the running instance holds it.
        Err(e) if matches!(live, Live::Answered { .. }) && format!("{e:#}").contains("lock") => {
            println!(
                "Couplings, parked records, errors and checkpoints: in the projection, which the running instance holds (its /metrics count them; stop it to list them here)."
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The address to ask for a listener bound to `listen`: the loopback address when it is bound
/// to every interface.
fn address_to_ask(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

async fn ask(d: &DataDir, cfg: Option<&Config>) -> Live {
    let Some(cfg) = cfg else {
        return Live::NotAsked(
            "pass --config FILE (with [metrics] listen) to see what the running instance waits for"
                .into(),
        );
    };
    let Some(listen) = cfg.metrics.listen else {
        let file = d
            .config
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        return Live::NotAsked(format!(
            "{file} sets no [metrics] listen, so the running instance cannot be asked what it waits for (its metrics name it when served)"
        ));
    };
    let addr = address_to_ask(listen);
    // The detail token, when this shell has it: the last fault's text is shown with it.
    let token = cfg
        .metrics
        .detail_token_env
        .as_deref()
        .and_then(|v| std::env::var(v).ok())
        .filter(|t| !t.trim().is_empty());
    match fetch(addr, token.as_deref()).await {
        Ok(report) => Live::Answered { addr, report },
        Err(reason) => Live::NoAnswer { addr, reason },
    }
}

async fn fetch(addr: SocketAddr, token: Option<&str>) -> Result<StatusReport, String> {
    let http = reqwest::Client::builder()
        .timeout(ASK_TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = http.get(format!("http://{addr}{PATH}"));
    if let Some(t) = token {
        req = req.bearer_auth(t.trim());
    }
    let resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {} s", ASK_TIMEOUT.as_secs())
        } else if e.is_connect() {
            "nothing listens there".to_string()
        } else {
            e.to_string()
        }
    })?;
    if !resp.status().is_success() {
        return Err(format!(
            "{PATH} answered HTTP {} (an older Couplet, or another service on that address)",
            resp.status().as_u16()
        ));
    }
    resp.json::<StatusReport>()
        .await
        .map_err(|e| format!("{PATH} answered something unreadable: {e}"))
}

/// `d` as `1h 02m`, `3m 05s` or `12s`.
fn age(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        s if s >= 86_400 => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The running instance's part of the status, as printed.
fn render_live(live: &Live, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    match live {
        Live::NotAsked(why) => out.push_str(&format!("Running instance: not asked: {why}.\n")),
        Live::NoAnswer { addr, reason } => out.push_str(&format!(
            "Running instance: none answers at {addr} ({reason}); nothing is waited for by a running engine. The projection as last written follows.\n"
        )),
        Live::Answered { addr, report } => {
            out.push_str(&format!("Running instance at {addr}\n"));
            if report.systems.is_empty() {
                out.push_str("  (the engine is starting: no system listed yet)\n");
            }
            for s in &report.systems {
                match (s.state, s.since) {
                    (SystemState::Waiting, Some(since)) => {
                        let class = s.class.as_deref().unwrap_or("not answering");
                        let verb = if s.records == 1 {
                            "record waits"
                        } else {
                            "records wait"
                        };
                        out.push_str(&format!(
                            "  {:<12} waiting since {} ({}), {class}: {} {verb}\n",
                            s.system,
                            time(since),
                            age(now - since),
                            s.records
                        ));
                        if let Some(d) = &s.detail {
                            out.push_str(&format!("  {:<12} last fault: {d}\n", ""));
                        }
                    }
                    _ => out.push_str(&format!("  {:<12} answering\n", s.system)),
                }
            }
        }
    }
    out
}

fn print_projection(store: &Store) -> anyhow::Result<()> {
    let couplings = store.couplings(None)?;
    let mut per: std::collections::BTreeMap<String, usize> = Default::default();
    for c in &couplings {
        *per.entry(c.mapping.clone()).or_default() += 1;
    }
    println!("Couplings");
    for (m, n) in &per {
        println!("  {m:<12} {n}");
    }
    println!("Parked   {}", store.parked()?.len());
    println!("Errors   {}", store.errors()?.len());
    let checkpoints = store.checkpoints()?;
    let schedules: Vec<_> = checkpoints
        .iter()
        .filter_map(|(name, v)| {
            let m = name.strip_prefix("schedule/")?;
            let ck: crate::capture::scheduled::ScheduleCheckpoint =
                serde_json::from_value(v.clone()).ok()?;
            Some((m.to_string(), ck))
        })
        .collect();
    if !schedules.is_empty() {
        println!("Schedules");
        for (m, ck) in &schedules {
            let t =
                |d: Option<DateTime<Utc>>| d.map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into());
            println!(
                "  {m:<12} next run {}  last run {} ({} records)",
                t(ck.next_run),
                t(ck.last_run),
                ck.last_count
            );
        }
    }
    println!("Checkpoints");
    for (name, v) in &checkpoints {
        let at = v.get("at").and_then(|a| a.as_str()).unwrap_or("-");
        println!("  {name:<40} saved {at}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status_endpoint::SystemStatus;

    #[test]
    fn a_waited_system_is_named_with_since_class_and_count() {
        let now: DateTime<Utc> = "2026-12-07T21:00:00Z".parse().unwrap();
        let since: DateTime<Utc> = "2026-12-07T20:57:55Z".parse().unwrap();
        let live = Live::Answered {
            addr: "127.0.0.1:9464".parse().unwrap(),
            report: StatusReport {
                at: now,
                systems: vec![
                    SystemStatus {
                        system: "bc".into(),
                        state: SystemState::Waiting,
                        since: Some(since),
                        class: Some("throttled".into()),
                        records: 3,
                        detail: None,
                    },
                    SystemStatus {
                        system: "dataverse".into(),
                        state: SystemState::Answering,
                        since: None,
                        class: None,
                        records: 0,
                        detail: None,
                    },
                ],
            },
        };
        assert_eq!(
            render_live(&live, now),
            "Running instance at 127.0.0.1:9464\n  bc           waiting since 2026-12-07T20:57:55Z (2m 05s), throttled: 3 records wait\n  dataverse    answering\n"
        );
    }

    #[test]
    fn ages_and_the_address_asked() {
        assert_eq!(age(chrono::Duration::seconds(12)), "12s");
        assert_eq!(age(chrono::Duration::seconds(3725)), "1h 02m");
        assert_eq!(age(chrono::Duration::seconds(90_000)), "1d 01h");
        assert_eq!(
            address_to_ask("0.0.0.0:9464".parse().unwrap()),
            "127.0.0.1:9464".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            address_to_ask("10.0.0.5:9464".parse().unwrap()),
            "10.0.0.5:9464".parse::<SocketAddr>().unwrap()
        );
    }
}
