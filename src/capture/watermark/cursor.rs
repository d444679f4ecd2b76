//! A watermark poll's position: the newest modified-on appended, and the versions appended
//! within the overlap window before it (so a row re-read there is not appended twice). Saved as
//! the checkpoint `{"watermark": <RFC 3339 with milliseconds, or null>, "seen": {<id>: <the
//! row's modified-on text>}, "at": <when saved>}`, the shape Business Central captures have
//! always written.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::columns::{Stamp, parse_instant};

/// Where a watermark poll stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watermark {
    /// The newest modified-on appended; `None` before the first read.
    pub at: Option<DateTime<Utc>>,
    /// id → modified-on text of the versions appended within the overlap window.
    pub seen: BTreeMap<String, String>,
}

impl Watermark {
    /// Reads a saved checkpoint. Whatever does not fit (a missing or invalid watermark, a
    /// non-text seen entry) is left out rather than failing, as the captures always did.
    pub fn from_json(v: &Value) -> Self {
        let at = v
            .get("watermark")
            .and_then(Value::as_str)
            .and_then(parse_instant);
        let seen = v
            .get("seen")
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Watermark { at, seen }
    }

    /// The checkpoint to save, stamped as saved at `saved_at`.
    pub fn to_json(&self, saved_at: DateTime<Utc>) -> Value {
        json!({
            "watermark": self.at.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            "seen": self.seen,
            "at": saved_at.to_rfc3339(),
        })
    }

    /// Where the next read starts: `overlap` before the watermark (every row when `None`).
    pub fn since(&self, overlap: chrono::Duration) -> Option<DateTime<Utc>> {
        self.at.map(|w| w - overlap)
    }

    /// Records that version `stamp` of record `id` is appended, and moves the watermark up to
    /// its time. Returns `false` (and changes nothing) when that version was appended already.
    pub fn observe(&mut self, id: &str, stamp: &Stamp) -> bool {
        if self.seen.get(id) == Some(&stamp.text) {
            return false;
        }
        self.seen.insert(id.to_string(), stamp.text.clone());
        if let Some(t) = stamp.at {
            self.at = Some(self.at.map_or(t, |w| w.max(t)));
        }
        true
    }

    /// Forgets the versions older than `overlap` before the watermark (no later read reaches
    /// them) and those without a readable time.
    pub fn prune(&mut self, overlap: chrono::Duration) {
        let Some(w) = self.at else {
            return;
        };
        let floor = w - overlap;
        // A version's text is its modified-on, with `#<ETag>` after it where timestamps may
        // repeat (see `WatermarkColumns::etag_versions`).
        self.seen.retain(|_, text| {
            let time = text.split_once('#').map_or(text.as_str(), |(t, _)| t);
            parse_instant(time).is_some_and(|t| t >= floor)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    fn stamp(s: &str) -> Stamp {
        Stamp {
            text: s.to_string(),
            at: parse_instant(s),
        }
    }

    #[test]
    fn reads_the_checkpoint_shape_written_before_the_poller_existed() {
        // As `BcCapture` and `PostedCapture` saved it.
        let saved = json!({
            "watermark": "2024-05-01T10:15:30.120Z",
            "seen": {
                "a": "2024-05-01T10:15:30.12Z",
                "b": "2024-05-01T10:15:29Z",
                "odd": 17,
            },
            "at": "2024-05-01T10:16:00.000000001+00:00",
        });
        let w = Watermark::from_json(&saved);
        assert_eq!(w.at, Some(utc("2024-05-01T10:15:30.120Z")));
        assert_eq!(
            w.seen,
            BTreeMap::from([
                ("a".to_string(), "2024-05-01T10:15:30.12Z".to_string()),
                ("b".to_string(), "2024-05-01T10:15:29Z".to_string()),
            ])
        );
        // No checkpoint content at all, or a null watermark: a first read.
        assert_eq!(Watermark::from_json(&json!({})), Watermark::default());
        let first = Watermark::from_json(&json!({"watermark": null, "seen": {}, "at": "x"}));
        assert_eq!(first, Watermark::default());
    }

    #[test]
    fn the_checkpoint_round_trips_in_the_same_shape() {
        let mut w = Watermark::default();
        assert!(w.observe("a", &stamp("2024-05-01T10:15:30.12Z")));
        let saved_at = utc("2024-05-01T10:16:00Z");
        let v = w.to_json(saved_at);
        assert_eq!(
            v,
            json!({
                "watermark": "2024-05-01T10:15:30.120Z",
                "seen": {"a": "2024-05-01T10:15:30.12Z"},
                "at": "2024-05-01T10:16:00+00:00",
            })
        );
        assert_eq!(Watermark::from_json(&v), w);
        let empty = Watermark::default().to_json(saved_at);
        assert_eq!(empty["watermark"], Value::Null);
        assert_eq!(Watermark::from_json(&empty), Watermark::default());
    }

    #[test]
    fn a_version_is_appended_once_and_a_newer_one_again() {
        let mut w = Watermark::default();
        assert!(w.observe("a", &stamp("2024-05-01T10:00:00Z")));
        assert!(!w.observe("a", &stamp("2024-05-01T10:00:00Z")));
        assert!(w.observe("a", &stamp("2024-05-01T10:00:01Z")));
        assert_eq!(w.seen["a"], "2024-05-01T10:00:01Z");
        // The same instant written differently is another text: appended again, as before.
        assert!(w.observe("a", &stamp("2024-05-01T10:00:01.000Z")));
    }

    #[test]
    fn the_watermark_only_moves_forward() {
        let mut w = Watermark::default();
        w.observe("a", &stamp("2024-05-01T10:00:05Z"));
        w.observe("b", &stamp("2024-05-01T10:00:01Z"));
        w.observe("c", &stamp(""));
        assert_eq!(w.at, Some(utc("2024-05-01T10:00:05Z")));
        let overlap = chrono::Duration::seconds(2);
        assert_eq!(w.since(overlap), Some(utc("2024-05-01T10:00:03Z")));
        assert_eq!(Watermark::default().since(overlap), None);
    }

    #[test]
    fn pruning_keeps_the_overlap_window_only() {
        let mut w = Watermark::default();
        w.observe("old", &stamp("2024-05-01T10:00:00Z"));
        w.observe("edge", &stamp("2024-05-01T10:00:08Z"));
        w.observe("new", &stamp("2024-05-01T10:00:10Z"));
        w.observe("timeless", &stamp("not a time"));
        w.prune(chrono::Duration::seconds(2));
        let kept: Vec<&str> = w.seen.keys().map(String::as_str).collect();
        assert_eq!(kept, vec!["edge", "new"]);

        // Without a watermark nothing is pruned.
        let mut none = Watermark::default();
        none.observe("timeless", &stamp(""));
        none.prune(chrono::Duration::seconds(2));
        assert_eq!(none.seen.len(), 1);
    }

    #[test]
    fn versions_in_one_second_differ_by_their_etag() {
        let c = super::super::columns::WatermarkColumns {
            id: crate::event::KeyShape::string("k"),
            modified: super::super::columns::ModifiedColumns::instant("ModifiedDateTime"),
            etag_versions: true,
        };
        let row = |etag: &str| {
            json!({"k": "C1", "ModifiedDateTime": "2026-12-07T15:00:01Z", "@odata.etag": etag})
                .as_object()
                .cloned()
                .unwrap()
        };
        let mut w = Watermark::default();
        let first = c.stamp_of(&row("W/\"a\""), Some("W/\"a\"".into()));
        assert_eq!(first.text, "2026-12-07T15:00:01Z#W/\"a\"");
        assert!(w.observe("C1", &first));
        assert!(
            !w.observe("C1", &first),
            "the same version is appended once"
        );
        let second = c.stamp_of(&row("W/\"b\""), Some("W/\"b\"".into()));
        assert!(
            w.observe("C1", &second),
            "a change in the same second is new"
        );
        assert_eq!(w.at, Some(utc("2026-12-07T15:00:01Z")));
        // Kept while inside the overlap window, as its time says.
        w.prune(chrono::Duration::seconds(2));
        assert_eq!(w.seen.len(), 1);
        w.at = Some(utc("2026-12-07T15:00:10Z"));
        w.prune(chrono::Duration::seconds(2));
        assert!(w.seen.is_empty());
    }
}
