//! Record identities and field bags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::record_id::{KeyError, KeyShape, PrimaryKey};

/// A record's columns, as the system's API names them. Values are plain JSON.
pub type Fields = serde_json::Map<String, serde_json::Value>;

/// The two sides of a CRM↔ERP pair. Generic code speaks of sides; which system stands on
/// each side is the engine's [`Pair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The CRM (Dynamics 365 Sales on Dataverse).
    Crm,
    /// The ERP (Business Central, F&O or SAP Business One).
    Erp,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Crm => Side::Erp,
            Side::Erp => Side::Crm,
        }
    }

    /// `crm` or `erp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Crm => "crm",
            Side::Erp => "erp",
        }
    }

    /// True for the CRM.
    pub fn is_crm(self) -> bool {
        self == Side::Crm
    }
}

impl From<System> for Side {
    /// The side a system stands on.
    fn from(s: System) -> Side {
        s.0.side
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a system stores blank text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlankText {
    /// As null (Dataverse): an empty string is written as null.
    Null,
    /// As an empty string (Business Central): null is written as "".
    EmptyString,
}

impl BlankText {
    /// `v` as this system stores it.
    pub fn normalise(self, v: serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match (self, v) {
            (BlankText::EmptyString, Value::Null) => Value::String(String::new()),
            (BlankText::Null, Value::String(s)) if s.is_empty() => Value::Null,
            (_, v) => v,
        }
    }
}

/// Where a system's records carry their version (ETag), the value sent back in `If-Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtagRule {
    /// In an annotation of the record's JSON: `@odata.etag` for OData v4 services
    /// (Dataverse, Business Central, F&O).
    Annotation(&'static str),
    /// The records carry none; updates are unconditional.
    None,
}

impl EtagRule {
    /// The ETag of `rec`, if it carries one.
    pub fn of(self, rec: &Fields) -> Option<String> {
        match self {
            EtagRule::Annotation(name) => rec.get(name)?.as_str().map(str::to_string),
            EtagRule::None => None,
        }
    }
}

/// What generic code needs to know of a system without its connector: the shape of its
/// records and the advice its errors carry.
#[derive(Debug)]
pub struct SystemRules {
    /// The stable name used in record keys, topics and metrics labels (`dataverse`, `bc`).
    pub name: &'static str,
    /// The side the system stands on.
    pub side: Side,
    /// The primary-key columns of a record of an entity set and their types (`accounts` →
    /// the GUID `accountid`, Business Central's GUID `id`, F&O's `dataAreaId` +
    /// `CustomerAccount`): how [`System::record_id`] reads a record's id and how the
    /// connector turns an id back into a URL key.
    pub key: fn(&str) -> KeyShape,
    /// The column holding a record's last modification time.
    pub modified_column: fn(&str) -> String,
    /// Where a record's ETag is.
    pub etag: EtagRule,
    /// How blank text is stored.
    pub blank_text: BlankText,
    /// Whether the system writes its local currency as a blank currency code (Business
    /// Central's "LCY"); otherwise every record names its currency (F&O).
    pub local_currency_blank: bool,
    /// Which setting to check after this HTTP status (401 or 403) from the system's API.
    pub auth_hint: fn(u16) -> &'static str,
}

/// A system Couplet talks to, as a value: its stable name (`dataverse`, `bc`, …: the first
/// part of record keys, topic messages and metrics labels) and the side it stands on. Each
/// connector in `src/systems/<name>/` defines its own; the registry (`systems::registry`)
/// lists them and parses names (`"bc".parse::<System>()`).
#[derive(Clone, Copy)]
pub struct System(&'static SystemRules);

impl PartialEq for System {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for System {}

impl std::hash::Hash for System {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.name.hash(h);
    }
}

impl PartialOrd for System {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for System {
    /// The CRM first, then by name.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0.side, self.0.name).cmp(&(other.0.side, other.0.name))
    }
}

impl System {
    /// The system that `rules` describe (connectors only: everything else parses a name).
    pub const fn new(rules: &'static SystemRules) -> System {
        System(rules)
    }

    /// What generic code needs to know of this system.
    pub fn rules(self) -> &'static SystemRules {
        self.0
    }

    /// The primary-key columns of a record of `entity` on this system.
    pub fn key_shape(self, entity: &str) -> KeyShape {
        (self.0.key)(entity)
    }

    /// The primary key of `rec`, a record of `entity` on this system; `None` when a key
    /// column is missing or of the wrong type.
    pub fn primary_key(self, entity: &str, rec: &Fields) -> Option<PrimaryKey> {
        PrimaryKey::from_fields(&self.key_shape(entity), rec)
    }

    /// The id of `rec`, a record of `entity` on this system, as record keys carry it (the
    /// key codec's encoding: a GUID as it is; see [`super::record_id`]).
    pub fn record_id(self, entity: &str, rec: &Fields) -> Option<String> {
        self.primary_key(entity, rec).map(|k| k.encode())
    }

    /// The primary key an id of a record of `entity` encodes.
    pub fn decode_id(self, entity: &str, id: &str) -> Result<PrimaryKey, KeyError> {
        PrimaryKey::decode(id, &self.key_shape(entity))
    }

    /// The ETag of `rec`, a record of this system, if it carries one.
    pub fn record_etag(self, rec: &Fields) -> Option<String> {
        self.0.etag.of(rec)
    }

    /// The stable name used in record keys, topics and metrics labels.
    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    /// The side this system stands on.
    pub fn side(self) -> Side {
        self.0.side
    }

    /// True for the CRM side of a mapping.
    pub fn is_crm(self) -> bool {
        self.0.side.is_crm()
    }
}

impl fmt::Display for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl Serialize for System {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

/// The CRM and the ERP one engine keeps in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pair {
    /// The CRM side.
    pub crm: System,
    /// The ERP side.
    pub erp: System,
}

impl Pair {
    /// The system on `side`.
    pub fn system(&self, side: Side) -> System {
        match side {
            Side::Crm => self.crm,
            Side::Erp => self.erp,
        }
    }

    /// The system on the other side than `system`'s.
    pub fn other(&self, system: System) -> System {
        self.system(system.side().other())
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
    /// The record's primary key, encoded by the key codec (a GUID as it is; see
    /// [`super::record_id`]). Never holds `/`.
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
        let k = RecordKey::new(crate::systems::BC, "customers", "abc");
        assert_eq!(k.to_string(), "bc/customers/abc");
        assert_eq!("bc/customers/abc".parse::<RecordKey>().unwrap(), k);
        assert!("bc/customers".parse::<RecordKey>().is_err());
        assert!("sap/x/y".parse::<RecordKey>().is_err());
    }

    #[test]
    fn record_ids_are_the_guids_as_before_and_etags_follow_the_rule() {
        let id = "6d81597f-0000-0000-0000-000000000001";
        let account: Fields = serde_json::from_value(serde_json::json!(
            {"accountid": id, "name": "A", "@odata.etag": "W/\"1\""}
        ))
        .expect("record");
        let dv = crate::systems::DATAVERSE;
        assert_eq!(dv.record_id("accounts", &account).as_deref(), Some(id));
        assert_eq!(dv.record_etag(&account).as_deref(), Some("W/\"1\""));
        assert_eq!(dv.key_shape("accounts").names(), "accountid");
        assert_eq!(dv.record_id("contacts", &account), None);
        let bc = crate::systems::BC;
        let customer: Fields =
            serde_json::from_value(serde_json::json!({"id": id.to_uppercase(), "number": "C1"}))
                .expect("record");
        assert_eq!(
            bc.record_id("customers", &customer),
            Some(id.to_uppercase())
        );
        assert_eq!(bc.record_etag(&customer), None);
        assert!(bc.decode_id("customers", id).is_ok());
        assert!(bc.decode_id("customers", "a/b").is_err());
        assert_eq!(EtagRule::None.of(&account), None);
    }

    #[test]
    fn composite_ids_fit_in_record_keys() {
        let shape = KeyShape::composite([
            ("dataAreaId", crate::event::KeyKind::String),
            ("CustomerAccount", crate::event::KeyKind::String),
        ]);
        let rec: Fields = serde_json::from_value(serde_json::json!(
            {"dataAreaId": "usmf", "CustomerAccount": "US/001"}
        ))
        .expect("record");
        let id = PrimaryKey::from_fields(&shape, &rec).expect("key").encode();
        let k = RecordKey::new(crate::systems::BC, "CustomersV3", id.clone());
        let parsed: RecordKey = k.to_string().parse().expect("record key");
        assert_eq!(parsed, k);
        assert_eq!(
            PrimaryKey::decode(&parsed.id, &shape)
                .expect("decoded")
                .value("CustomerAccount"),
            Some(&crate::event::KeyValue::Str("US/001".into()))
        );
    }
}
