//! Business Central's checks on sales orders and their lines, with its error shapes: a
//! customer must be given and exist and not be blocked (`All`), an item line's item must exist,
//! a line quantity must be positive, and a line belongs to an existing order.

use axum::http::StatusCode;
use serde_json::Value;

use super::BcError;
use super::write::{EMPTY_GUID, find_by, not_in_related};
use crate::event::Fields;
use crate::sandbox::table::Store;

fn text(f: &Fields, k: &str) -> String {
    f.get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn guid(f: &Fields, k: &str) -> Option<String> {
    let v = text(f, k);
    (!v.is_empty() && v != EMPTY_GUID).then_some(v)
}

fn dialog(message: String) -> BcError {
    BcError::new(
        StatusCode::BAD_REQUEST,
        "Application_DialogException",
        message,
    )
}

/// Sell-to customer, currency and defaults of a sales order header.
pub(crate) fn relate_order(
    store: &Store,
    fields: &mut Fields,
    changes: &Fields,
) -> Result<(), BcError> {
    let customer = match (guid(fields, "customerId"), text(fields, "customerNumber")) {
        (Some(id), _) => store
            .table("customers")
            .and_then(|t| t.get(&id))
            .map(|r| r.fields.clone())
            .ok_or_else(|| {
                not_in_related("Sell-to Customer No.", "Sales Header", &id, "Customer")
            })?,
        (None, n) if !n.is_empty() => find_by(store, "customers", "number", &n)
            .map(|(_, f)| f)
            .ok_or_else(|| {
                not_in_related("Sell-to Customer No.", "Sales Header", &n, "Customer")
            })?,
        _ => {
            return Err(dialog(
                "A customerNumber or a customerID must be provided.".into(),
            ));
        }
    };
    let number = text(&customer, "number");
    if text(&customer, "blocked") == "All" {
        return Err(dialog(format!(
            "You cannot create this type of document when Customer {number} is blocked with type All"
        )));
    }
    fields.insert(
        "customerId".into(),
        customer.get("id").cloned().unwrap_or(Value::Null),
    );
    fields.insert("customerNumber".into(), Value::String(number));
    fields.insert(
        "customerName".into(),
        Value::String(text(&customer, "displayName")),
    );
    if changes.contains_key("currencyCode") || !changes.contains_key("currencyId") {
        let code = text(fields, "currencyCode").to_ascii_uppercase();
        let cid = if code.is_empty() {
            EMPTY_GUID.to_string()
        } else {
            find_by(store, "currencies", "code", &code)
                .map(|(cid, _)| cid)
                .ok_or_else(|| not_in_related("Currency Code", "Sales Header", &code, "Currency"))?
        };
        fields.insert("currencyCode".into(), Value::String(code));
        fields.insert("currencyId".into(), Value::String(cid));
    }
    if text(fields, "status").is_empty() {
        fields.insert("status".into(), Value::String("Draft".into()));
    }
    if fields.get("orderDate").is_none_or(Value::is_null) {
        fields.insert(
            "orderDate".into(),
            Value::String(chrono::Utc::now().format("%Y-%m-%d").to_string()),
        );
    }
    Ok(())
}

/// The order, item and quantity of a sales order line.
pub(crate) fn relate_line(store: &Store, fields: &mut Fields) -> Result<(), BcError> {
    relate_line_in(store, fields, "salesOrders", "Order")
}

/// The document (in `header_set`, of Document Type `doc_type`), item and quantity of a line.
pub(crate) fn relate_line_in(
    store: &Store,
    fields: &mut Fields,
    header_set: &str,
    doc_type: &str,
) -> Result<(), BcError> {
    let doc = text(fields, "documentId");
    let order = store
        .table(header_set)
        .and_then(|t| t.get(&doc))
        .map(|r| r.fields.clone())
        .ok_or_else(|| BcError::not_found("Sales Header", &doc))?;
    let line_type = text(fields, "lineType");
    let sequence = fields
        .get("sequence")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let at = format!(
        "Sales Line: Document Type={doc_type}, Document No.={}, Line No.={sequence}",
        text(&order, "number")
    );
    match line_type.as_str() {
        "Item" => {
            let item = match (guid(fields, "itemId"), text(fields, "lineObjectNumber")) {
                (Some(id), _) => store
                    .table("items")
                    .and_then(|t| t.get(&id))
                    .map(|r| r.fields.clone())
                    .ok_or_else(|| not_in_related("No.", "Sales Line", &id, "Item"))?,
                (None, n) if !n.is_empty() => find_by(store, "items", "number", &n)
                    .map(|(_, f)| f)
                    .ok_or_else(|| not_in_related("No.", "Sales Line", &n, "Item"))?,
                _ => return Err(dialog(format!("No. must have a value in {at}"))),
            };
            fields.insert(
                "itemId".into(),
                item.get("id").cloned().unwrap_or(Value::Null),
            );
            fields.insert(
                "lineObjectNumber".into(),
                Value::String(text(&item, "number")),
            );
            if text(fields, "description").is_empty() {
                fields.insert(
                    "description".into(),
                    Value::String(text(&item, "displayName")),
                );
            }
            if text(fields, "unitOfMeasureCode").is_empty() {
                fields.insert(
                    "unitOfMeasureCode".into(),
                    Value::String(text(&item, "baseUnitOfMeasureCode")),
                );
            }
        }
        "Account" | "Resource" if text(fields, "lineObjectNumber").is_empty() => {
            return Err(dialog(format!("No. must have a value in {at}")));
        }
        _ => {}
    }
    if line_type != "Comment" {
        let qty = fields
            .get("quantity")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        if qty <= 0.0 {
            return Err(BcError::new(
                StatusCode::BAD_REQUEST,
                "Application_FieldValidationException",
                format!("The field Quantity of table Sales Line must be positive ({qty}) in {at}."),
            ));
        }
        let price = fields
            .get("unitPrice")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let discount = fields
            .get("discountAmount")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let amount = ((qty * price - discount) * 100.0).round() / 100.0;
        fields.insert("amountExcludingTax".into(), Value::from(amount));
    }
    Ok(())
}
