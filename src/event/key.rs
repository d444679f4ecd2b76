//! Record identities and field bags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A record's columns, as the system's API names them. Values are plain JSON.
pub type Fields = serde_json::Map<String, serde_json::Value>;

/// The systems Couplet talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Microsoft Dataverse (Dynamics 365 Sales): the CRM side.
    Dataverse,
    /// Business Central API v2.0: the ERP side.
    Bc,
}

impl System {
    /// The stable name used in record keys, topics and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            System::Dataverse => "dataverse",
            System::Bc => "bc",
        }
    }

    /// True for the CRM side of a mapping.
    pub fn is_crm(self) -> bool {
        matches!(self, System::Dataverse)
    }

    /// The other side of a CRM↔ERP pair.
    pub fn other(self) -> System {
        match self {
            System::Dataverse => System::Bc,
            System::Bc => System::Dataverse,
        }
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for System {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "dataverse" | "dv" | "crm" => Ok(System::Dataverse),
            "bc" | "businesscentral" | "business_central" | "erp" => Ok(System::Bc),
            other => Err(format!("unknown system '{other}': use 'dataverse' or 'bc'")),
        }
    }
}

/// A stable record identity, `<system>/<entity>/<id>`: the key of every event about the record,
/// so one record's events stay in order on one partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordKey {
    /// The system holding the record.
    pub system: System,
    /// The entity set, e.g. `accounts` or `customers`.
    pub entity: String,
    /// The record's primary key (a GUID on every supported system).
    pub id: String,
}

impl RecordKey {
    /// Builds a key.
    pub fn new(system: System, entity: impl Into<String>, id: impl Into<String>) -> Self {
        RecordKey {
            system,
            entity: entity.into(),
            id: id.into(),
        }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.system, self.entity, self.id)
    }
}

impl FromStr for RecordKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, '/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(sys), Some(entity), Some(id)) if !entity.is_empty() && !id.is_empty() => {
                Ok(RecordKey::new(sys.parse()?, entity, id))
            }
            _ => Err(format!(
                "'{s}' is not a record key: write <system>/<entity>/<id>, e.g. dataverse/accounts/6d81597f-…"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_key_round_trips() {
        let k = RecordKey::new(System::Bc, "customers", "abc");
        assert_eq!(k.to_string(), "bc/customers/abc");
        assert_eq!("bc/customers/abc".parse::<RecordKey>().unwrap(), k);
        assert!("bc/customers".parse::<RecordKey>().is_err());
        assert!("sap/x/y".parse::<RecordKey>().is_err());
    }
}
