//! What a system's metadata says about one entity: its fields, their types and whether they
//! can be written. Read from Dataverse `EntityDefinitions(…)/Attributes` and Business
//! Central's `$metadata`; used by `couplet mappings validate`.

use crate::event::System;

/// One field (Dataverse attribute, Business Central property).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// Logical name (Dataverse) or property name (Business Central).
    pub name: String,
    /// The type as the metadata names it (`String`, `Lookup`, `Edm.Decimal`, …).
    pub kind: String,
    /// False for read-only fields (computed, not valid for create or update).
    pub writable: bool,
}

/// One entity's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySchema {
    /// Which system.
    pub system: System,
    /// The entity set, e.g. `accounts`, `customers`.
    pub set: String,
    /// The type's name: the Dataverse logical name (`account`) or the BC type (`customer`).
    pub type_name: String,
    /// Its fields, in the metadata's order.
    pub fields: Vec<FieldInfo>,
}

impl EntitySchema {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// True when `name` is a lookup (Dataverse `Lookup`, `Customer` or `Owner`).
    pub fn is_lookup(&self, name: &str) -> bool {
        self.field(name)
            .is_some_and(|f| matches!(f.kind.as_str(), "Lookup" | "Customer" | "Owner"))
    }

    /// The field names, comma-separated, for messages.
    pub fn names(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
