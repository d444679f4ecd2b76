//! In-process consumer-group membership and partition assignment.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

/// A topic and one of its partitions.
pub(super) type TopicPartition = (String, u32);

/// Every group of this process.
#[derive(Default)]
pub(super) struct Groups {
    groups: Mutex<HashMap<String, Group>>,
    next_member: AtomicU64,
}

#[derive(Default)]
struct Group {
    /// Member id (join order) → the topics it reads, with their partition counts.
    members: BTreeMap<u64, Vec<(String, u32)>>,
    /// Bumped on every membership change.
    generation: u64,
    assignment: HashMap<u64, Vec<TopicPartition>>,
}

impl Group {
    /// Sorted members; every (topic, partition), in order, goes to the next member (cyclic)
    /// among those reading that topic.
    fn rebalance(&mut self) {
        self.generation += 1;
        let mut all: BTreeSet<TopicPartition> = BTreeSet::new();
        for topics in self.members.values() {
            for (t, n) in topics {
                all.extend((0..*n).map(|p| (t.clone(), p)));
            }
        }
        let mut assignment: HashMap<u64, Vec<TopicPartition>> =
            self.members.keys().map(|m| (*m, Vec::new())).collect();
        let mut turn = 0usize;
        for tp in all {
            let eligible: Vec<u64> = self
                .members
                .iter()
                .filter(|(_, topics)| topics.iter().any(|(t, _)| *t == tp.0))
                .map(|(m, _)| *m)
                .collect();
            if eligible.is_empty() {
                continue;
            }
            let member = eligible[turn % eligible.len()];
            turn += 1;
            assignment.entry(member).or_default().push(tp);
        }
        self.assignment = assignment;
    }
}

impl Groups {
    /// Adds a member reading `topics` (name, partition count); returns its id.
    pub(super) fn join(&self, group: &str, topics: Vec<(String, u32)>) -> u64 {
        let id = self.next_member.fetch_add(1, Ordering::Relaxed);
        let mut groups = self.groups.lock();
        let g = groups.entry(group.to_string()).or_default();
        g.members.insert(id, topics);
        g.rebalance();
        id
    }

    /// Removes a member; its partitions go to the others.
    pub(super) fn leave(&self, group: &str, member: u64) {
        let mut groups = self.groups.lock();
        if let Some(g) = groups.get_mut(group) {
            g.members.remove(&member);
            if g.members.is_empty() {
                groups.remove(group);
            } else {
                g.rebalance();
            }
        }
    }

    /// The group's generation and the member's partitions.
    pub(super) fn assignment(&self, group: &str, member: u64) -> (u64, Vec<TopicPartition>) {
        let groups = self.groups.lock();
        match groups.get(group) {
            Some(g) => (
                g.generation,
                g.assignment.get(&member).cloned().unwrap_or_default(),
            ),
            None => (0, Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_split_round_robin_and_move_on_leave() {
        let g = Groups::default();
        let a = g.join("g", vec![("t".into(), 4)]);
        let b = g.join("g", vec![("t".into(), 4)]);
        let (gen1, pa) = g.assignment("g", a);
        let (_, pb) = g.assignment("g", b);
        assert_eq!(pa, vec![("t".into(), 0), ("t".into(), 2)]);
        assert_eq!(pb, vec![("t".into(), 1), ("t".into(), 3)]);
        g.leave("g", a);
        let (gen2, pb) = g.assignment("g", b);
        assert!(gen2 > gen1);
        assert_eq!(pb.len(), 4);
    }
}
