//! `couplet mappings dry-run`: the command-line edge of [`crate::dryrun`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::build;
use crate::bus::{Bus, EmbeddedBus, Topics};
use crate::config::Config;
use crate::dryrun::{NewMappings, Report, Window, dry_run};

/// `couplet mappings dry-run`.
#[derive(Debug, clap::Args)]
pub struct DryRunArgs {
    /// The config file of the deployment whose log is replayed.
    #[arg(long, short)]
    pub config: PathBuf,
    /// The changed mapping file to try.
    #[arg(long)]
    pub mappings: PathBuf,
    /// Only the changes of this mapping, e.g. `CUSTOMER`.
    #[arg(long)]
    pub mapping: Option<String>,
    /// Only the changes appended since this time: RFC 3339 (`2026-12-07T20:00:00Z`) or a
    /// duration back from now (`90m`, `2h`, `7d`).
    #[arg(long, conflicts_with = "last")]
    pub since: Option<String>,
    /// Only the last N changes.
    #[arg(long)]
    pub last: Option<usize>,
    /// `text` or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

/// Parses `--since`: RFC 3339, or `<n>s|m|h|d` back from `now`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let bad = || {
        anyhow::anyhow!(
            "--since '{text}' is neither RFC 3339 (2026-12-07T20:00:00Z) nor a duration such as 90m, 2h or 7d"
        )
    };
    let unit = text.chars().last().ok_or_else(bad)?;
    let n: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let secs = match unit {
        's' => n,
        'm' => n * 60,
        'h' => n * 3600,
        'd' => n * 86_400,
        _ => return Err(bad()),
    };
    Ok(now - chrono::Duration::seconds(secs))
}

/// Opens the configured log for reading: Kafka, or the embedded log of the data directory
/// (which sled lets one process open: not while `couplet run` holds it).
async fn open_log(cfg: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    if cfg.bus.backend == "kafka" {
        return build::connect_bus(cfg).await.context("connecting to Kafka");
    }
    let dir = cfg.data_dir.join("log");
    if !dir.exists() {
        anyhow::bail!(
            "no embedded log in {}: nothing has been captured with this config yet (run `couplet run --config FILE` first)",
            cfg.data_dir.display()
        );
    }
    // No cleaning pass while the dry-run reads (it removes nothing the engine would not).
    match EmbeddedBus::open_cleaning_every(&dir, Duration::from_secs(86_400)) {
        Ok(b) => Ok(Arc::new(b)),
        Err(e) => {
            let e = anyhow::Error::from(e);
            if super::local::is_lock_error(&e) {
                Err(anyhow::anyhow!(
                    "the embedded log in {} is in use by another Couplet process (a running `couplet run`): sled lets one process open it at a time. Stop that instance (Ctrl-C or SIGTERM) and run the dry-run again; on Kafka ([bus] backend = \"kafka\") a dry-run reads the log beside the running instances",
                    cfg.data_dir.display()
                ))
            } else {
                Err(e)
            }
        }
    }
}

/// Runs the dry-run the arguments describe and returns its report.
pub async fn report(a: &DryRunArgs) -> anyhow::Result<Report> {
    let cfg = Config::load(&a.config)?;
    let targets = build::targets(&cfg)?;
    // The new file deployed in this config: its mappings, with the document flows it
    // inherits, selected as `[sync] mappings` selects (a lookup into a mapping the deployment
    // does not run is decided as the running instances decide it).
    let mut deployed = cfg.clone();
    deployed.sync.mapping_file = Some(a.mappings.clone());
    let catalogue = build::catalogue(&deployed)
        .with_context(|| format!("loading {}", a.mappings.display()))?
        .for_pair(targets.pair());
    if let Some(m) = &a.mapping
        && catalogue.get(m).is_none()
    {
        let known: Vec<&str> = catalogue
            .ordered()
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        anyhow::bail!(
            "--mapping {m}: {} has no mapping {m}; it has {}",
            a.mappings.display(),
            known.join(", ")
        );
    }
    let window = match (&a.since, a.last) {
        (Some(s), _) => Window::Since(parse_since(s, Utc::now())?),
        (None, Some(n)) => Window::Last(n),
        (None, None) => Window::All,
    };
    let bus = open_log(&cfg).await?;
    let topics = Topics::new(&cfg.bus.topic_prefix).with_retention(cfg.bus.retention.clone());
    let new = NewMappings {
        catalogue: Arc::new(catalogue),
        orders: cfg.orders.clone(),
        erp: Some(targets.erp.clone()),
        lcy: cfg.sync.lcy_code.clone(),
        currencies: Some(Arc::new(crate::pipeline::stages::CrmCurrencies(
            targets.crm.clone(),
        ))),
    };
    Ok(dry_run(&bus, &topics, new, a.mapping.as_deref(), &window).await?)
}

/// `couplet mappings dry-run`: prints the report (text or JSON).
pub async fn run(a: &DryRunArgs) -> anyhow::Result<bool> {
    let r = report(a).await?;
    print(&r, &a.format, &a.mappings)?;
    Ok(true)
}

/// Prints `r` as `format`.
pub fn print(r: &Report, format: &str, file: &Path) -> anyhow::Result<()> {
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(r)?);
    } else {
        print!(
            "{}",
            crate::dryrun::render::text(r, &file.display().to_string())
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_rfc3339_and_durations_back_from_now() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T20:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("2026-12-07T18:30:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-12-07T18:30:00+00:00"
        );
        assert_eq!(
            parse_since("90m", now).unwrap().to_rfc3339(),
            "2026-12-07T18:30:00+00:00"
        );
        assert_eq!(
            parse_since("2d", now).unwrap().to_rfc3339(),
            "2026-12-05T20:00:00+00:00"
        );
        let e = parse_since("yesterday", now).unwrap_err().to_string();
        assert!(e.contains("--since 'yesterday'"), "{e}");
        assert!(parse_since("", now).is_err());
    }
}
