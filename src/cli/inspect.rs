//! The inspection commands: couplings, audit, errors, parked (status: `status.rs`).

use std::path::PathBuf;

use anyhow::Context as _;

use super::args::DataDir;
use super::build;
use crate::bus::Topics;
use crate::config::Config;
use crate::event::avro::encode_change;
use crate::event::{ChangeEvent, ChangeOp, RecordKey};
use crate::pipeline::sync_now::read_change;
use crate::store::Store;

pub(super) fn data_dir(d: &DataDir) -> anyhow::Result<PathBuf> {
    if let Some(p) = &d.data_dir {
        return Ok(p.clone());
    }
    if let Some(c) = &d.config {
        return Ok(Config::load(c)?.data_dir);
    }
    Ok(PathBuf::from("couplet-data"))
}

pub(super) fn open(d: &DataDir) -> anyhow::Result<Store> {
    open_dir(&data_dir(d)?)
}

/// Opens the projection in the data directory `dir`.
pub(super) fn open_dir(dir: &std::path::Path) -> anyhow::Result<Store> {
    if !dir.join("projection").exists() {
        anyhow::bail!(
            "no Couplet data in {}: run `couplet run --config FILE` first, or pass --data-dir / --config",
            dir.display()
        );
    }
    build::open_store(dir)
}

/// `couplet couplings list`.
pub fn couplings(mapping: Option<&str>, d: &DataDir) -> anyhow::Result<()> {
    let store = open(d)?;
    println!(
        "{:<10} {:<38} {:<38} {:<8} {:<9} last sync",
        "mapping", "crm id", "erp id", "dir", "result"
    );
    for c in store.couplings(mapping)? {
        println!(
            "{:<10} {:<38} {:<38} {:<8} {:<9} {}",
            c.mapping,
            c.crm_id,
            c.erp_id,
            c.last_direction.as_deref().unwrap_or("-"),
            c.last_result.as_deref().unwrap_or("-"),
            c.last_sync_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| "-".into())
        );
    }
    Ok(())
}

/// `couplet audit`.
pub fn audit(record: &str, d: &DataDir) -> anyhow::Result<()> {
    let key: RecordKey = record.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let store = open(d)?;
    let trail = store.audit(&key.to_string())?;
    if trail.is_empty() {
        println!("No events about {key}.");
    }
    for e in trail {
        println!(
            "{}  {:<7} {}@{}:{}  {}",
            e.at.to_rfc3339(),
            e.kind,
            e.topic,
            e.partition,
            e.offset,
            e.summary
        );
    }
    Ok(())
}

/// `couplet errors list`.
pub fn errors(d: &DataDir) -> anyhow::Result<()> {
    let store = open(d)?;
    let errs = store.errors()?;
    if errs.is_empty() {
        println!("No errors.");
    }
    for e in errs {
        println!(
            "{}  {}  [{} / {}{}] x{}\n    {}",
            e.last_at.to_rfc3339(),
            e.record,
            e.class,
            e.actor,
            e.field
                .as_ref()
                .map(|f| format!(", field {f}"))
                .unwrap_or_default(),
            e.attempts,
            e.reason
        );
    }
    Ok(())
}

/// `couplet parked`.
pub fn parked(d: &DataDir) -> anyhow::Result<()> {
    let store = open(d)?;
    let parked = store.parked()?;
    if parked.is_empty() {
        println!("Nothing is parked.");
    }
    for p in parked {
        println!(
            "{}  {}  waits for {}\n    {}",
            p.parked_at.to_rfc3339(),
            p.record,
            p.waiting_for,
            p.reason
        );
    }
    Ok(())
}

/// `couplet errors retry`: reads each failed source record again and puts it on the changes
/// topic; the next `couplet run` synchronises it.
pub async fn retry(config: &std::path::Path, only: Option<&str>) -> anyhow::Result<()> {
    let cfg = Config::load(config)?;
    let store = build::open_store(&cfg.data_dir)?;
    let bus = build::connect_bus(&cfg).await?;
    let topics = Topics::new(&cfg.bus.topic_prefix).with_retention(cfg.bus.retention.clone());
    bus.ensure_topics(&topics.specs(
        cfg.bus.partitions,
        (build::catalogue(&cfg)?.ordered().len() * 2) as u32,
    ))
    .await?;
    let targets = build::targets(&cfg)?;
    let mut n = 0;
    for e in store.errors()? {
        if only.is_some_and(|o| o != e.record) {
            continue;
        }
        let Ok(key) = e.record.parse::<RecordKey>() else {
            println!(
                "skipped {}: not a record key (an undecodable message; see the dead-letter topic)",
                e.record
            );
            continue;
        };
        let read = read_change(targets.get(key.system), &e.mapping, &key)
            .await
            .with_context(|| format!("reading {key}"))?;
        let ev = match read {
            Some(ev) => ev,
            None => ChangeEvent::new(
                e.mapping.clone(),
                key.clone(),
                ChangeOp::Delete,
                None,
                None,
                Default::default(),
            ),
        };
        let mut ev = ev;
        ev.redrive = e.attempts as i32;
        bus.produce(
            &topics.changes,
            &key.to_string(),
            Some(&encode_change(&ev)?),
            &[("couplet-retry".into(), "errors".into())],
        )
        .await?;
        store.clear_error(&e.mapping, &e.record)?;
        println!("re-driven {}", e.record);
        n += 1;
    }
    store.flush()?;
    println!(
        "{n} record(s) re-driven; they are synchronised by the running (or next) `couplet run`."
    );
    Ok(())
}
