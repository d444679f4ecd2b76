//! Records waiting for a target that does not answer (a time-out, a refused connection, a
//! 5xx, a 429 past the client's own retries): back-pressure, not failures. The apply stage
//! hands such a write back to the consumer loop, which waits (backing off, the partition
//! paused, nothing after it committed) and tries it again until the system answers; the
//! errors list stays for what a person must fix. Here: which systems are being waited for,
//! since when and by how many records, for the metrics, the logs and the running instance's
//! `/status` (which `couplet status` reads).
//!
//! A leaf module (it knows neither the apply stage nor the systems' clients), so the endpoint
//! serving it does not depend on the stages: the apply stage feeds it, the engine names the
//! systems of its pair ([`watch`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;

use crate::metrics::metrics;

/// One system being waited for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// The system's name.
    pub system: String,
    /// When the first record still waiting started to wait.
    pub since: DateTime<Utc>,
    /// The records waiting (`system/entity/id` of their sources).
    pub records: usize,
    /// The class of the last fault: `throttled`, `unavailable` or `malformed`.
    pub class: String,
    /// The last fault, in words.
    pub last_error: String,
}

#[derive(Default)]
struct Host {
    since: Option<DateTime<Utc>>,
    records: BTreeSet<String>,
    class: String,
    last_error: String,
}

fn hosts() -> &'static Mutex<BTreeMap<String, Host>> {
    static HOSTS: OnceLock<Mutex<BTreeMap<String, Host>>> = OnceLock::new();
    HOSTS.get_or_init(Default::default)
}

fn publish(system: &str, h: &Host) {
    let m = metrics();
    m.target_waiting
        .with_label_values(&[system])
        .set(h.records.len() as i64);
    m.target_unavailable_since
        .with_label_values(&[system])
        .set(h.since.map(|t| t.timestamp()).unwrap_or(0));
}

/// `system` is one the engine writes to: listed (as answering while no record waits for it)
/// from now on. Publishes its metrics at zero.
pub fn watch(system: &str) {
    let mut all = hosts().lock();
    let h = all.entry(system.to_string()).or_default();
    publish(system, h);
}

/// `record` waits for `system`, which failed with `error` of class `class` (`throttled`,
/// `unavailable`, `malformed`); returns since when the system has been waited for.
pub fn wait(system: &str, record: &str, class: &str, error: &str) -> DateTime<Utc> {
    let mut all = hosts().lock();
    let h = all.entry(system.to_string()).or_default();
    let since = *h.since.get_or_insert_with(Utc::now);
    h.records.insert(record.to_string());
    h.class = class.to_string();
    h.last_error = error.to_string();
    publish(system, h);
    since
}

/// `record` no longer waits for `system` (its write got an answer); the system is no longer
/// waited for once no record does.
pub fn done(system: &str, record: &str) {
    let mut all = hosts().lock();
    if let Some(h) = all.get_mut(system)
        && h.records.remove(record)
    {
        if h.records.is_empty() {
            h.since = None;
            tracing::info!(system, "The system answers again; no record waits for it.");
        }
        publish(system, h);
    }
}

/// The systems waited for now.
pub fn waiting() -> Vec<Waiting> {
    hosts()
        .lock()
        .iter()
        .filter_map(|(system, h)| {
            Some(Waiting {
                system: system.clone(),
                since: h.since?,
                records: h.records.len(),
                class: h.class.clone(),
                last_error: h.last_error.clone(),
            })
        })
        .collect()
}

/// Every system watched or waited for, by name.
pub fn systems() -> Vec<String> {
    hosts().lock().keys().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_is_waited_for_while_a_record_waits() {
        watch("waits-test");
        assert!(systems().contains(&"waits-test".to_string()));
        assert!(!waiting().iter().any(|w| w.system == "waits-test"));
        let since = wait(
            "waits-test",
            "dataverse/accounts/a",
            "unavailable",
            "bc create: unavailable",
        );
        assert_eq!(
            wait("waits-test", "dataverse/accounts/b", "throttled", "again"),
            since
        );
        let w = waiting()
            .into_iter()
            .find(|w| w.system == "waits-test")
            .unwrap();
        assert_eq!(
            (w.records, w.class.as_str(), w.last_error.as_str()),
            (2, "throttled", "again")
        );
        done("waits-test", "dataverse/accounts/a");
        assert!(waiting().iter().any(|w| w.system == "waits-test"));
        done("waits-test", "dataverse/accounts/b");
        assert!(!waiting().iter().any(|w| w.system == "waits-test"));
    }
}
