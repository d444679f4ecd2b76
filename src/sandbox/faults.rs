//! Injected faults and request counters of one emulated system.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use super::config::{Fault, SandboxStats};

/// What a pending fault does to the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Throttle(Duration),
    Unavailable,
}

#[derive(Debug, Default)]
struct Pending {
    throttle: u32,
    retry_after: Duration,
    unavailable: u32,
    malformed: u32,
}

/// Pending faults plus counters, one per system.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Mutex<Pending>,
    requests: AtomicU64,
    throttled: AtomicU64,
    writes: AtomicU64,
}

impl Faults {
    /// Adds a fault to the pending ones.
    pub fn inject(&self, fault: Fault) {
        let mut p = self.pending.lock();
        match fault {
            Fault::Throttle { count, retry_after } => {
                p.throttle += count;
                p.retry_after = retry_after;
            }
            Fault::Unavailable { count } => p.unavailable += count,
            Fault::MalformedPage { count } => p.malformed += count,
        }
    }

    /// Drops every pending fault (the system answers normally again).
    pub fn clear(&self) {
        *self.pending.lock() = Default::default();
    }

    /// Consumes a throttle or unavailable fault for the current request, if one is pending.
    pub fn take_request_fault(&self) -> Option<Injected> {
        let mut p = self.pending.lock();
        if p.throttle > 0 {
            p.throttle -= 1;
            return Some(Injected::Throttle(p.retry_after));
        }
        if p.unavailable > 0 {
            p.unavailable -= 1;
            return Some(Injected::Unavailable);
        }
        None
    }

    /// Consumes a malformed-page fault for the current collection GET, if one is pending.
    pub fn take_malformed(&self) -> bool {
        let mut p = self.pending.lock();
        if p.malformed > 0 {
            p.malformed -= 1;
            true
        } else {
            false
        }
    }

    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stats(&self) -> SandboxStats {
        SandboxStats {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order() {
        let f = Faults::default();
        f.inject(Fault::Throttle {
            count: 1,
            retry_after: Duration::from_secs(2),
        });
        f.inject(Fault::Unavailable { count: 1 });
        f.inject(Fault::MalformedPage { count: 1 });
        assert_eq!(
            f.take_request_fault(),
            Some(Injected::Throttle(Duration::from_secs(2)))
        );
        assert_eq!(f.take_request_fault(), Some(Injected::Unavailable));
        assert_eq!(f.take_request_fault(), None);
        assert!(f.take_malformed());
        assert!(!f.take_malformed());
    }
}
