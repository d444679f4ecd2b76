//! A Business Central sales order in words, for `couplet orders create-in-erp`: the header
//! (number, customer, Your Reference, External Document No.), one row per line and the totals.

use serde_json::Value;

use crate::event::Fields;
use crate::systems::{BcClient, SystemError};

fn show(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// The rows describing `salesOrders({id})`, or `None` when it is not in Business Central.
pub async fn order(client: &BcClient, id: &str) -> Result<Option<Vec<String>>, SystemError> {
    let Some(header) = client.get("salesOrders", id).await? else {
        return Ok(None);
    };
    let mut out = vec![format!(
        "Business Central sales order {} (customer {}, your reference {}, external document {}):",
        show(header.get("number")),
        show(header.get("customerNumber")),
        show(header.get("yourReference")),
        show(header.get("externalDocumentNumber")),
    )];
    let mut lines = client
        .query(
            &format!("salesOrders({id})/{}", super::build::ORDER_LINES),
            "sequence gt 0",
        )
        .await?;
    let seq = |l: &Fields| l.get("sequence").and_then(Value::as_f64).unwrap_or(0.0);
    lines.sort_by(|a, b| seq(a).total_cmp(&seq(b)));
    for l in &lines {
        out.push(format!(
            "  {:>6} {:<8} {:<12} {:>8} x {:>10} = {:>10}  {}",
            seq(l),
            show(l.get("lineType")),
            show(l.get("lineObjectNumber")),
            show(l.get("quantity")),
            show(l.get("unitPrice")),
            show(l.get("amountExcludingTax")),
            show(l.get("description")),
        ));
    }
    let amount: f64 = lines
        .iter()
        .filter_map(|l| l.get("amountExcludingTax").and_then(Value::as_f64))
        .sum();
    out.push(format!(
        "{} line(s); lines excl. tax {amount:.2}; invoice discount {}",
        lines.len(),
        header
            .get("discountAmount")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    ));
    Ok(Some(out))
}
