//! Posting item ledger entries: a new `itemLedgerEntries` row, and the item's `inventory`
//! (a FlowField in Business Central) recalculated in place, so the item's
//! `lastModifiedDateTime` and ETag stay as they were, as in a real tenant. A poller on items
//! alone therefore never sees stock move; Couplet reads the ledger for that.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{BcError, timestamp};
use crate::event::Fields;
use crate::sandbox::table::Store;

/// One entry to post.
#[derive(Debug, Clone)]
pub(crate) struct NewEntry<'a> {
    pub item_number: &'a str,
    /// One of [`super::schema_inventory::ENTRY_TYPES`].
    pub entry_type: &'a str,
    /// Signed: negative for sales and negative adjustments.
    pub quantity: f64,
    pub document_number: &'a str,
    pub description: &'a str,
}

/// The next entry number (entries are numbered 1, 2, … in posting order).
fn next_entry_number(store: &Store) -> i64 {
    store
        .table("itemLedgerEntries")
        .map(|t| {
            t.live()
                .iter()
                .filter_map(|(_, r)| r.fields.get("entryNumber").and_then(Value::as_i64))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0)
        + 1
}

/// Whether `item_number` is an item of type Inventory (the only type with stock).
pub(crate) fn tracks_stock(store: &Store, item_number: &str) -> bool {
    store.table("items").is_some_and(|t| {
        t.live().iter().any(|(_, r)| {
            r.fields.get("number").and_then(Value::as_str) == Some(item_number)
                && r.fields.get("type").and_then(Value::as_str) == Some("Inventory")
        })
    })
}

/// Posts `e` at `at`: returns the entry as stored.
pub(crate) fn post(
    store: &mut Store,
    e: &NewEntry<'_>,
    at: DateTime<Utc>,
) -> Result<Fields, BcError> {
    if !super::schema_inventory::ENTRY_TYPES.contains(&e.entry_type) {
        return Err(BcError::bad_request(format!(
            "Entry Type '{}' is not valid; use one of {}.",
            e.entry_type,
            super::schema_inventory::ENTRY_TYPES.join(", ")
        )));
    }
    let Some((item_id, item)) = store.table("items").and_then(|t| {
        t.live()
            .into_iter()
            .find(|(_, r)| r.fields.get("number").and_then(Value::as_str) == Some(e.item_number))
            .map(|(id, r)| (id.to_string(), r.fields.clone()))
    }) else {
        return Err(BcError::bad_request(format!(
            "The Item does not exist. Identification fields and values: No.='{}'",
            e.item_number
        )));
    };
    if item.get("type").and_then(Value::as_str) != Some("Inventory") {
        return Err(BcError::bad_request(format!(
            "Type must be equal to 'Inventory' in Item: No.={}. Current value is '{}'.",
            e.item_number,
            item.get("type").and_then(Value::as_str).unwrap_or("")
        )));
    }
    let unit_cost = item.get("unitCost").and_then(Value::as_f64).unwrap_or(0.0);
    let unit_price = item.get("unitPrice").and_then(Value::as_f64).unwrap_or(0.0);
    let is_sale = e.entry_type == "Sale";
    let entry = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "entryNumber": next_entry_number(store),
        "itemNumber": e.item_number,
        "postingDate": at.format("%Y-%m-%d").to_string(),
        "entryType": e.entry_type,
        "sourceNumber": "",
        "sourceType": if is_sale { "Customer" } else { " " },
        "documentNumber": e.document_number,
        "documentType": if is_sale { "Sales Shipment" } else { " " },
        "description": e.description,
        "quantity": e.quantity,
        "salesAmountActual": if is_sale { round2(-e.quantity * unit_price) } else { 0.0 },
        "costAmountActual": round2(e.quantity * unit_cost),
        "lastModifiedDateTime": timestamp(at),
    });
    let Value::Object(entry) = entry else {
        return Err(BcError::bad_request("internal: the entry is not an object"));
    };
    let id = entry
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let v = store.next_version();
    store
        .table_mut("itemLedgerEntries")
        .put(&id, entry.clone(), v);
    let on_hand = item.get("inventory").and_then(Value::as_f64).unwrap_or(0.0) + e.quantity;
    store
        .table_mut("items")
        .set_in_place(&item_id, "inventory", json!(round5(on_hand)));
    Ok(entry)
}

/// An opening entry ("Positive Adjmt.", document `OPENING`) of an item's stock.
#[derive(Debug, Clone)]
pub(crate) struct Opening<'a> {
    /// Entries are numbered 1, 2, … in posting order.
    pub entry_number: i64,
    /// The item.
    pub item_number: &'a str,
    /// Its stock.
    pub quantity: f64,
    /// Its unit cost (the entry's cost amount is quantity × unit cost).
    pub unit_cost: f64,
    /// The item's own `lastModifiedDateTime`: the entry's stamp and posting date, so every
    /// seeded item's `inventory` is the sum of its entries as in a real tenant.
    pub at: &'a str,
}

/// Stores opening entry `e` with id `id` (seeding).
pub(crate) fn put_opening(bc: &mut Store, id: &str, e: &Opening<'_>) {
    let entry = json!({
        "id": id, "entryNumber": e.entry_number, "itemNumber": e.item_number,
        "postingDate": e.at.get(..10).unwrap_or(""), "entryType": "Positive Adjmt.",
        "sourceNumber": "", "sourceType": " ", "documentNumber": "OPENING", "documentType": " ",
        "description": "Opening balance", "quantity": e.quantity, "salesAmountActual": 0.0,
        "costAmountActual": round2(e.quantity * e.unit_cost), "lastModifiedDateTime": e.at,
    });
    if let Value::Object(f) = entry {
        let v = bc.next_version();
        bc.table_mut("itemLedgerEntries").put(id, f, v);
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round5(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with_item(inventory: f64) -> Store {
        let mut s = Store::default();
        let v = s.next_version();
        let item = json!({"id": "i1", "number": "I00001", "type": "Inventory", "inventory": inventory,
            "unitCost": 2.0, "unitPrice": 3.0, "lastModifiedDateTime": "2026-01-01T00:00:00.000Z"});
        s.table_mut("items")
            .put("i1", item.as_object().cloned().unwrap_or_default(), v);
        s
    }

    fn entry<'a>(q: f64, t: &'a str) -> NewEntry<'a> {
        NewEntry {
            item_number: "I00001",
            entry_type: t,
            quantity: q,
            document_number: "D1",
            description: "",
        }
    }

    #[test]
    fn posting_moves_inventory_but_not_the_items_version_or_modified_on() {
        let mut s = store_with_item(10.0);
        let before = s
            .table("items")
            .and_then(|t| t.get("i1"))
            .map(|r| r.version);
        let e1 = post(&mut s, &entry(5.0, "Positive Adjmt."), Utc::now()).unwrap();
        let e2 = post(&mut s, &entry(-3.0, "Sale"), Utc::now()).unwrap();
        assert_eq!(e1["entryNumber"], json!(1));
        assert_eq!(e2["entryNumber"], json!(2));
        assert_eq!(e2["salesAmountActual"], json!(9.0));
        let item = s.table("items").and_then(|t| t.get("i1")).unwrap();
        assert_eq!(item.fields["inventory"], json!(12.0));
        assert_eq!(Some(item.version), before);
        assert_eq!(
            item.fields["lastModifiedDateTime"],
            json!("2026-01-01T00:00:00.000Z")
        );
        assert_eq!(
            s.table("itemLedgerEntries").map(|t| t.live().len()),
            Some(2)
        );
    }

    #[test]
    fn unknown_items_and_entry_types_are_refused() {
        let mut s = store_with_item(0.0);
        let mut e = entry(1.0, "Positive Adjmt.");
        e.item_number = "NOPE";
        assert!(
            post(&mut s, &e, Utc::now())
                .unwrap_err()
                .message
                .contains("No.='NOPE'")
        );
        assert!(post(&mut s, &entry(1.0, "Gift"), Utc::now()).is_err());
    }
}
