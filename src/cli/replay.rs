//! `couplet replay`.

use std::io::IsTerminal;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::build;
use crate::bus::{StartFrom, Topics};
use crate::config::Config;
use crate::pipeline::replay::{ReplayFilter, rebuild, replay};

/// Runs `couplet replay`.
pub async fn run(
    config: &std::path::Path,
    do_rebuild: bool,
    topic: &str,
    from_offset: Option<u64>,
    from_time: Option<&str>,
    mapping: Option<String>,
    record: Option<String>,
) -> anyhow::Result<()> {
    let cfg = Config::load(config)?;
    let bus = build::connect_bus(&cfg).await?;
    let topics = Topics::new(&cfg.bus.topic_prefix).with_retention(cfg.bus.retention.clone());
    let catalogue = build::catalogue(&cfg)?;
    bus.ensure_topics(&topics.specs(cfg.bus.partitions, (catalogue.ordered().len() * 2) as u32))
        .await?;
    if do_rebuild {
        std::fs::create_dir_all(&cfg.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                cfg.data_dir.display()
            )
        })?;
        let (store, aside) =
            crate::store::Store::open_setting_aside_damaged(&cfg.data_dir.join("projection"))?;
        if let Some(aside) = aside {
            eprintln!(
                "The projection was damaged: set aside as {} (remove it once the rebuilt one runs).",
                aside.display()
            );
        }
        eprintln!(
            "Rebuilding the projection in {} from the log…",
            cfg.data_dir.display()
        );
        let r = rebuild(&bus, &topics, &store, &catalogue).await?;
        println!(
            "Rebuilt from {} state and {} event messages: {} couplings, {} checkpoints, {} parked, {} errors.",
            r.state_messages, r.event_messages, r.couplings, r.checkpoints, r.parked, r.errors
        );
        return Ok(());
    }
    let start = match (from_offset, from_time) {
        (Some(o), _) => StartFrom::Offset(o),
        (None, Some(t)) => StartFrom::Timestamp(
            chrono::DateTime::parse_from_rfc3339(t)
                .with_context(|| {
                    format!("--from-time '{t}' is not RFC 3339, e.g. 2026-11-22T05:00:00Z")
                })?
                .with_timezone(&chrono::Utc),
        ),
        (None, None) => StartFrom::Earliest,
    };
    let full = match topic {
        "changes" => topics.changes.clone(),
        "commands" => topics.commands.clone(),
        other => anyhow::bail!("--topic '{other}': replay re-drives 'changes' or 'commands'"),
    };
    let bar = ProgressBar::with_draw_target(
        None,
        if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} re-driven, {per_sec}, ETA {eta}")
    {
        bar.set_style(style);
    }
    let (read, sent) = replay(
        &bus,
        &topics,
        &full,
        start,
        &ReplayFilter { mapping, record },
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await?;
    bar.finish_and_clear();
    println!(
        "Read {read} messages of {full}; re-drove {sent}. The running (or next) `couplet run` processes them."
    );
    Ok(())
}
