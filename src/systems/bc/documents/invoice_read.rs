//! Reading a Business Central posted invoice as one aggregate: the header and its lines in
//! `sequence` order (`salesInvoices({id})/salesInvoiceLines`).

use serde_json::Value;

use crate::event::Fields;
use crate::invoices::LINES;
use crate::invoices::aggregate::is_complete;
use crate::systems::{BcClient, SystemError};

/// Adds the lines to an invoice read from Business Central (nothing when it has them).
pub async fn complete(client: &BcClient, invoice: &mut Fields) -> Result<(), SystemError> {
    if is_complete(invoice) {
        return Ok(());
    }
    let Some(id) = invoice
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
    else {
        return Ok(());
    };
    let mut lines = client
        .query(
            &format!("salesInvoices({id})/salesInvoiceLines"),
            "sequence ge 0",
        )
        .await?;
    lines.sort_by_key(|l| l.get("sequence").and_then(Value::as_f64).unwrap_or(0.0) as i64);
    invoice.insert(
        LINES.into(),
        Value::Array(lines.into_iter().map(Value::Object).collect()),
    );
    Ok(())
}
