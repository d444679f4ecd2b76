//! The mapping file format. Defaults ship in `src/mapping/defaults.toml`; a deployment can
//! replace them with its own file (`[sync] mapping_file`).

use serde::{Deserialize, Serialize};

use super::rules::Rule;
use super::value_map::ValueMapEntry;
use crate::event::System;

/// Which way data flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Both ways.
    Bidirectional,
    /// ERP → CRM only.
    ToCrm,
    /// CRM → ERP only.
    ToErp,
}

impl Direction {
    /// True when data may flow from `source` to the other side.
    pub fn allows_from(self, source: System) -> bool {
        match self {
            Direction::Bidirectional => true,
            Direction::ToCrm => !source.is_crm(),
            Direction::ToErp => source.is_crm(),
        }
    }

    /// `to_crm`, `to_erp` or `bidirectional`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Bidirectional => "bidirectional",
            Direction::ToCrm => "to_crm",
            Direction::ToErp => "to_erp",
        }
    }
}

/// Which side's values win when a create finds an uncoupled record with the same natural key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnMatch {
    /// The ERP record's values are written to the CRM (Business Central's full-sync default).
    ErpWins,
    /// The CRM record's values are written to the ERP.
    CrmWins,
}

impl OnMatch {
    /// The side whose values win.
    pub fn winner(self) -> System {
        match self {
            OnMatch::ErpWins => System::Bc,
            OnMatch::CrmWins => System::Dataverse,
        }
    }
}

/// What happens when a coupled record is deleted on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionPolicy {
    /// Remove the coupling; the other side's record is kept and stays uncoupled.
    RemoveCoupling,
    /// Delete the coupled record on the other side too, then remove the coupling.
    Propagate,
    /// Keep the coupling; a later change of the surviving record fails with a deletion
    /// conflict in the errors list (Business Central's default).
    None,
}

/// How a field's value is translated through a reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Lookup {
    /// ERP currency code ↔ CRM `transactioncurrency` id, by ISO code; a blank ERP code is the
    /// local currency (`[sync] lcy_code`).
    Currency,
    /// A record coupled in another mapping: the CRM side holds the coupled CRM record's id
    /// (a lookup column), the ERP side holds the coupled ERP record's `erp_field` value
    /// (e.g. the customer number).
    Coupling {
        /// The mapping whose couplings resolve the reference, e.g. `CUSTOMER`.
        mapping: String,
        /// The CRM navigation property to bind when writing, e.g. `parentcustomerid_account`.
        crm_bind: String,
        /// The ERP field of the referenced record that the ERP side stores (e.g. `number`).
        erp_field: String,
    },
}

/// One field mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// CRM column(s). Several columns are joined with spaces towards the ERP and split back
    /// (the last word is the last column, the rest the first column), as for person names.
    #[serde(default = "no_crm_columns")]
    pub crm: CrmColumns,
    /// ERP field (empty for a constant written to the CRM).
    #[serde(default)]
    pub erp: String,
    /// Direction of this field.
    #[serde(default = "default_field_direction")]
    pub direction: Direction,
    /// Translation through a reference.
    #[serde(default)]
    pub lookup: Option<Lookup>,
    /// A constant written to the target column instead of the source value (the direction
    /// says which side is the target).
    #[serde(default)]
    pub constant: Option<serde_json::Value>,
    /// Transformation rules applied to the value on its way, in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// When a lookup cannot be resolved, write null instead of parking/failing the record.
    #[serde(default)]
    pub clear_on_failed_lookup: bool,
    /// A disabled field mapping is ignored.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Value-by-value translation (option sets): `[{ erp = "NET30", crm = 1 }, ...]`. A value
    /// with no entry fails the record, naming the field and the value.
    #[serde(default)]
    pub value_map: Vec<ValueMapEntry>,
    /// Never write null to the target: a blank source value (or a failed lookup with
    /// `clear_on_failed_lookup`) leaves the target's value as it is (Business Central's
    /// "Not Null", which protects `ownerid`).
    #[serde(default)]
    pub not_null: bool,
}

/// One CRM column, or several composed into one ERP field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CrmColumns {
    /// No CRM column (a constant written to the ERP).
    #[serde(skip)]
    None,
    /// A single column.
    One(String),
    /// Several columns, e.g. `["firstname", "lastname"]`.
    Many(Vec<String>),
}

impl CrmColumns {
    /// The columns as a slice.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            CrmColumns::None => vec![],
            CrmColumns::One(c) => vec![c.as_str()],
            CrmColumns::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }

    /// A display name: the column, or the columns joined with `+`.
    pub fn display(&self) -> String {
        self.columns().join("+")
    }
}

impl FieldMapping {
    /// The field's name on `system`'s side, for messages.
    pub fn name_on(&self, system: System) -> String {
        if system.is_crm() {
            self.crm.display()
        } else {
            self.erp.clone()
        }
    }
}

/// One integration table mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableMapping {
    /// Unique name, e.g. `CUSTOMER`.
    pub name: String,
    /// CRM entity set, e.g. `accounts`.
    pub crm_entity: String,
    /// ERP entity set, e.g. `customers`.
    pub erp_entity: String,
    /// Direction of the table.
    pub direction: Direction,
    /// OData filter on CRM records (evaluated on captured rows).
    #[serde(default)]
    pub crm_filter: Option<String>,
    /// OData filter on ERP records.
    #[serde(default)]
    pub erp_filter: Option<String>,
    /// Mappings that must be synchronised first (their couplings resolve this one's lookups).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// CRM natural-key column, looked up before a create so a retry never makes a twin.
    #[serde(default)]
    pub crm_key: Option<String>,
    /// ERP natural-key field.
    #[serde(default)]
    pub erp_key: Option<String>,
    /// Normalise natural keys to lower case before comparing (e-mail addresses).
    #[serde(default)]
    pub key_case_insensitive: bool,
    /// Whose values win when a create finds an existing uncoupled twin.
    #[serde(default = "default_on_match")]
    pub on_match: OnMatch,
    /// What a deletion does.
    #[serde(default = "default_deletion")]
    pub deletion: DeletionPolicy,
    /// The field mappings.
    #[serde(default)]
    pub fields: Vec<FieldMapping>,
}

impl TableMapping {
    /// The entity set on `system`'s side.
    pub fn entity(&self, system: System) -> &str {
        if system.is_crm() {
            &self.crm_entity
        } else {
            &self.erp_entity
        }
    }

    /// The natural-key field on `system`'s side.
    pub fn key(&self, system: System) -> Option<&str> {
        if system.is_crm() {
            self.crm_key.as_deref()
        } else {
            self.erp_key.as_deref()
        }
    }

    /// The table filter on `system`'s side.
    pub fn filter(&self, system: System) -> Option<&str> {
        if system.is_crm() {
            self.crm_filter.as_deref()
        } else {
            self.erp_filter.as_deref()
        }
    }

    /// Enabled field mappings that carry data from `source` to the other side.
    pub fn fields_from(&self, source: System) -> impl Iterator<Item = &FieldMapping> {
        self.fields
            .iter()
            .filter(move |f| f.enabled && f.direction.allows_from(source))
    }
}

fn no_crm_columns() -> CrmColumns {
    CrmColumns::None
}
fn default_true() -> bool {
    true
}
fn default_field_direction() -> Direction {
    Direction::Bidirectional
}
fn default_on_match() -> OnMatch {
    OnMatch::ErpWins
}
fn default_deletion() -> DeletionPolicy {
    DeletionPolicy::RemoveCoupling
}

/// A mapping file: `[[mapping]]` tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    /// The mappings.
    #[serde(rename = "mapping")]
    pub mappings: Vec<TableMapping>,
}
