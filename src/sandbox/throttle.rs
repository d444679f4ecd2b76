//! Per-caller service-protection limits: a sliding request window and a concurrency cap.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::config::RateLimit;

/// Which limit a request ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Requests {
        limit: u32,
        window: Duration,
        retry_after: Duration,
    },
    Concurrency {
        limit: u32,
        retry_after: Duration,
    },
}

#[derive(Debug, Default)]
struct Caller {
    recent: VecDeque<Instant>,
    in_flight: u32,
}

/// The limiter of one system.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: Option<RateLimit>,
    callers: Arc<Mutex<HashMap<String, Caller>>>,
}

/// Held while a request is in flight; releases its concurrency slot on drop.
pub(crate) struct Permit {
    caller: String,
    callers: Arc<Mutex<HashMap<String, Caller>>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(c) = self.callers.lock().get_mut(&self.caller) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
    }
}

impl Limiter {
    pub fn new(limit: Option<RateLimit>) -> Self {
        Limiter {
            limit,
            callers: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Admits one request of `caller`, or says which limit it exceeded.
    pub fn admit(&self, caller: &str) -> Result<Option<Permit>, Exceeded> {
        let Some(limit) = self.limit else {
            return Ok(None);
        };
        let retry_after = limit.retry_after.max(Duration::from_secs(1));
        let now = Instant::now();
        let mut callers = self.callers.lock();
        let c = callers.entry(caller.to_string()).or_default();
        while let Some(&first) = c.recent.front() {
            if now.duration_since(first) >= limit.window {
                c.recent.pop_front();
            } else {
                break;
            }
        }
        if c.in_flight >= limit.concurrent {
            return Err(Exceeded::Concurrency {
                limit: limit.concurrent,
                retry_after,
            });
        }
        if c.recent.len() >= limit.requests as usize {
            return Err(Exceeded::Requests {
                limit: limit.requests,
                window: limit.window,
                retry_after,
            });
        }
        c.recent.push_back(now);
        c.in_flight += 1;
        Ok(Some(Permit {
            caller: caller.to_string(),
            callers: self.callers.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_concurrency() {
        let l = Limiter::new(Some(RateLimit {
            requests: 3,
            window: Duration::from_secs(60),
            concurrent: 2,
            retry_after: Duration::from_secs(2),
        }));
        let a = l.admit("u").unwrap();
        let b = l.admit("u").unwrap();
        assert!(matches!(l.admit("u"), Err(Exceeded::Concurrency { .. })));
        assert!(l.admit("other").is_ok());
        drop(a);
        drop(b);
        let _c = l.admit("u").unwrap();
        assert!(matches!(l.admit("u"), Err(Exceeded::Requests { .. })));
        assert!(Limiter::new(None).admit("u").unwrap().is_none());
    }
}
