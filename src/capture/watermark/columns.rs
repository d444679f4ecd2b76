//! Which columns of a polled row name the record and say when it last changed: one RFC 3339
//! instant (Business Central's `lastModifiedDateTime`, F&O's `ModifiedDateTime`), or a date
//! column and a time-of-day column combined into one instant (SAP Business One's `UpdateDate`
//! and `UpdateTime`).

use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::event::{Fields, KeyShape, PrimaryKey};

/// The column(s) holding a row's modified-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModifiedColumns {
    /// One column holding an RFC 3339 instant, such as `lastModifiedDateTime`.
    Instant(String),
    /// A date column and a time-of-day column, combined into one instant taken as UTC, such as
    /// SAP Business One's `UpdateDate` (`2024-05-01` or `2024-05-01T00:00:00Z`) and
    /// `UpdateTime` (`10:15:30`).
    DateAndTime {
        /// The date column (a date, or an instant whose date part is taken).
        date: String,
        /// The time-of-day column (`HH:MM:SS`, with optional fractions, or `HH:MM`).
        time: String,
    },
}

/// A row's modified-on, as read from its column(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The text naming this version of the row in the already-seen map: the column's own text
    /// for one column (so what a checkpoint holds keeps matching what the source returns), the
    /// combined instant in RFC 3339 for a date and a time; empty when the row has none.
    pub text: String,
    /// The instant, when the column(s) hold a valid one.
    pub at: Option<DateTime<Utc>>,
}

/// The columns a watermark poll reads from each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatermarkColumns {
    /// The record's primary-key columns (the system's key shape of the set): a GUID or
    /// text column, an integer such as SAP B1's `DocEntry`, or several such as F&O's
    /// `dataAreaId` + `CustomerAccount`.
    pub id: KeyShape,
    /// The column(s) holding its modified-on.
    pub modified: ModifiedColumns,
    /// Whether two versions of a row may share a modified-on (F&O's `ModifiedDateTime` has
    /// whole seconds), so a version is its modified-on and its ETag: a change made in the
    /// same second as the version already appended is still a new version.
    pub etag_versions: bool,
}

impl WatermarkColumns {
    /// The record's id in `row`, encoded by the key codec (a one-column text key as it is);
    /// `None` when a key column is absent or of the wrong type, or the id is empty.
    pub fn id_of(&self, row: &Fields) -> Option<String> {
        PrimaryKey::from_fields(&self.id, row)
            .map(|k| k.encode())
            .filter(|id| !id.is_empty())
    }

    /// The version of `row` as the seen map keeps it: its modified-on, followed by `#` and its
    /// ETag (`etag`) when [`WatermarkColumns::etag_versions`] says timestamps may repeat.
    pub fn stamp_of(&self, row: &Fields, etag: Option<String>) -> Stamp {
        let mut stamp = self.modified.stamp(row);
        if self.etag_versions
            && let Some(e) = etag
        {
            stamp.text = format!("{}#{e}", stamp.text);
        }
        stamp
    }
}

fn text<'r>(row: &'r Fields, column: &str) -> &'r str {
    row.get(column).and_then(Value::as_str).unwrap_or("")
}

impl ModifiedColumns {
    /// One RFC 3339 column.
    pub fn instant(column: &str) -> Self {
        ModifiedColumns::Instant(column.to_string())
    }

    /// A date column and a time-of-day column.
    pub fn date_and_time(date: &str, time: &str) -> Self {
        ModifiedColumns::DateAndTime {
            date: date.to_string(),
            time: time.to_string(),
        }
    }

    /// The modified-on of `row` (an empty stamp without an instant when the columns are
    /// missing or hold no valid value).
    pub fn stamp(&self, row: &Fields) -> Stamp {
        match self {
            ModifiedColumns::Instant(column) => {
                let text = text(row, column);
                Stamp {
                    at: parse_instant(text),
                    text: text.to_string(),
                }
            }
            ModifiedColumns::DateAndTime { date, time } => {
                let at = parse_date_and_time(text(row, date), text(row, time));
                Stamp {
                    text: at
                        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                        .unwrap_or_default(),
                    at,
                }
            }
        }
    }
}

/// An RFC 3339 instant, in UTC.
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A date (`2024-05-01`, or the date part of `2024-05-01T00:00:00Z`) and a time of day
/// (`10:15:30`, `10:15:30.250` or `10:15`) as one instant, taken as UTC.
pub fn parse_date_and_time(date: &str, time: &str) -> Option<DateTime<Utc>> {
    let day = date.split_once('T').map_or(date, |(d, _)| d).trim();
    let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let time = time.trim();
    let clock = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    Some(day.and_time(clock).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    #[test]
    fn one_instant_column_keeps_its_own_text() {
        let c = ModifiedColumns::instant("lastModifiedDateTime");
        let s = c.stamp(&row(
            json!({"id": "a", "lastModifiedDateTime": "2024-05-01T10:15:30.5+02:00"}),
        ));
        assert_eq!(s.text, "2024-05-01T10:15:30.5+02:00");
        assert_eq!(s.at, Some(utc("2024-05-01T08:15:30.500Z")));
        // F&O's column is the same shape under another name.
        let fo = ModifiedColumns::instant("ModifiedDateTime");
        let s = fo.stamp(&row(json!({"ModifiedDateTime": "2024-05-01T10:15:30Z"})));
        assert_eq!(s.at, Some(utc("2024-05-01T10:15:30Z")));
    }

    #[test]
    fn a_missing_or_invalid_instant_gives_no_time() {
        let c = ModifiedColumns::instant("lastModifiedDateTime");
        let none = c.stamp(&row(json!({"id": "a"})));
        assert_eq!((none.text.as_str(), none.at), ("", None));
        let bad = c.stamp(&row(json!({"lastModifiedDateTime": "yesterday"})));
        assert_eq!((bad.text.as_str(), bad.at), ("yesterday", None));
        let number = c.stamp(&row(json!({"lastModifiedDateTime": 17})));
        assert_eq!((number.text.as_str(), number.at), ("", None));
    }

    #[test]
    fn sap_b1_update_date_and_time_make_one_instant() {
        let c = ModifiedColumns::date_and_time("UpdateDate", "UpdateTime");
        let want = utc("2024-05-01T10:15:30Z");
        for date in ["2024-05-01T00:00:00Z", "2024-05-01", "2024-05-01T00:00:00"] {
            let s = c.stamp(&row(
                json!({"DocEntry": 7, "UpdateDate": date, "UpdateTime": "10:15:30"}),
            ));
            assert_eq!(s.at, Some(want), "{date}");
            assert_eq!(s.text, "2024-05-01T10:15:30Z", "{date}");
        }
        assert_eq!(
            parse_date_and_time("2024-05-01", "10:15"),
            Some(utc("2024-05-01T10:15:00Z"))
        );
        assert_eq!(
            parse_date_and_time("2024-05-01", "10:15:30.250"),
            Some(utc("2024-05-01T10:15:30.250Z"))
        );
        // The seen-map text is RFC 3339, so a prune can read it back.
        let s = c.stamp(&row(
            json!({"UpdateDate": "2024-05-01", "UpdateTime": "23:59:59.5"}),
        ));
        assert_eq!(parse_instant(&s.text), s.at);
    }

    #[test]
    fn a_date_without_a_valid_time_gives_no_instant() {
        let c = ModifiedColumns::date_and_time("UpdateDate", "UpdateTime");
        for r in [
            json!({"UpdateDate": "2024-05-01"}),
            json!({"UpdateTime": "10:15:30"}),
            json!({"UpdateDate": "2024-05-01", "UpdateTime": "25:00:00"}),
            json!({"UpdateDate": "01/05/2024", "UpdateTime": "10:15:30"}),
            json!({"UpdateDate": "2024-05-01", "UpdateTime": 101530}),
        ] {
            let s = c.stamp(&row(r.clone()));
            assert_eq!((s.text.as_str(), s.at), ("", None), "{r}");
        }
    }

    #[test]
    fn the_id_is_non_empty_text() {
        let c = WatermarkColumns {
            id: KeyShape::guid("id"),
            modified: ModifiedColumns::instant("lastModifiedDateTime"),
            etag_versions: false,
        };
        assert_eq!(c.id_of(&row(json!({"id": "a"}))).as_deref(), Some("a"));
        assert_eq!(c.id_of(&row(json!({"id": ""}))), None);
        assert_eq!(c.id_of(&row(json!({"id": 7}))), None);
        assert_eq!(c.id_of(&row(json!({}))), None);
        // Typed and composite keys, as SAP B1's documents and F&O's entities have.
        let doc = WatermarkColumns {
            id: KeyShape::int("DocEntry"),
            ..c.clone()
        };
        assert_eq!(
            doc.id_of(&row(json!({"DocEntry": 7}))).as_deref(),
            Some("7")
        );
        assert_eq!(doc.id_of(&row(json!({"DocEntry": "x"}))), None);
        let fo = WatermarkColumns {
            id: KeyShape::composite([
                ("dataAreaId", crate::event::KeyKind::String),
                ("CustomerAccount", crate::event::KeyKind::String),
            ]),
            ..c
        };
        assert_eq!(
            fo.id_of(&row(
                json!({"dataAreaId": "usmf", "CustomerAccount": "US/1"})
            ))
            .as_deref(),
            Some("dataAreaId=usmf,CustomerAccount=US%2F1")
        );
        assert_eq!(fo.id_of(&row(json!({"dataAreaId": "usmf"}))), None);
    }
}
