//! Each mapping's throughput and last activity for the overview, sampled from Couplet's own
//! counters (`couplet_records_total`): every [`SAMPLE_EVERY`], the writes (created, updated,
//! deleted) and failures per mapping are summed; the rate is over the last minute of
//! samples, and the last activity is the sample at which a mapping's counts last moved.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

/// How often the counters are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The window the rate is measured over.
const WINDOW: Duration = Duration::from_secs(60);

/// Totals of one mapping at one sample (failures of every stage; the rest at the stages
/// after the transform).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Records written (created, updated, deleted), all write stages.
    pub written: u64,
    /// Records that failed.
    pub failed: u64,
    /// Every record through any stage but the transform.
    pub handled: u64,
}

/// What the overview shows of one mapping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MappingActivity {
    /// Totals since the process started.
    pub totals: Totals,
    /// Writes per minute over the last minute.
    pub writes_per_min: f64,
    /// When its counts last moved (since the process started).
    pub last_activity: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Samples {
    ring: VecDeque<(Instant, BTreeMap<String, Totals>)>,
    last_activity: BTreeMap<String, DateTime<Utc>>,
}

/// The sampler.
#[derive(Clone, Default)]
pub struct Activity {
    inner: Arc<Mutex<Samples>>,
}

/// The totals per mapping in the registry now.
pub fn current_totals() -> BTreeMap<String, Totals> {
    let mut out: BTreeMap<String, Totals> = BTreeMap::new();
    for fam in crate::metrics::metrics().registry.gather() {
        if fam.name() != "couplet_records_total" {
            continue;
        }
        for m in fam.get_metric() {
            let label = |n: &str| {
                m.get_label()
                    .iter()
                    .find(|l| l.name() == n)
                    .map(|l| l.value().to_string())
                    .unwrap_or_default()
            };
            let (mapping, stage, outcome) = (label("mapping"), label("stage"), label("outcome"));
            let n = m.get_counter().value() as u64;
            let t = out.entry(mapping).or_default();
            // A record failing in the transform is counted there; everything else that is
            // handled, at the stage that writes.
            if outcome == "failed" {
                t.failed += n;
            }
            if stage == "transform" {
                continue;
            }
            t.handled += n;
            if matches!(outcome.as_str(), "created" | "updated" | "deleted") {
                t.written += n;
            }
        }
    }
    out
}

impl Activity {
    /// Takes a sample now.
    pub fn sample(&self) {
        self.sample_with(current_totals(), Instant::now(), Utc::now());
    }

    fn sample_with(&self, totals: BTreeMap<String, Totals>, at: Instant, wall: DateTime<Utc>) {
        let mut s = self.inner.lock();
        if let Some((_, prev)) = s.ring.back() {
            let moved: Vec<String> = totals
                .iter()
                .filter(|(k, t)| prev.get(*k).is_none_or(|p| p.handled != t.handled))
                .map(|(k, _)| k.clone())
                .collect();
            for k in moved {
                s.last_activity.insert(k, wall);
            }
        }
        s.ring.push_back((at, totals));
        while s
            .ring
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) > WINDOW + SAMPLE_EVERY)
        {
            s.ring.pop_front();
        }
    }

    /// What the overview shows of `mapping`, with its totals now (`now`, from
    /// [`current_totals`]).
    pub fn of(&self, mapping: &str, now: &BTreeMap<String, Totals>) -> MappingActivity {
        let mut a = self.sampled(mapping);
        a.totals = now.get(mapping).copied().unwrap_or_default();
        a
    }

    /// What the samples say of `mapping`.
    fn sampled(&self, mapping: &str) -> MappingActivity {
        let s = self.inner.lock();
        let (Some((t1, last)), Some((t0, first))) = (s.ring.back(), s.ring.front()) else {
            return MappingActivity::default();
        };
        let now = last.get(mapping).copied().unwrap_or_default();
        let then = first.get(mapping).copied().unwrap_or_default();
        let secs = t1.duration_since(*t0).as_secs_f64();
        MappingActivity {
            totals: now,
            writes_per_min: if secs > 0.0 {
                (now.written.saturating_sub(then.written)) as f64 * 60.0 / secs
            } else {
                0.0
            },
            last_activity: s.last_activity.get(mapping).copied(),
        }
    }

    /// Samples every [`SAMPLE_EVERY`] until the task is aborted.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_EVERY);
            loop {
                tick.tick().await;
                me.sample();
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_over_the_window_and_activity_is_when_counts_moved() {
        let a = Activity::default();
        let t0 = Instant::now();
        let w0 = Utc::now();
        let tot = |w: u64| {
            BTreeMap::from([(
                "CUSTOMER".to_string(),
                Totals {
                    written: w,
                    failed: 0,
                    handled: w,
                },
            )])
        };
        a.sample_with(tot(10), t0, w0);
        assert_eq!(a.sampled("CUSTOMER").last_activity, None);
        a.sample_with(
            tot(40),
            t0 + Duration::from_secs(30),
            w0 + chrono::Duration::seconds(30),
        );
        let m = a.sampled("CUSTOMER");
        assert_eq!(m.totals.written, 40);
        assert!((m.writes_per_min - 60.0).abs() < 1e-9, "{m:?}");
        assert_eq!(m.last_activity, Some(w0 + chrono::Duration::seconds(30)));
        assert_eq!(a.of("OTHER", &BTreeMap::new()), MappingActivity::default());
    }
}
