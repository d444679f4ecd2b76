//! Wake-ups from accepted events to the F&O watermark polls, by entity set.
//!
//! Each poll subscribes once and waits on its [`Notify`] instead of sleeping out its whole
//! interval:
//!
//! ```ignore
//! let wake = wakes.subscribe("CustomersV3");
//! loop {
//!     poll_once().await?;
//!     tokio::select! {
//!         _ = tokio::time::sleep(interval) => {}
//!         _ = wake.notified() => {}
//!     }
//! }
//! ```
//!
//! A wake that comes while the poll is busy is kept (one permit, as
//! [`Notify::notify_one`] stores it), so the next wait returns at once and the change is not
//! missed; several wakes meanwhile coalesce into one. The poll stays the source of truth: a
//! lost event only delays a change to the next interval.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// The subscribers of each entity set. Cheap to clone; clones share the subscriptions.
#[derive(Debug, Clone, Default)]
pub struct Wakes {
    subscribers: Arc<Mutex<HashMap<String, Vec<Weak<Notify>>>>>,
}

impl Wakes {
    /// A new, empty set of subscriptions.
    pub fn new() -> Wakes {
        Wakes::default()
    }

    /// A [`Notify`] woken by every accepted event for `entity_set` (e.g. `CustomersV3`).
    /// Each call is a subscription of its own (several polls of one set each get woken); it
    /// ends when the returned handle is dropped.
    pub fn subscribe(&self, entity_set: &str) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        self.subscribers
            .lock()
            .entry(entity_set.to_string())
            .or_default()
            .push(Arc::downgrade(&notify));
        notify
    }

    /// Wakes every live subscriber of `entity_set`; returns how many.
    pub fn wake(&self, entity_set: &str) -> usize {
        let mut subs = self.subscribers.lock();
        let Some(list) = subs.get_mut(entity_set) else {
            return 0;
        };
        list.retain(|w| w.strong_count() > 0);
        let mut woken = 0;
        for notify in list.iter().filter_map(Weak::upgrade) {
            notify.notify_one();
            woken += 1;
        }
        if list.is_empty() {
            subs.remove(entity_set);
        }
        woken
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn a_wake_reaches_each_subscriber_of_its_set_only() {
        let wakes = Wakes::new();
        let a = wakes.subscribe("CustomersV3");
        let b = wakes.subscribe("CustomersV3");
        let other = wakes.subscribe("ReleasedProductsV2");
        assert_eq!(wakes.wake("CustomersV3"), 2);
        tokio::time::timeout(Duration::from_secs(1), a.notified())
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(1), b.notified())
            .await
            .unwrap();
        assert!(other.notified().now_or_never().is_none());
        assert_eq!(wakes.wake("SalesOrderHeadersV2"), 0);
    }

    #[tokio::test]
    async fn wakes_while_busy_are_kept_once_and_dropped_subscribers_are_forgotten() {
        let wakes = Wakes::new();
        let a = wakes.subscribe("CustomersV3");
        wakes.wake("CustomersV3");
        wakes.wake("CustomersV3");
        assert!(a.notified().now_or_never().is_some());
        assert!(a.notified().now_or_never().is_none(), "coalesced into one");
        drop(a);
        assert_eq!(wakes.wake("CustomersV3"), 0);
        assert!(wakes.subscribers.lock().is_empty());
    }
}
