//! Per-host pauses: a `Retry-After` from one response holds back every request to that host.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

/// A shared map `host:port` → paused-until. Cheap to clone; clones share the map.
#[derive(Debug, Clone, Default)]
pub struct HostGate {
    paused: Arc<Mutex<HashMap<String, Instant>>>,
}

impl HostGate {
    /// An empty gate of its own (tests; normally use [`HostGate::global`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide gate, shared by every client so a host is paused for all of them.
    pub fn global() -> HostGate {
        static GATE: OnceLock<HostGate> = OnceLock::new();
        GATE.get_or_init(HostGate::new).clone()
    }

    /// The gate key of a URL: `host:port`.
    pub fn key(url: &url::Url) -> String {
        format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        )
    }

    /// Waits until `key` is open; returns how long it waited.
    pub async fn wait(&self, key: &str) -> Duration {
        let start = Instant::now();
        let mut waited = false;
        loop {
            let until = self.paused.lock().get(key).copied();
            match until {
                Some(t) if t > Instant::now() => {
                    waited = true;
                    tokio::time::sleep_until(t).await;
                }
                _ if waited => return start.elapsed(),
                _ => return Duration::ZERO,
            }
        }
    }

    /// Pauses `key` for `duration` from now (never shortens an existing pause).
    pub fn pause(&self, key: &str, duration: Duration) {
        let until = Instant::now() + duration;
        let mut map = self.paused.lock();
        map.retain(|_, t| *t > Instant::now());
        let entry = map.entry(key.to_string()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// How much longer `key` stays paused, if it is.
    pub fn paused_for(&self, key: &str) -> Option<Duration> {
        let until = self.paused.lock().get(key).copied()?;
        let now = Instant::now();
        (until > now).then(|| until - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pause_holds_every_waiter() {
        let gate = HostGate::new();
        gate.pause("h:443", Duration::from_millis(150));
        gate.pause("h:443", Duration::from_millis(10));
        assert!(gate.paused_for("h:443").is_some());
        let (a, b) = tokio::join!(gate.wait("h:443"), gate.wait("h:443"));
        assert!(a >= Duration::from_millis(140) && b >= Duration::from_millis(140));
        assert_eq!(gate.wait("other:443").await, Duration::ZERO);
        let url = url::Url::parse("https://org.crm.dynamics.com/api").expect("url");
        assert_eq!(HostGate::key(&url), "org.crm.dynamics.com:443");
    }
}
