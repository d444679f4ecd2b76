//! Reading a coupled Business Central order whole (the order flow calls this before deciding):
//! the header as it is now, its lines, and its posted shipments and invoices by order number.
//! An order no longer in Business Central (deleted after posting) keeps the fields of the
//! event (at least its `number`) and is marked [`DELETED`].

use serde_json::Value;

use crate::event::Fields;
use crate::orders::back::{DELETED, INVOICES, LINES, SHIPMENTS};
use crate::systems::{BcClient, SystemError};

fn text(f: &Fields, k: &str) -> String {
    f.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn array(rows: Vec<Fields>) -> Value {
    Value::Array(rows.into_iter().map(Value::Object).collect())
}

/// An OData string literal.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// Completes `order` (the event's fields of `salesOrders({id})`) with the current header, the
/// lines and the posted documents.
pub async fn complete(client: &BcClient, id: &str, order: &mut Fields) -> Result<(), SystemError> {
    match client.get("salesOrders", id).await? {
        Some(header) => {
            order.extend(header);
            let mut lines = client
                .query(
                    &format!("salesOrders({id})/salesOrderLines"),
                    "sequence gt 0",
                )
                .await?;
            lines.sort_by(|a, b| {
                let k = |f: &Fields| f.get("sequence").and_then(Value::as_f64).unwrap_or(0.0);
                k(a).total_cmp(&k(b))
            });
            order.insert(LINES.into(), array(lines));
            order.insert(DELETED.into(), Value::Bool(false));
        }
        None => {
            order.insert(DELETED.into(), Value::Bool(true));
        }
    }
    let number = text(order, "number");
    if number.is_empty() {
        return Ok(());
    }
    let by_order = format!("orderNumber eq {}", literal(&number));
    let mut shipments = client.query("salesShipments", &by_order).await?;
    shipments.sort_by_key(|s| text(s, "number"));
    order.insert(SHIPMENTS.into(), array(shipments));
    let mut invoices = client.query("salesInvoices", &by_order).await?;
    invoices.sort_by_key(|s| text(s, "number"));
    order.insert(INVOICES.into(), array(invoices));
    Ok(())
}
