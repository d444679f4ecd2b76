//! The handle the stages read and write a system through, whichever system it is.

use chrono::{DateTime, Utc};

use std::sync::Arc;

use super::connector::Connector;
use super::error::SystemError;
use crate::event::key::{Fields, Pair, Side, System};

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

/// A system the stages read and write: a shared [`Connector`].
#[derive(Clone)]
pub struct Target(Arc<dyn Connector>);

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.0.system())
    }
}

impl Target {
    /// A target on `connector`.
    pub fn new(connector: Arc<dyn Connector>) -> Target {
        Target(connector)
    }

    /// Which system this is.
    pub fn system(&self) -> System {
        self.0.system()
    }

    /// The connector.
    pub fn connector(&self) -> &Arc<dyn Connector> {
        &self.0
    }

    /// The concrete client behind this target, when it is a `C` (the system's own modules
    /// use it for what only that system has).
    pub fn client<C: 'static>(&self) -> Option<&C> {
        self.0.as_any().downcast_ref::<C>()
    }

    /// One record with every column, or `None` if it does not exist.
    pub async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        self.0.get(set, id).await
    }

    /// Every record matching an OData filter (empty: every record).
    pub async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        self.0.query(set, filter).await
    }

    /// Every record whose `field` equals `value` (strings are OData-escaped).
    pub async fn find_eq(
        &self,
        set: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<Fields>, SystemError> {
        self.0.find_eq(set, field, value).await
    }

    /// Creates a record.
    pub async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        self.0.create(set, body).await
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
        self.0.update(set, id, body, if_match).await
    }

    /// Deletes a record; a record already gone is success.
    pub async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        self.0.delete(set, id).await
    }
}

/// The two systems an engine keeps in step.
#[derive(Clone, Debug)]
pub struct Targets {
    /// The CRM.
    pub crm: Target,
    /// The ERP.
    pub erp: Target,
}

impl Targets {
    /// The target on `system`'s side.
    pub fn get(&self, system: System) -> &Target {
        self.side(system.side())
    }

    /// The target on `side`.
    pub fn side(&self, side: Side) -> &Target {
        match side {
            Side::Crm => &self.crm,
            Side::Erp => &self.erp,
        }
    }

    /// Which systems they are.
    pub fn pair(&self) -> Pair {
        Pair {
            crm: self.crm.system(),
            erp: self.erp.system(),
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
