//! The `couplet` binary and the files shipped beside it: `couple` / `uncouple`, `sync-now`,
//! `mappings`, `--log-format json`, the demo's lead-to-cash story, the Grafana dashboards
//! against a real Prometheus, the compose stack, and the operator console in headless Chromium.
//!
//! One test binary, so the library and librdkafka are linked once for all of them. Each module
//! is a former `tests/<name>.rs`: run one with `cargo test --test cli <name>::`
//! (e.g. `cargo test --test cli coupling::`).

mod cli_support;
#[path = "../common/mod.rs"]
mod common;

mod bad_config;
mod broken_pipe;
mod chaos_short;
mod compose_stack;
mod console_browser;
mod coupling;
mod credentials;
mod credentials_certificate;
mod dashboards_prometheus;
mod demo_lead_to_cash;
mod log_format_json;
mod mappings_validate;
mod reconcile;
mod status_waits;
mod sync_now;
