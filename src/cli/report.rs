//! Live progress and summaries for people (quiet when not on a terminal).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::mapping::Catalogue;
use crate::metrics::metrics;
use crate::store::Store;

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keeps the live display off stderr (for `--log-format json`, where stderr is for the log
/// shipper and must hold only JSON lines).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

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
                .with_label_values(&[
                    map.system(crate::event::Side::Crm).as_str(),
                    &map.crm_entity,
                    &map.name,
                ])
                .get()
                + m.captured
                    .with_label_values(&[
                        map.system(crate::event::Side::Erp).as_str(),
                        &map.erp_entity,
                        &map.name,
                    ])
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

fn line(name: &str, c: &Counts, rate: f64) -> String {
    format!(
        "{name:<10} captured {:>6}  written {:>6} ({rate:>5.0}/s)  coupled {:>6}  parked {:>4}  failed {:>4}",
        c.captured, c.written, c.coupled, c.parked, c.failed
    )
}

/// Writes per second of each mapping since `base` was taken `secs` ago.
fn rates(now: &[(String, Counts)], base: &[(String, Counts)], secs: f64) -> Vec<f64> {
    now.iter()
        .zip(base)
        .map(|((_, c), (_, b))| c.written.saturating_sub(b.written) as f64 / secs.max(0.001))
        .collect()
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
        let tty = std::io::stderr().is_terminal() && !quiet();
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
        if !quiet() {
            eprintln!("{title}");
        }
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let mut last_print = Instant::now();
            let (started, base) = (Instant::now(), counts(&catalogue, &store));
            loop {
                let now = counts(&catalogue, &store);
                let r = rates(&now, &base, started.elapsed().as_secs_f64());
                for ((bar, (name, c)), rate) in bars.iter().zip(&now).zip(&r) {
                    bar.set_message(line(name, c, *rate));
                    bar.tick();
                }
                if !tty && !quiet() && last_print.elapsed() > Duration::from_secs(5) {
                    for ((name, c), rate) in now.iter().zip(&r) {
                        eprintln!("  {}", line(name, c, *rate));
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
            let now = counts(&catalogue, &store);
            let r = rates(&now, &base, started.elapsed().as_secs_f64());
            for ((name, c), rate) in now.iter().zip(&r) {
                if !quiet() {
                    eprintln!("  {}", line(name, c, *rate));
                }
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
