//! The one interface the apply stage writes through, whichever system is the target.

use chrono::{DateTime, Utc};

use super::bc::BcClient;
use super::dataverse::DataverseClient;
use super::error::SystemError;
use super::http::urls::odata_literal;
use crate::event::key::{Fields, System};

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

/// A system the apply stage writes to.
#[derive(Debug, Clone)]
pub enum Target {
    /// Dataverse (the CRM).
    Dataverse(DataverseClient),
    /// Business Central (the ERP).
    Bc(BcClient),
}

impl Target {
    /// Which system this is.
    pub fn system(&self) -> System {
        match self {
            Target::Dataverse(_) => System::Dataverse,
            Target::Bc(_) => System::Bc,
        }
    }

    /// One record with every column, or `None` if it does not exist.
    pub async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        match self {
            Target::Dataverse(c) => c.get(set, id, &[]).await,
            Target::Bc(c) => c.get(set, id).await,
        }
    }

    /// Every record whose `field` equals `value` (strings are OData-escaped).
    pub async fn find_eq(
        &self,
        set: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<Fields>, SystemError> {
        let filter = format!("{field} eq {}", odata_literal(value));
        match self {
            Target::Dataverse(c) => c.query(set, &filter, &[]).await,
            Target::Bc(c) => c.query(set, &filter).await,
        }
    }

    /// Creates a record.
    pub async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        match self {
            Target::Dataverse(c) => c.create(set, body).await,
            Target::Bc(c) => c.create(set, body).await,
        }
    }

    /// Updates an existing record (never creates one). `if_match` is the expected ETag;
    /// `None` means any version (`*`).
    pub async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError> {
        match self {
            Target::Dataverse(c) => c.update(set, id, body, if_match).await,
            Target::Bc(c) => c.update(set, id, body, if_match.unwrap_or("*")).await,
        }
    }

    /// Deletes a record; a record already gone is success.
    pub async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        match self {
            Target::Dataverse(c) => c.delete(set, id).await,
            Target::Bc(c) => c.delete(set, id, "*").await,
        }
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
