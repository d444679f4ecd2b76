//! Live progress and summaries for people (quiet when not on a terminal).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::System;
use crate::mapping::Catalogue;
use crate::metrics::metrics;
use crate::store::Store;

/// Counts for one mapping.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Changes captured on both sides.
    pub captured: u64,
    /// Target writes (created, updated, deleted).
    pub written: u64,
    /// Couplings.
    pub coupled: usize,
    /// Parked records.
    pub parked: usize,
    /// Records in the errors list.
    pub failed: usize,
}

/// Reads the counts of every mapping from the metrics and the store.
pub fn counts(catalogue: &Catalogue, store: &Store) -> Vec<(String, Counts)> {
    let m = metrics();
    let parked = store.parked().unwrap_or_default();
    let errors = store.errors().unwrap_or_default();
    catalogue
        .ordered()
        .iter()
        .map(|map| {
            let captured = m
                .captured
                .with_label_values(&[System::Dataverse.as_str(), &map.crm_entity, &map.name])
                .get()
                + m.captured
                    .with_label_values(&[System::Bc.as_str(), &map.erp_entity, &map.name])
                    .get();
            let written = ["created", "updated", "deleted"]
                .iter()
                .map(|o| m.records.with_label_values(&[&map.name, "apply", o]).get())
                .sum();
            let c = Counts {
                captured,
                written,
                coupled: store.coupling_count(&map.name).unwrap_or(0),
                parked: parked.iter().filter(|p| p.mapping == map.name).count(),
                failed: errors.iter().filter(|e| e.mapping == map.name).count(),
            };
            (map.name.clone(), c)
        })
        .collect()
}

fn line(name: &str, c: &Counts) -> String {
    format!(
        "{name:<10} captured {:>6}  written {:>6}  coupled {:>6}  parked {:>4}  failed {:>4}",
        c.captured, c.written, c.coupled, c.parked, c.failed
    )
}

/// A live display: one line per mapping, redrawn on a terminal, printed every few seconds
/// otherwise. Dropped (or `finish`ed) when the phase ends.
pub struct Live {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Live {
    /// Starts the display.
    pub fn start(title: &str, catalogue: std::sync::Arc<Catalogue>, store: Store) -> Live {
        let tty = std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let style = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars: Vec<ProgressBar> = catalogue
            .ordered()
            .iter()
            .map(|_| multi.add(ProgressBar::new_spinner().with_style(style.clone())))
            .collect();
        eprintln!("{title}");
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut last_print = Instant::now();
            loop {
                let now = counts(&catalogue, &store);
                for (bar, (name, c)) in bars.iter().zip(&now) {
                    bar.set_message(line(name, c));
                    bar.tick();
                }
                if !tty && last_print.elapsed() > Duration::from_secs(5) {
                    for (name, c) in &now {
                        eprintln!("  {}", line(name, c));
                    }
                    last_print = Instant::now();
                }
                tokio::select! {
                    _ = rx.changed() => break,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
            for b in &bars {
                b.finish_and_clear();
            }
            for (name, c) in counts(&catalogue, &store) {
                eprintln!("  {}", line(&name, &c));
            }
        });
        Live { stop: tx, task }
    }

    /// Stops the display and prints the final counts.
    pub async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}
