//! The console's Prometheus metrics, in Couplet's registry (bounded labels: the action, its
//! outcome, the reason of a refusal; never a record id).

use std::sync::OnceLock;

use prometheus::{IntCounterVec, Opts};

/// The console's counters.
pub struct ConsoleMetrics {
    /// `couplet_console_actions_total{action, outcome}`: retry, skip, couple, uncouple,
    /// sync_now; ok or failed (with the error's class in the log).
    pub actions: IntCounterVec,
    /// `couplet_console_logins_total{outcome}`: ok, wrong_token.
    pub logins: IntCounterVec,
    /// `couplet_console_refused_total{reason}`: unauthenticated, cross_site, csrf.
    pub refused: IntCounterVec,
}

/// The actions, for priming.
pub const ACTIONS: [&str; 5] = ["retry", "skip", "couple", "uncouple", "sync_now"];

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    // Registered once per process; a second registration of the same name only happens in
    // tests that build the metrics twice, and is harmless.
    let _ = crate::metrics::metrics()
        .registry
        .register(Box::new(c.clone()));
    c
}

/// The console's metrics, registered on first use.
pub fn console_metrics() -> &'static ConsoleMetrics {
    static M: OnceLock<ConsoleMetrics> = OnceLock::new();
    M.get_or_init(|| {
        let m = ConsoleMetrics {
            actions: counter(
                "console_actions_total",
                "Operator console actions, by action and outcome.",
                &["action", "outcome"],
            ),
            logins: counter(
                "console_logins_total",
                "Operator console logins, by outcome.",
                &["outcome"],
            ),
            refused: counter(
                "console_refused_total",
                "Operator console requests refused, by reason.",
                &["reason"],
            ),
        };
        for a in ACTIONS {
            for o in ["ok", "failed"] {
                m.actions.with_label_values(&[a, o]);
            }
        }
        for o in ["ok", "wrong_token"] {
            m.logins.with_label_values(&[o]);
        }
        for r in ["unauthenticated", "cross_site", "csrf"] {
            m.refused.with_label_values(&[r]);
        }
        m
    })
}
