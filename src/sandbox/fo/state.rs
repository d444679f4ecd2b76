//! The F&O emulator's state: its tables with the number sequences, faults and counters, the
//! service-protection limiter, the pending cold start, and the Business Events publisher.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use super::FIRST_RECID;
use super::events::Publisher;
use super::exec_time::ExecutionTime;
use crate::sandbox::config::FoConfig;
use crate::sandbox::faults::Faults;
use crate::sandbox::table::Store;
use crate::sandbox::throttle::Limiter;

/// Number sequences: record ids, and the next number of each (sequence, company).
#[derive(Debug, Clone)]
pub(crate) struct Numbers {
    next_recid: u64,
    next: HashMap<(&'static str, String), u64>,
}

impl Default for Numbers {
    fn default() -> Self {
        Numbers {
            next_recid: FIRST_RECID,
            next: HashMap::new(),
        }
    }
}

impl Numbers {
    /// A fresh record id.
    pub fn recid(&mut self) -> u64 {
        let id = self.next_recid;
        self.next_recid += 1;
        id
    }

    /// Makes `sequence` in `company` continue from `n` (at least).
    pub fn start_at(&mut self, sequence: &'static str, company: &str, n: u64) {
        let e = self
            .next
            .entry((sequence, company.to_string()))
            .or_insert(1);
        *e = (*e).max(n);
    }

    /// The next value of `sequence` in `company`, starting at 1.
    pub fn next(&mut self, sequence: &'static str, company: &str) -> u64 {
        let n = self
            .next
            .entry((sequence, company.to_string()))
            .or_insert(1);
        let v = *n;
        *n += 1;
        v
    }
}

/// The tables and number sequences, locked together.
#[derive(Debug, Default, Clone)]
pub(crate) struct Data {
    pub store: Store,
    pub numbers: Numbers,
}

/// The F&O emulator's state.
#[derive(Debug)]
pub(crate) struct FoService {
    pub data: Mutex<Data>,
    pub faults: Faults,
    pub limiter: Limiter,
    pub execution: ExecutionTime,
    pub page_size: usize,
    pub events: Publisher,
    cold_start: Duration,
    warmed: AtomicBool,
}

impl FoService {
    pub fn new(cfg: &FoConfig, data: Data) -> Self {
        FoService {
            data: Mutex::new(data),
            faults: Faults::default(),
            limiter: Limiter::new(cfg.limits),
            execution: ExecutionTime::new(
                cfg.execution_limit,
                cfg.limits.map_or(Duration::from_secs(300), |l| l.window),
                cfg.limits.map_or(Duration::from_secs(5), |l| l.retry_after),
            ),
            page_size: cfg.page_size.clamp(1, super::MAX_PAGE),
            events: Publisher::new(cfg.events.clone()),
            cold_start: cfg.cold_start,
            warmed: AtomicBool::new(false),
        }
    }

    /// The delay the current request waits: the cold start for the first one, else none.
    pub fn take_cold_start(&self) -> Option<Duration> {
        let first = !self.warmed.swap(true, Ordering::SeqCst);
        (first && !self.cold_start.is_zero()).then_some(self.cold_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_request_is_cold() {
        let cfg = FoConfig {
            cold_start: Duration::from_millis(5),
            ..Default::default()
        };
        let s = FoService::new(&cfg, Data::default());
        assert_eq!(s.take_cold_start(), Some(Duration::from_millis(5)));
        assert_eq!(s.take_cold_start(), None);
        let warm = FoService::new(&FoConfig::default(), Data::default());
        assert_eq!(warm.take_cold_start(), None);
    }

    #[test]
    fn sequences_count_per_company() {
        let mut n = Numbers::default();
        assert_eq!(n.recid(), FIRST_RECID);
        assert_eq!(n.recid(), FIRST_RECID + 1);
        assert_eq!(n.next("SalesId", "usmf"), 1);
        assert_eq!(n.next("SalesId", "usmf"), 2);
        assert_eq!(n.next("SalesId", "usrt"), 1);
    }
}
