//! What the receiver did with each request: per-receiver counters ([`EventStats`]) and the
//! process-wide Prometheus series `couplet_fo_business_events_total{outcome}` and
//! `couplet_fo_business_events_last_control_number`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus::{IntCounterVec, IntGauge, Opts};

use crate::metrics::metrics;

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A fresh event of a known type: its entity set's polls were woken.
    Accepted,
    /// An event delivered again.
    Duplicate,
    /// An event older than one already applied to its record.
    Stale,
    /// A valid event of a type Couplet does not act on.
    Ignored,
    /// The secret header was missing or wrong (401).
    Unauthorized,
    /// The body was not a readable event, or too large (400, 413).
    Malformed,
}

impl Outcome {
    /// Every outcome, in label order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Accepted,
        Outcome::Duplicate,
        Outcome::Stale,
        Outcome::Ignored,
        Outcome::Unauthorized,
        Outcome::Malformed,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Stale => "stale",
            Outcome::Ignored => "ignored",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Malformed => "malformed",
        }
    }
}

/// Requests one receiver has handled, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStats {
    /// Fresh events that woke their polls.
    pub accepted: u64,
    /// Events delivered again.
    pub duplicate: u64,
    /// Events older than one already applied to their record.
    pub stale: u64,
    /// Events of types Couplet does not act on.
    pub ignored: u64,
    /// Requests refused for a missing or wrong secret.
    pub unauthorized: u64,
    /// Requests refused for an unreadable or too large body.
    pub malformed: u64,
}

/// The live counters behind [`EventStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters([AtomicU64; 6]);

impl Counters {
    /// Counts one request here and in Prometheus.
    pub fn count(&self, outcome: Outcome) {
        self.0[outcome as usize].fetch_add(1, Ordering::Relaxed);
        series().0.with_label_values(&[outcome.as_str()]).inc();
    }

    /// A snapshot.
    pub fn snapshot(&self) -> EventStats {
        let get = |o: Outcome| self.0[o as usize].load(Ordering::Relaxed);
        EventStats {
            accepted: get(Outcome::Accepted),
            duplicate: get(Outcome::Duplicate),
            stale: get(Outcome::Stale),
            ignored: get(Outcome::Ignored),
            unauthorized: get(Outcome::Unauthorized),
            malformed: get(Outcome::Malformed),
        }
    }
}

/// Records the control number of the last accepted event.
pub(crate) fn note_accepted_control(control: u64) {
    series().1.set(i64::try_from(control).unwrap_or(i64::MAX));
}

/// Creates every outcome's series at 0, so dashboards see them before the first event.
pub(crate) fn prime() {
    for o in Outcome::ALL {
        series().0.with_label_values(&[o.as_str()]);
    }
}

fn series() -> &'static (IntCounterVec, IntGauge) {
    static S: OnceLock<(IntCounterVec, IntGauge)> = OnceLock::new();
    S.get_or_init(|| {
        let total = IntCounterVec::new(
            Opts::new(
                "fo_business_events_total",
                "F&O business-event deliveries received, by outcome.",
            ),
            &["outcome"],
        )
        .expect("valid metric definition");
        let last = IntGauge::new(
            "fo_business_events_last_control_number",
            "ControlNumber of the last F&O business event accepted.",
        )
        .expect("valid metric definition");
        let registry = &metrics().registry;
        registry
            .register(Box::new(total.clone()))
            .expect("metric registered once");
        registry
            .register(Box::new(last.clone()))
            .expect("metric registered once");
        (total, last)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_receiver_and_in_prometheus() {
        let c = Counters::default();
        prime();
        let before = series().0.with_label_values(&["stale"]).get();
        c.count(Outcome::Stale);
        c.count(Outcome::Accepted);
        c.count(Outcome::Accepted);
        let s = c.snapshot();
        assert_eq!((s.accepted, s.stale, s.duplicate), (2, 1, 0));
        assert!(series().0.with_label_values(&["stale"]).get() > before);
        note_accepted_control(5_637_611_083);
        let text = metrics().render();
        assert!(text.contains("couplet_fo_business_events_total{outcome=\"malformed\"}"));
        assert!(text.contains("couplet_fo_business_events_last_control_number"));
    }
}
