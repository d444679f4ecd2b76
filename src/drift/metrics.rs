//! `couplet_reconcile_*`: registered in Couplet's registry on first use (and primed with the
//! catalogue, so a dashboard has series before the first run). Labels: mapping, kind,
//! trigger, result; never record ids.

use std::sync::OnceLock;

use prometheus::{IntCounterVec, IntGaugeVec, Opts};

use super::report::{DriftCounts, KINDS};

/// The reconciliation metrics.
pub struct DriftMetrics {
    /// Runs by mapping, trigger (`cli`, `schedule`) and result (`complete`, `partial`,
    /// `failed`).
    pub runs: IntCounterVec,
    /// Coupled pairs checked, by mapping.
    pub checked: IntCounterVec,
    /// Drift found by the last complete run, by mapping and kind.
    pub drift: IntGaugeVec,
    /// Drift found, by mapping and kind (every page of every run).
    pub found: IntCounterVec,
    /// Drifted pairs a fix handled, by mapping and result (`forced`: put on the changes
    /// topic; `skipped`: not fixable in the chosen direction).
    pub fixes: IntCounterVec,
    /// When a run of the mapping last completed (Unix seconds).
    pub last_complete: IntGaugeVec,
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    crate::metrics::metrics()
        .registry
        .register(Box::new(c.clone()))
        .expect("metric registered once");
    c
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    crate::metrics::metrics()
        .registry
        .register(Box::new(g.clone()))
        .expect("metric registered once");
    g
}

/// The process-wide reconciliation metrics.
pub fn drift_metrics() -> &'static DriftMetrics {
    static M: OnceLock<DriftMetrics> = OnceLock::new();
    M.get_or_init(|| DriftMetrics {
        runs: counter(
            "reconcile_runs_total",
            "Reconciliation runs of a mapping.",
            &["mapping", "trigger", "result"],
        ),
        checked: counter(
            "reconcile_pairs_checked_total",
            "Coupled pairs a reconciliation read and compared.",
            &["mapping"],
        ),
        drift: gauge(
            "reconcile_drift",
            "Drift found by the mapping's last complete reconciliation.",
            &["mapping", "kind"],
        ),
        found: counter(
            "reconcile_drift_found_total",
            "Drift found by reconciliations.",
            &["mapping", "kind"],
        ),
        fixes: counter(
            "reconcile_fixes_total",
            "Drifted pairs a reconciliation fix handled.",
            &["mapping", "result"],
        ),
        last_complete: gauge(
            "reconcile_last_complete_timestamp_seconds",
            "When the mapping's last complete reconciliation finished (Unix seconds).",
            &["mapping"],
        ),
    })
}

/// Creates every mapping's series at 0.
pub fn prime(catalogue: &crate::mapping::Catalogue) {
    let d = drift_metrics();
    for m in catalogue.ordered() {
        let name = m.name.as_str();
        for k in KINDS {
            d.drift.with_label_values(&[name, k]);
            d.found.with_label_values(&[name, k]);
        }
        d.checked.with_label_values(&[name]);
        d.last_complete.with_label_values(&[name]);
        for r in ["forced", "skipped"] {
            d.fixes.with_label_values(&[name, r]);
        }
    }
}

/// Records what a complete run found.
pub fn completed(mapping: &str, counts: &DriftCounts) {
    let d = drift_metrics();
    for (kind, n) in counts.by_kind() {
        d.drift.with_label_values(&[mapping, kind]).set(n as i64);
    }
    d.last_complete
        .with_label_values(&[mapping])
        .set(chrono::Utc::now().timestamp());
}
