//! Business Central API v2.0 `itemLedgerEntries` (read-only, as in the API): what changes an
//! item's inventory. `items.inventory` is a FlowField over these entries in Business Central,
//! so posting one changes the item's `inventory` without touching its `lastModifiedDateTime`
//! or its ETag; the sandbox keeps that behaviour (see [`super::inventory`]).

use super::schema::{EntityDef, Kind, ro};

/// Entry types of the Item Ledger Entry Type enum that the sandbox posts.
pub(crate) const ENTRY_TYPES: &[&str] = &[
    "Purchase",
    "Sale",
    "Positive Adjmt.",
    "Negative Adjmt.",
    "Transfer",
];

pub(crate) static ITEM_LEDGER_ENTRY: EntityDef = EntityDef {
    set: "itemLedgerEntries",
    type_name: "itemLedgerEntry",
    table: "Item Ledger Entry",
    number: ("entryNumber", ""),
    columns: &[
        ro("id", Kind::Guid),
        ro("entryNumber", Kind::Number),
        ro("itemNumber", Kind::Text(20)),
        ro("postingDate", Kind::DateTime),
        ro("entryType", Kind::Enum(ENTRY_TYPES)),
        ro("sourceNumber", Kind::Text(20)),
        ro("sourceType", Kind::Text(20)),
        ro("documentNumber", Kind::Text(20)),
        ro("documentType", Kind::Text(30)),
        ro("description", Kind::Text(100)),
        ro("quantity", Kind::Number),
        ro("salesAmountActual", Kind::Number),
        ro("costAmountActual", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// Entity sets the API serves read-only (GET only).
pub(crate) const READ_ONLY_SETS: &[&str] = &["itemLedgerEntries"];
