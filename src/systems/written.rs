//! A record as a system stored it after a create or update.

use chrono::{DateTime, Utc};

use crate::event::Fields;

/// A record as the target stored it after a create or update.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    /// The record's primary key.
    pub id: String,
    /// Its new ETag (`@odata.etag`), if returned.
    pub etag: Option<String>,
    /// Its modified-on time (Dataverse `modifiedon`, BC `lastModifiedDateTime`).
    pub modified_on: Option<DateTime<Utc>>,
    /// Every column returned.
    pub fields: Fields,
}

impl Written {
    /// Reads a written record from its representation: the id from `id_field`, the time from
    /// `modified_field`.
    pub fn from_fields(fields: Fields, id_field: &str, modified_field: &str) -> Option<Written> {
        let id = fields.get(id_field)?.as_str()?.to_string();
        let etag = fields
            .get("@odata.etag")
            .and_then(|e| e.as_str())
            .map(str::to_string);
        let modified_on = fields
            .get(modified_field)
            .and_then(|m| m.as_str())
            .and_then(|m| DateTime::parse_from_rfc3339(m).ok())
            .map(|m| m.with_timezone(&Utc));
        Some(Written {
            id,
            etag,
            modified_on,
            fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_written_records() {
        let fields: Fields = serde_json::from_str(
            r#"{"@odata.etag":"W/\"1\"","accountid":"a1","modifiedon":"2024-05-01T10:00:00Z"}"#,
        )
        .expect("json");
        let w = Written::from_fields(fields, "accountid", "modifiedon").expect("written");
        assert_eq!(w.id, "a1");
        assert_eq!(w.etag.as_deref(), Some("W/\"1\""));
        assert!(w.modified_on.is_some());
        assert!(Written::from_fields(Fields::new(), "id", "x").is_none());
    }
}
