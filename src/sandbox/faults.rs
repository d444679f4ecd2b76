//! Injected faults and request counters of one emulated system.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use super::config::{Fault, FaultKind, Lost, Requests, SandboxStats};

/// What a pending fault does to the current request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    Throttle(Duration),
    Unavailable,
}

/// What a pending fault does around the handling of one request (served by the
/// [`spoil`](super::spoil) layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spoiler {
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    Timeout(Duration),
    Reset(Lost),
    Slow(Duration),
    Truncated,
    Malformed,
}

impl Spoiler {
    pub fn kind(self) -> FaultKind {
        match self {
            Spoiler::Status { .. } => FaultKind::ServerError,
            Spoiler::Timeout(_) => FaultKind::Timeout,
            Spoiler::Reset(Lost::Request) => FaultKind::ResetRequest,
            Spoiler::Reset(Lost::Response) => FaultKind::ResetResponse,
            Spoiler::Slow(_) => FaultKind::Slow,
            Spoiler::Truncated => FaultKind::Truncated,
            Spoiler::Malformed => FaultKind::MalformedBody,
        }
    }
}

#[derive(Debug, Default)]
struct Pending {
    throttle: u32,
    retry_after: Duration,
    unavailable: u32,
    malformed: u32,
    /// In order of injection: what, how many more times, on which requests.
    spoilers: VecDeque<(Spoiler, u32, Requests)>,
}

/// Pending faults plus counters, one per system.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Mutex<Pending>,
    requests: AtomicU64,
    throttled: AtomicU64,
    writes: AtomicU64,
    served: [AtomicU64; FaultKind::ALL.len()],
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
            Fault::ServerError {
                count,
                status,
                retry_after,
                on,
            } => p.spoilers.push_back((
                Spoiler::Status {
                    status,
                    retry_after,
                },
                count,
                on,
            )),
            Fault::Timeout { count, hold, on } => {
                p.spoilers.push_back((Spoiler::Timeout(hold), count, on))
            }
            Fault::Reset { count, lost, on } => {
                p.spoilers.push_back((Spoiler::Reset(lost), count, on))
            }
            Fault::Slow { count, delay, on } => {
                p.spoilers.push_back((Spoiler::Slow(delay), count, on))
            }
            Fault::Truncated { count, on } => p.spoilers.push_back((Spoiler::Truncated, count, on)),
            Fault::MalformedBody { count, on } => {
                p.spoilers.push_back((Spoiler::Malformed, count, on))
            }
        }
    }

    /// Takes the first pending spoiler that hits a request of kind `class`, if any (not counted
    /// yet: the layer counts it when it serves it).
    pub fn take_spoiler(&self, class: Requests) -> Option<Spoiler> {
        let mut p = self.pending.lock();
        let i = p
            .spoilers
            .iter()
            .position(|(_, n, on)| *n > 0 && (*on == Requests::Any || *on == class))?;
        let entry = &mut p.spoilers[i];
        entry.1 -= 1;
        let spoiler = entry.0;
        if entry.1 == 0 {
            p.spoilers.remove(i);
        }
        Some(spoiler)
    }

    /// Puts back a spoiler taken for a request it could not hit (an answer without a body).
    pub fn put_back(&self, spoiler: Spoiler, class: Requests) {
        self.pending.lock().spoilers.push_front((spoiler, 1, class));
    }

    /// Faults of each kind not served yet.
    pub fn pending_count(&self) -> u64 {
        let p = self.pending.lock();
        u64::from(p.throttle)
            + u64::from(p.unavailable)
            + u64::from(p.malformed)
            + p.spoilers
                .iter()
                .map(|(_, n, _)| u64::from(*n))
                .sum::<u64>()
    }

    /// Counts one fault of `kind` served.
    pub fn count_served(&self, kind: FaultKind) {
        self.served[kind.slot()].fetch_add(1, Ordering::Relaxed);
    }

    /// Faults served so far, by kind (every kind, zeros included).
    pub fn served(&self) -> Vec<(FaultKind, u64)> {
        FaultKind::ALL
            .iter()
            .map(|k| (*k, self.served[k.slot()].load(Ordering::Relaxed)))
            .collect()
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
            self.count_served(FaultKind::Throttle);
            return Some(Injected::Throttle(p.retry_after));
        }
        if p.unavailable > 0 {
            p.unavailable -= 1;
            self.count_served(FaultKind::Unavailable);
            return Some(Injected::Unavailable);
        }
        None
    }

    /// Consumes a malformed-page fault for the current collection GET, if one is pending.
    pub fn take_malformed(&self) -> bool {
        let mut p = self.pending.lock();
        if p.malformed > 0 {
            p.malformed -= 1;
            self.count_served(FaultKind::MalformedPage);
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
        let served: Vec<u64> = f.served().into_iter().map(|(_, n)| n).collect();
        assert_eq!(&served[..3], &[1, 1, 1]);
    }

    #[test]
    fn spoilers_hit_only_their_requests() {
        let f = Faults::default();
        f.inject(Fault::Truncated {
            count: 2,
            on: Requests::Write,
        });
        f.inject(Fault::Slow {
            count: 1,
            delay: Duration::from_millis(5),
            on: Requests::Any,
        });
        assert_eq!(f.pending_count(), 3);
        assert_eq!(
            f.take_spoiler(Requests::Collection),
            Some(Spoiler::Slow(Duration::from_millis(5)))
        );
        assert_eq!(f.take_spoiler(Requests::Single), None);
        assert_eq!(f.take_spoiler(Requests::Write), Some(Spoiler::Truncated));
        f.put_back(Spoiler::Truncated, Requests::Write);
        assert_eq!(f.take_spoiler(Requests::Write), Some(Spoiler::Truncated));
        assert_eq!(f.take_spoiler(Requests::Write), Some(Spoiler::Truncated));
        assert_eq!(f.take_spoiler(Requests::Write), None);
        assert_eq!(f.pending_count(), 0);
        f.count_served(FaultKind::Truncated);
        assert!(f.served().contains(&(FaultKind::Truncated, 1)));
    }
}
