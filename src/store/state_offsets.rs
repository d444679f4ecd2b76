//! Where each piece of shared state was last written from: the state changelog's partition and
//! offset of the message the projection's current value of a key comes from.
//!
//! The projection is written after its changelog (the log first), and sled reaches disk on its
//! own schedule, so a SIGKILL can lose the projection's write of a message that is on the log.
//! The state follower therefore reads every message of the changelogs, this instance's own
//! included, and applies one only when it is newer than what the projection holds for its key
//! (compared here); it commits its position only after the projection is flushed. After a crash
//! it resumes at its committed position and applies the own messages whose writes were lost,
//! while a message the projection already reflects (or has a newer value for) is skipped, so
//! the follower never sets a key back to an older value.

use super::db::{Store, StoreError};

/// The tree name, for errors.
const TREE: &str = "state_offsets";

/// The tree key of a changelog key.
fn slot(topic: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(topic.len() + key.len() + 1);
    k.extend_from_slice(topic.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

impl Store {
    /// The changelog position (partition, offset) the projection's value of `key` in `topic`
    /// was written from, if known.
    pub fn state_offset(&self, topic: &str, key: &str) -> Result<Option<(u32, u64)>, StoreError> {
        let k = slot(topic, key);
        let Some(v) = self.inner.state_offsets.get(&k).map_err(|e| self.io(e))? else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt {
            tree: TREE,
            key: String::from_utf8_lossy(&k).replace('\0', "/"),
            reason: format!("{} bytes where 12 were expected", v.len()),
        };
        let (p, o) = v.split_at_checked(4).ok_or_else(corrupt)?;
        let p = u32::from_be_bytes(p.try_into().map_err(|_| corrupt())?);
        let o = u64::from_be_bytes(o.try_into().map_err(|_| corrupt())?);
        Ok(Some((p, o)))
    }

    /// Records that the projection's value of `key` in `topic` now comes from the message at
    /// (`partition`, `offset`). Called after the value itself is written.
    pub fn note_state_offset(
        &self,
        topic: &str,
        key: &str,
        partition: u32,
        offset: u64,
    ) -> Result<(), StoreError> {
        let mut v = Vec::with_capacity(12);
        v.extend_from_slice(&partition.to_be_bytes());
        v.extend_from_slice(&offset.to_be_bytes());
        self.inner
            .state_offsets
            .insert(slot(topic, key), v)
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    /// True when the projection already reflects the message at (`partition`, `offset`) of
    /// `key` in `topic`, or a newer one (a key stays on its partition; a position on another
    /// partition, as after a change of the partition count, proves nothing).
    pub fn reflects(
        &self,
        topic: &str,
        key: &str,
        partition: u32,
        offset: u64,
    ) -> Result<bool, StoreError> {
        Ok(matches!(
            self.state_offset(topic, key)?,
            Some((p, o)) if p == partition && o >= offset
        ))
    }

    /// Flushes the projection to disk without blocking the async threads.
    pub async fn flush_async(&self) -> Result<(), StoreError> {
        self.inner.db.flush_async().await.map_err(|e| self.io(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_is_newer_only_on_its_partition() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.state_offset("t", "k").unwrap(), None);
        assert!(!s.reflects("t", "k", 0, 0).unwrap());
        s.note_state_offset("t", "k", 1, 7).unwrap();
        assert_eq!(s.state_offset("t", "k").unwrap(), Some((1, 7)));
        assert!(s.reflects("t", "k", 1, 7).unwrap());
        assert!(s.reflects("t", "k", 1, 3).unwrap());
        assert!(!s.reflects("t", "k", 1, 8).unwrap());
        assert!(!s.reflects("t", "k", 0, 3).unwrap());
        // Topics apart: the same key in another changelog is another slot.
        assert!(!s.reflects("u", "k", 1, 3).unwrap());
        s.clear_all().unwrap();
        assert_eq!(s.state_offset("t", "k").unwrap(), None);
    }
}
