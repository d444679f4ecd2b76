//! Create intents: a create about to be sent to a target, logged before the request (through
//! the `intents` changelog, so every instance sees it). A retry of the same create after a
//! crash looks for the record the first attempt made before creating again; another instance
//! that captures the new record before its coupling is known recognises it as this create's
//! product instead of copying it back as a twin.
//!
//! A closed intent is kept a little longer, apart from the open ones: the close and the
//! coupling that completed the create travel on two changelogs, so another instance's
//! follower may apply the close first; for that moment the closed intent still recognises
//! the new record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codec::{SEP, decode, encode, key};
use super::db::{Store, StoreError};
use crate::event::{Fields, RecordKey, System};

const TREE: &str = "intents";
const CLOSED: &str = "intents_closed";

/// An intent closed at `closed_at` (kept for [`Store::recently_closed_creating_on`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Closed {
    intent: CreateIntent,
    closed_at: DateTime<Utc>,
}

/// A create about to be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateIntent {
    /// The mapping.
    pub mapping: String,
    /// The record being copied.
    pub source: RecordKey,
    /// The side the record is created on.
    pub target_system: System,
    /// The entity set it is created in.
    pub target_entity: String,
    /// The columns sent with the create.
    pub fields: Fields,
    /// The instance sending it.
    pub instance: String,
    /// When it was logged (just before the request).
    pub at: DateTime<Utc>,
}

impl CreateIntent {
    /// The changelog key: `<mapping>/<source system>/<source id>`.
    pub fn log_key(&self) -> String {
        intent_log_key(&self.mapping, self.source.system, &self.source.id)
    }
}

/// The changelog key of the intent to copy `id` of `system` in `mapping`.
pub fn intent_log_key(mapping: &str, system: System, id: &str) -> String {
    format!("{mapping}/{}/{id}", system.as_str())
}

fn tree_key(mapping: &str, target: System, source: System, id: &str) -> Vec<u8> {
    key(&[mapping, target.as_str(), source.as_str(), id])
}

impl Store {
    /// The key of the open intent to copy `id` of `source` in `mapping`, whatever system it
    /// creates on (the tree is keyed `<mapping>/<target>/<source>/<id>`). Open intents are the
    /// creates in flight, so the scan of one mapping's is short.
    fn open_intent_key(
        &self,
        mapping: &str,
        source: System,
        id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut prefix = key(&[mapping]);
        prefix.push(SEP);
        let mut suffix = vec![SEP];
        suffix.extend_from_slice(&key(&[source.as_str(), id]));
        for item in self.inner.intents.scan_prefix(&prefix) {
            let (k, _) = item.map_err(|e| self.io(e))?;
            let rest = &k[prefix.len()..];
            // `<target>\0<source>\0<id>`: the target is one part, then the wanted suffix.
            if let Some(at) = rest.iter().position(|b| *b == SEP)
                && rest[at..] == suffix[..]
            {
                return Ok(Some(k.to_vec()));
            }
        }
        Ok(None)
    }
}

impl Store {
    /// Records an open intent (replacing an older one for the same source record).
    pub fn put_intent(&self, i: &CreateIntent) -> Result<(), StoreError> {
        let k = tree_key(&i.mapping, i.target_system, i.source.system, &i.source.id);
        let v = encode(TREE, &k, i)?;
        self.inner.intents.insert(k, v).map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Closes the intent to copy `id` of `system` in `mapping`, if any: it leaves the open
    /// ones and is kept among the recently closed.
    pub fn remove_intent(&self, mapping: &str, system: System, id: &str) -> Result<(), StoreError> {
        let Some(k) = self.open_intent_key(mapping, system, id)? else {
            return Ok(());
        };
        let Some(v) = self.inner.intents.remove(&k).map_err(|e| self.io(e))? else {
            return Ok(());
        };
        let closed = Closed {
            intent: decode(TREE, &k, &v)?,
            closed_at: Utc::now(),
        };
        let v = encode(CLOSED, &k, &closed)?;
        self.inner
            .intents_closed
            .insert(k, v)
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    /// The intents of `mapping` that create on `target` and were closed after `since`;
    /// older closed ones are forgotten on the way.
    pub fn recently_closed_creating_on(
        &self,
        mapping: &str,
        target: System,
        since: DateTime<Utc>,
    ) -> Result<Vec<CreateIntent>, StoreError> {
        let mut prefix = key(&[mapping, target.as_str()]);
        prefix.push(SEP);
        let mut out = Vec::new();
        for item in self.inner.intents_closed.scan_prefix(&prefix) {
            let (k, v) = item.map_err(|e| self.io(e))?;
            let c: Closed = decode(CLOSED, &k, &v)?;
            if c.closed_at < since {
                self.inner
                    .intents_closed
                    .remove(&k)
                    .map_err(|e| self.io(e))?;
            } else {
                out.push(c.intent);
            }
        }
        Ok(out)
    }

    /// Removes the intent a changelog key names (`<mapping>/<system>/<id>`); false when the
    /// key is not an intent's.
    pub fn remove_intent_by_log_key(&self, log_key: &str) -> Result<bool, StoreError> {
        let mut parts = log_key.splitn(3, '/');
        match (
            parts.next(),
            parts.next().and_then(|s| s.parse::<System>().ok()),
            parts.next(),
        ) {
            (Some(m), Some(s), Some(id)) => {
                self.remove_intent(m, s, id)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The open intent to copy `id` of `system` in `mapping`.
    pub fn intent(
        &self,
        mapping: &str,
        system: System,
        id: &str,
    ) -> Result<Option<CreateIntent>, StoreError> {
        let Some(k) = self.open_intent_key(mapping, system, id)? else {
            return Ok(None);
        };
        match self.inner.intents.get(&k).map_err(|e| self.io(e))? {
            Some(v) => Ok(Some(decode(TREE, &k, &v)?)),
            None => Ok(None),
        }
    }

    /// Every open intent of `mapping` that creates on `target`.
    pub fn intents_creating_on(
        &self,
        mapping: &str,
        target: System,
    ) -> Result<Vec<CreateIntent>, StoreError> {
        let mut prefix = key(&[mapping, target.as_str()]);
        prefix.push(SEP);
        let mut out = Vec::new();
        for item in self.inner.intents.scan_prefix(&prefix) {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.push(decode(TREE, &k, &v)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(mapping: &str, source: System, id: &str) -> CreateIntent {
        CreateIntent {
            mapping: mapping.into(),
            source: RecordKey::new(source, "x", id),
            target_system: crate::systems::registry::default_pair().other(source),
            target_entity: "y".into(),
            fields: serde_json::json!({"name": id})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            instance: "i".into(),
            at: Utc::now(),
        }
    }

    #[test]
    fn intents_are_found_by_source_and_listed_by_target() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = intent("CUSTOMER", crate::systems::DATAVERSE, "d1");
        let b = intent("CUSTOMER", crate::systems::BC, "c1");
        let other = intent("CONTACT", crate::systems::DATAVERSE, "d2");
        for i in [&a, &b, &other] {
            store.put_intent(i).unwrap();
        }
        assert_eq!(
            store
                .intent("CUSTOMER", crate::systems::DATAVERSE, "d1")
                .unwrap(),
            Some(a.clone())
        );
        assert_eq!(
            store
                .intents_creating_on("CUSTOMER", crate::systems::BC)
                .unwrap(),
            vec![a.clone()]
        );
        assert_eq!(
            store
                .intents_creating_on("CUSTOMER", crate::systems::DATAVERSE)
                .unwrap(),
            vec![b]
        );
        assert!(store.remove_intent_by_log_key(&a.log_key()).unwrap());
        assert!(!store.remove_intent_by_log_key("barrier").unwrap());
        assert_eq!(
            store
                .intent("CUSTOMER", crate::systems::DATAVERSE, "d1")
                .unwrap(),
            None
        );
        assert!(
            store
                .intents_creating_on("CUSTOMER", crate::systems::BC)
                .unwrap()
                .is_empty()
        );
    }
}
