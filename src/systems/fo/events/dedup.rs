//! Recognises duplicate and stale business-event deliveries.
//!
//! F&O delivers at least once: a retried delivery, the error log's **Resend**, or a second
//! endpoint path can bring the same event again, and deliveries can overtake each other (a
//! failed one is retried a second later, behind newer ones). Microsoft's advice is to use
//! `ControlNumber` together with `EventId` to detect both (`external-apis.md` §3.6):
//!
//! - **Duplicate**: an `EventId` seen before. Resend sends the very same body (same `EventId`,
//!   same `ControlNumber`), so the `EventId` alone identifies the instance; a repeated
//!   `EventId` with another `ControlNumber` is still the same instance and still a duplicate.
//! - **Stale**: a new `EventId` for a record (legal entity, entity set, key) whose last applied
//!   event had a higher (or equal) `ControlNumber`: a newer change of that record was already
//!   announced, so this one says nothing new. Control numbers have gaps, so only their order
//!   is used, never their distance.
//!
//! Memory is bounded: at most `capacity` event ids and `capacity` records are remembered, the
//! oldest forgotten first (records by last update). What eviction loses is only precision: a
//! forgotten event redelivered counts as fresh and wakes the poll once more, and a forgotten
//! record accepts an older event. Nothing is lost, because the watermark poll, not the event,
//! is the source of truth: an extra wake costs one early poll.

use std::collections::{BTreeMap, HashMap, VecDeque};

/// A record an event concerns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordRef {
    /// The lower-case `dataAreaId`.
    pub legal_entity: String,
    /// The entity set.
    pub entity_set: &'static str,
    /// The record's key value within its legal entity.
    pub key: String,
}

/// What one delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A new event, newer than anything applied to its record: act on it.
    Fresh,
    /// An event id seen before (delivered again).
    Duplicate,
    /// A new event for a record that already had an event with this or a higher control
    /// number applied.
    Stale {
        /// The highest control number applied to the record.
        applied: u64,
    },
}

/// The de-duplication memory (not thread-safe: keep it behind a lock).
#[derive(Debug)]
pub struct Dedup {
    capacity: usize,
    /// Event ids seen, oldest first, and their control numbers.
    ids: HashMap<String, u64>,
    id_order: VecDeque<String>,
    /// Per record: the highest control number applied and the tick of its last update.
    records: HashMap<RecordRef, (u64, u64)>,
    /// Records by the tick of their last update, oldest first.
    record_order: BTreeMap<u64, RecordRef>,
    tick: u64,
}

impl Dedup {
    /// Remembers at most `capacity` event ids and `capacity` records (at least 1 of each).
    pub fn new(capacity: usize) -> Dedup {
        Dedup {
            capacity: capacity.max(1),
            ids: HashMap::new(),
            id_order: VecDeque::new(),
            records: HashMap::new(),
            record_order: BTreeMap::new(),
            tick: 0,
        }
    }

    /// Judges one delivery and remembers it. `record` is `None` for an event not tied to a
    /// record; such an event can be a duplicate but never stale.
    pub fn observe(&mut self, event_id: &str, control: u64, record: Option<RecordRef>) -> Verdict {
        if self.ids.contains_key(event_id) {
            return Verdict::Duplicate;
        }
        self.remember_id(event_id, control);
        let Some(record) = record else {
            return Verdict::Fresh;
        };
        if let Some(&(applied, _)) = self.records.get(&record)
            && control <= applied
        {
            return Verdict::Stale { applied };
        }
        self.apply(record, control);
        Verdict::Fresh
    }

    /// How many event ids and records are remembered now.
    pub fn len(&self) -> (usize, usize) {
        (self.ids.len(), self.records.len())
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.records.is_empty()
    }

    /// The highest control number applied to `record`, if remembered.
    pub fn applied(&self, record: &RecordRef) -> Option<u64> {
        self.records.get(record).map(|&(c, _)| c)
    }

    fn remember_id(&mut self, event_id: &str, control: u64) {
        while self.ids.len() >= self.capacity {
            match self.id_order.pop_front() {
                Some(old) => {
                    self.ids.remove(&old);
                }
                None => break,
            }
        }
        self.ids.insert(event_id.to_string(), control);
        self.id_order.push_back(event_id.to_string());
    }

    fn apply(&mut self, record: RecordRef, control: u64) {
        self.tick += 1;
        if let Some((_, old_tick)) = self.records.remove(&record) {
            self.record_order.remove(&old_tick);
        }
        while self.records.len() >= self.capacity {
            match self.record_order.pop_first() {
                Some((_, old)) => {
                    self.records.remove(&old);
                }
                None => break,
            }
        }
        self.records.insert(record.clone(), (control, self.tick));
        self.record_order.insert(self.tick, record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str) -> Option<RecordRef> {
        Some(RecordRef {
            legal_entity: "usmf".into(),
            entity_set: "CustomersV3",
            key: key.into(),
        })
    }

    #[test]
    fn the_same_event_id_again_is_a_duplicate() {
        let mut d = Dedup::new(10);
        assert_eq!(d.observe("A", 100, rec("C1")), Verdict::Fresh);
        assert_eq!(d.observe("A", 100, rec("C1")), Verdict::Duplicate);
        // Same instance with another control number: still the same event.
        assert_eq!(d.observe("A", 105, rec("C1")), Verdict::Duplicate);
        assert_eq!(d.observe("N", 7, None), Verdict::Fresh);
        assert_eq!(d.observe("N", 7, None), Verdict::Duplicate);
    }

    #[test]
    fn an_older_event_for_the_same_record_is_stale_with_gapped_numbers() {
        let mut d = Dedup::new(10);
        assert_eq!(d.observe("B", 103, rec("C1")), Verdict::Fresh);
        // Overtaken delivery: a lower number, a new id.
        assert_eq!(
            d.observe("A", 100, rec("C1")),
            Verdict::Stale { applied: 103 }
        );
        assert_eq!(d.observe("A", 100, rec("C1")), Verdict::Duplicate);
        // Another record is independent, whatever its number.
        assert_eq!(d.observe("C", 101, rec("C2")), Verdict::Fresh);
        // Gaps are fine: only the order matters.
        assert_eq!(d.observe("D", 250, rec("C1")), Verdict::Fresh);
        assert_eq!(d.applied(&rec("C1").unwrap()), Some(250));
        // Another legal entity or entity set with the same key is another record.
        let other = RecordRef {
            legal_entity: "demf".into(),
            entity_set: "CustomersV3",
            key: "C1".into(),
        };
        assert_eq!(d.observe("E", 1, Some(other)), Verdict::Fresh);
        let product = RecordRef {
            legal_entity: "usmf".into(),
            entity_set: "ReleasedProductsV2",
            key: "C1".into(),
        };
        assert_eq!(d.observe("F", 2, Some(product)), Verdict::Fresh);
    }

    #[test]
    fn an_equal_control_number_with_another_id_is_stale() {
        let mut d = Dedup::new(10);
        assert_eq!(d.observe("A", 100, rec("C1")), Verdict::Fresh);
        assert_eq!(
            d.observe("B", 100, rec("C1")),
            Verdict::Stale { applied: 100 }
        );
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_is_forgotten_first() {
        let mut d = Dedup::new(3);
        for (i, id) in ["A", "B", "C", "D"].into_iter().enumerate() {
            let key = format!("C{i}");
            assert_eq!(d.observe(id, 10 + i as u64, rec(&key)), Verdict::Fresh);
        }
        assert_eq!(d.len(), (3, 3));
        // "A" and record C0 were forgotten: A counts as fresh again (one extra wake).
        assert_eq!(d.applied(&rec("C0").unwrap()), None);
        assert_eq!(d.observe("A", 10, rec("C0")), Verdict::Fresh);
        // The newer ones are still known.
        assert_eq!(d.observe("D", 13, rec("C3")), Verdict::Duplicate);
        assert_eq!(d.len(), (3, 3));
    }

    #[test]
    fn a_record_updated_recently_survives_eviction() {
        let mut d = Dedup::new(2);
        assert_eq!(d.observe("A", 1, rec("C1")), Verdict::Fresh);
        assert_eq!(d.observe("B", 2, rec("C2")), Verdict::Fresh);
        assert_eq!(d.observe("C", 3, rec("C1")), Verdict::Fresh);
        // C2 is now the least recently updated record and goes first.
        assert_eq!(d.observe("D", 4, rec("C3")), Verdict::Fresh);
        assert_eq!(d.applied(&rec("C1").unwrap()), Some(3));
        assert_eq!(d.applied(&rec("C2").unwrap()), None);
        assert_eq!(d.len(), (2, 2));
        assert!(!d.is_empty());
        assert!(Dedup::new(0).is_empty());
    }
}
