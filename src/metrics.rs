//! Prometheus metrics. Labels are bounded: system, entity, mapping, stage, outcome, operation,
//! status class, error class; never record ids.

use std::sync::OnceLock;

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric Couplet exports.
pub struct Metrics {
    /// The registry they are registered in.
    pub registry: Registry,
    /// HTTP requests to external systems, by system, operation and status code.
    pub http_requests: IntCounterVec,
    /// HTTP request latency, by system and operation.
    pub http_seconds: HistogramVec,
    /// 429/503 answers with Retry-After, by system.
    pub http_throttled: IntCounterVec,
    /// Seconds spent paused on Retry-After, by system.
    pub retry_after_seconds: prometheus::CounterVec,
    /// Retries after transient faults, by system.
    pub http_retries: IntCounterVec,
    /// Access tokens fetched from Entra ID, by resource system.
    pub token_refreshes: IntCounterVec,
    /// Changes captured, by system, entity and mapping.
    pub captured: IntCounterVec,
    /// Ledger entries read by the availability capture, by system and entity.
    pub ledger_entries: IntCounterVec,
    /// Records through a stage, by mapping, stage (transform/apply) and outcome.
    pub records: IntCounterVec,
    /// Failures, by mapping, stage and error class.
    pub failures: IntCounterVec,
    /// Seconds from the source's modified-on to the target write, by mapping and direction.
    pub e2e_seconds: HistogramVec,
    /// Messages appended to the log, by topic.
    pub produced: IntCounterVec,
    /// Messages the embedded log's compaction removed (superseded values, expired
    /// tombstones), by topic.
    pub log_compacted: IntCounterVec,
    /// Messages the embedded log's retention deleted (older or beyond the size limit), by
    /// topic.
    pub log_retention_deleted: IntCounterVec,
    /// Bytes the embedded log's database takes on disk, after the last cleaning pass.
    pub log_disk_bytes: IntGaugeVec,
    /// Consumer positions moved up to the log start because retention deleted the messages
    /// they pointed at, by topic.
    pub bus_offset_resets: IntCounterVec,
    /// Audit index entries pruned for being older than `[bus.retention] audit_days`.
    pub audit_pruned: IntCounterVec,
    /// Create intents, by mapping and outcome (`logged`; `adopted_retry`: a retry found the
    /// record an earlier attempt made; `adopted_capture`: a captured record was recognised as
    /// another create's product).
    pub create_intents: IntCounterVec,
    /// Seconds a read-your-writes barrier over the state changelogs took, by outcome.
    pub barrier_seconds: HistogramVec,
    /// State-changelog messages the state follower applied to the projection, by origin
    /// (`other`: another instance's; `own`: this instance's, whose projection write had not
    /// happened or was lost in a crash).
    pub state_followed: IntCounterVec,

    /// Consumer lag in messages, by group, topic and partition.
    pub consumer_lag: IntGaugeVec,
    /// Seconds since a capture's checkpoint last advanced, by system, entity and mapping.
    pub checkpoint_age: GaugeVec,
    /// Records currently parked, by mapping.
    pub parked: IntGaugeVec,
    /// Couplings, by mapping.
    pub couplings: IntGaugeVec,
    /// Records waiting for a system that does not answer, by system.
    pub target_waiting: IntGaugeVec,
    /// When the records waiting for a system started to wait (Unix seconds; 0: none waits),
    /// by system.
    pub target_unavailable_since: IntGaugeVec,
    /// Records moved to the dead-letter topic, by mapping, stage and error class.
    pub dead_lettered: IntCounterVec,
    /// Events re-appended by `couplet replay`, by topic.
    pub replayed: IntCounterVec,
    /// Records of a mapping's full-sync jobs that have an outcome, by mapping (set by
    /// `couplet full-sync`).
    pub full_sync_done: IntGaugeVec,
    /// Records a full-sync job will process, by mapping (see `full_sync_done`).
    pub full_sync_total: IntGaugeVec,
    /// Always 1, labelled with the version.
    pub build_info: IntGaugeVec,
}

/// Error classes primed at start-up, so that "errors by class" has a series (at 0) before the
/// first failure. Other classes appear when they first occur.
pub const ERROR_CLASSES: &[&str] = &[
    "validation",
    "mapping",
    "lookup",
    "conflict",
    "not_found",
    "auth",
    "throttled",
    "unavailable",
    "malformed",
];

/// Outcomes of the transform stage (besides `command`, a write command issued).
pub const TRANSFORM_OUTCOMES: &[&str] = &[
    "command",
    "unchanged",
    "echo",
    "stale",
    "filtered",
    "parked",
    "failed",
];

/// Outcomes of the apply stage.
pub const APPLY_OUTCOMES: &[&str] = &[
    "created",
    "updated",
    "deleted",
    "coupled",
    "unchanged",
    "uncoupled",
    "failed",
];

fn counter(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.register(Box::new(c.clone()))
        .expect("metric registered once");
    c
}

fn gauge(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    r.register(Box::new(g.clone()))
        .expect("metric registered once");
    g
}

fn histogram(r: &Registry, name: &str, help: &str, labels: &[&str], b: Vec<f64>) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(b), labels)
        .expect("valid metric definition");
    r.register(Box::new(h.clone()))
        .expect("metric registered once");
    h
}

impl Metrics {
    fn new() -> Metrics {
        let r = Registry::new_custom(Some("couplet".into()), None).expect("valid prefix");
        let latency = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ];
        let e2e = vec![
            0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
        ];
        let retry_after = prometheus::CounterVec::new(
            Opts::new(
                "retry_after_wait_seconds_total",
                "Seconds paused on Retry-After.",
            ),
            &["system"],
        )
        .expect("valid metric definition");
        r.register(Box::new(retry_after.clone()))
            .expect("metric registered once");
        let checkpoint_age = GaugeVec::new(
            Opts::new(
                "checkpoint_age_seconds",
                "Seconds since the capture checkpoint advanced.",
            ),
            &["system", "entity", "mapping"],
        )
        .expect("valid metric definition");
        r.register(Box::new(checkpoint_age.clone()))
            .expect("metric registered once");
        Metrics {
            http_requests: counter(
                &r,
                "http_requests_total",
                "HTTP requests to external systems.",
                &["system", "operation", "status"],
            ),
            http_seconds: histogram(
                &r,
                "http_request_duration_seconds",
                "HTTP request latency.",
                &["system", "operation"],
                latency,
            ),
            http_throttled: counter(
                &r,
                "http_throttled_total",
                "429/503 answers that carried Retry-After.",
                &["system"],
            ),
            retry_after_seconds: retry_after,
            http_retries: counter(
                &r,
                "http_retries_total",
                "Requests retried after a transient fault.",
                &["system"],
            ),
            token_refreshes: counter(
                &r,
                "token_refreshes_total",
                "Access tokens fetched from Entra ID.",
                &["system"],
            ),
            captured: counter(
                &r,
                "events_captured_total",
                "Changes captured.",
                &["system", "entity", "mapping"],
            ),
            ledger_entries: counter(
                &r,
                "ledger_entries_read_total",
                "Ledger entries read to find records whose computed values moved (item inventory).",
                &["system", "entity"],
            ),
            records: counter(
                &r,
                "records_total",
                "Records through a stage, by outcome.",
                &["mapping", "stage", "outcome"],
            ),
            failures: counter(
                &r,
                "failures_total",
                "Failed records, by error class.",
                &["mapping", "stage", "class"],
            ),
            e2e_seconds: histogram(
                &r,
                "end_to_end_latency_seconds",
                "Seconds from the source's modified-on to the target write.",
                &["mapping", "direction"],
                e2e,
            ),
            produced: counter(&r, "bus_produced_total", "Messages appended.", &["topic"]),
            log_compacted: counter(
                &r,
                "log_compacted_messages_total",
                "Messages removed by the embedded log's compaction.",
                &["topic"],
            ),
            log_retention_deleted: counter(
                &r,
                "log_retention_deleted_messages_total",
                "Messages deleted by the embedded log's retention.",
                &["topic"],
            ),
            log_disk_bytes: gauge(
                &r,
                "log_disk_bytes",
                "Bytes the embedded log takes on disk, after the last cleaning pass.",
                &[],
            ),
            bus_offset_resets: counter(
                &r,
                "bus_offset_resets_total",
                "Consumer positions moved up to the log start (messages deleted by retention before they were read).",
                &["topic"],
            ),
            audit_pruned: counter(
                &r,
                "audit_pruned_entries_total",
                "Audit index entries pruned for their age.",
                &[],
            ),
            create_intents: counter(
                &r,
                "create_intents_total",
                "Create intents logged, and records found through them instead of created twice.",
                &["mapping", "outcome"],
            ),
            state_followed: counter(
                &r,
                "state_followed_total",
                "State-changelog messages the state follower applied to the projection, by origin.",
                &["origin"],
            ),
            barrier_seconds: histogram(
                &r,
                "state_barrier_seconds",
                "Seconds until the state changelogs were read back to a barrier.",
                &["outcome"],
                vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
                ],
            ),

            consumer_lag: gauge(
                &r,
                "consumer_lag_messages",
                "Messages not yet consumed.",
                &["group", "topic", "partition"],
            ),
            checkpoint_age,
            parked: gauge(
                &r,
                "parked_records",
                "Records waiting for a dependency.",
                &["mapping"],
            ),
            couplings: gauge(&r, "couplings", "Coupled record pairs.", &["mapping"]),
            target_waiting: gauge(
                &r,
                "target_waiting_records",
                "Records waiting for a system that does not answer (time-outs, 5xx, 429).",
                &["system"],
            ),
            target_unavailable_since: gauge(
                &r,
                "target_unavailable_since_seconds",
                "Since when records wait for the system (Unix time; 0: none waits).",
                &["system"],
            ),
            dead_lettered: counter(
                &r,
                "dead_lettered_total",
                "Records moved to the dead-letter topic.",
                &["mapping", "stage", "class"],
            ),
            replayed: counter(
                &r,
                "events_replayed_total",
                "Events re-appended by a replay.",
                &["topic"],
            ),
            full_sync_done: gauge(
                &r,
                "full_sync_records_done",
                "Records a full-sync job has processed.",
                &["mapping"],
            ),
            full_sync_total: gauge(
                &r,
                "full_sync_records_total",
                "Records a full-sync job will process.",
                &["mapping"],
            ),
            build_info: gauge(&r, "build_info", "Always 1.", &["version"]),
            registry: r,
        }
    }

    /// Creates the series of every known label set at 0 (counters, gauges and histograms of
    /// each mapping and system), so that dashboards and alerts see a series before the first
    /// event rather than "no data". Idempotent.
    pub fn prime(&self, catalogue: &crate::mapping::Catalogue, topics: &crate::bus::Topics) {
        self.build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for sys in ["dataverse", "bc"] {
            self.http_throttled.with_label_values(&[sys]);
            self.retry_after_seconds.with_label_values(&[sys]);
            self.http_retries.with_label_values(&[sys]);
            self.token_refreshes.with_label_values(&[sys]);
        }
        for t in [
            &topics.changes,
            &topics.commands,
            &topics.outcomes,
            &topics.dlq,
        ] {
            self.produced.with_label_values(&[t.as_str()]);
        }
        for origin in ["own", "other"] {
            self.state_followed.with_label_values(&[origin]);
        }
        for m in catalogue.ordered() {
            let name = m.name.as_str();
            self.captured
                .with_label_values(&["dataverse", &m.crm_entity, name]);
            self.captured
                .with_label_values(&["bc", &m.erp_entity, name]);
            for o in TRANSFORM_OUTCOMES {
                self.records.with_label_values(&[name, "transform", o]);
            }
            for o in APPLY_OUTCOMES {
                self.records.with_label_values(&[name, "apply", o]);
            }
            for stage in ["transform", "apply"] {
                for c in ERROR_CLASSES {
                    self.failures.with_label_values(&[name, stage, c]);
                    self.dead_lettered.with_label_values(&[name, stage, c]);
                }
            }
            for dir in ["to_crm", "to_erp"] {
                self.e2e_seconds.with_label_values(&[name, dir]);
            }
            self.parked.with_label_values(&[name]);
            self.couplings.with_label_values(&[name]);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let enc = TextEncoder::new();
        if enc.encode(&self.registry.gather(), &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static M: OnceLock<Metrics> = OnceLock::new();
    M.get_or_init(Metrics::new)
}
