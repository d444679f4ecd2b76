//! The third user-based service-protection limit of F&O: the combined execution time of a
//! user's requests over the sliding window (default 1200 s per 300 s;
//! `data-entities/service-protection-api-limits.md`, "Execution time"). Once a user's
//! requests of the preceding window took longer in all, the next ones get 429.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Adds the time from its creation to its drop to a user's execution time.
pub(crate) struct Timing<'a> {
    pub exec: &'a ExecutionTime,
    pub user: String,
    pub started: Instant,
}

impl Drop for Timing<'_> {
    fn drop(&mut self) {
        self.exec.record(&self.user, self.started.elapsed());
    }
}

/// Execution time spent per user, over a sliding window.
#[derive(Debug)]
pub(crate) struct ExecutionTime {
    limit: Option<Duration>,
    window: Duration,
    /// The `Retry-After` of its 429.
    pub retry_after: Duration,
    spent: Mutex<HashMap<String, VecDeque<(Instant, Duration)>>>,
}

impl ExecutionTime {
    pub fn new(limit: Option<Duration>, window: Duration, retry_after: Duration) -> Self {
        ExecutionTime {
            limit,
            window,
            retry_after,
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// The limit and window when `user`'s requests of the window took longer than the limit.
    pub fn exceeded(&self, user: &str) -> Option<(Duration, Duration)> {
        let limit = self.limit?;
        let now = Instant::now();
        let mut spent = self.spent.lock();
        let list = spent.entry(user.to_string()).or_default();
        while list
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= self.window)
        {
            list.pop_front();
        }
        let total: Duration = list.iter().map(|(_, d)| *d).sum();
        (total > limit).then_some((limit, self.window))
    }

    /// Adds a finished request's execution time.
    pub fn record(&self, user: &str, took: Duration) {
        if self.limit.is_some() {
            self.spent
                .lock()
                .entry(user.to_string())
                .or_default()
                .push_back((Instant::now(), took));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_adds_up_per_user_within_the_window() {
        let e = ExecutionTime::new(
            Some(Duration::from_secs(2)),
            Duration::from_secs(300),
            Duration::from_secs(1),
        );
        e.record("u", Duration::from_secs(1));
        assert_eq!(e.exceeded("u"), None);
        e.record("u", Duration::from_millis(1500));
        assert_eq!(
            e.exceeded("u"),
            Some((Duration::from_secs(2), Duration::from_secs(300)))
        );
        assert_eq!(e.exceeded("other"), None);
        let short = ExecutionTime::new(
            Some(Duration::ZERO),
            Duration::from_millis(1),
            Duration::from_secs(1),
        );
        short.record("u", Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(short.exceeded("u"), None, "outside the window");
        let off = ExecutionTime::new(None, Duration::from_secs(300), Duration::from_secs(1));
        off.record("u", Duration::from_secs(9999));
        assert_eq!(off.exceeded("u"), None);
    }
}
