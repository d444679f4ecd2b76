//! Reading a Dataverse quote as one aggregate: the order code reads the header, its lines,
//! unit names and customer account ([`crate::orders::aggregate::complete_doc`]); a revision
//! adds its Closed predecessors (same quotenumber), a Won quote the order made from it. (An
//! order made from a quote gets the quote's number in
//! [`crate::orders::aggregate::add_quote_number`].)

use serde_json::{Value, json};

use super::{CLOSED, ORDER, PREDECESSORS, QUOTE, WON};
use crate::event::Fields;
use crate::orders::aggregate::{complete_doc, is_complete};
use crate::systems::{DataverseClient, SystemError};

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Adds the lines, unit names, customer account, predecessors (a revision) and order (a Won
/// quote) to an Active or Won quote read from Dataverse; a quote in another state is left as
/// it is.
pub async fn complete(client: &DataverseClient, quote: &mut Fields) -> Result<(), SystemError> {
    if is_complete(quote) {
        return Ok(());
    }
    complete_doc(client, &QUOTE, quote).await?;
    if !is_complete(quote) {
        return Ok(());
    }
    let Some(id) = text(quote, "quoteid").map(str::to_string) else {
        return Ok(());
    };
    let revision = quote
        .get("revisionnumber")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if revision > 0
        && let Some(number) = text(quote, "quotenumber").map(str::to_string)
    {
        let mut rows = client
            .query(
                "quotes",
                &format!(
                    "quotenumber eq {} and statecode eq {CLOSED}",
                    quoted(&number)
                ),
                &["quoteid", "revisionnumber"],
            )
            .await?;
        rows.sort_by_key(|r| {
            std::cmp::Reverse(r.get("revisionnumber").and_then(Value::as_i64).unwrap_or(0))
        });
        let ids: Vec<Value> = rows
            .iter()
            .filter_map(|r| text(r, "quoteid"))
            .filter(|q| !q.eq_ignore_ascii_case(&id))
            .map(|q| json!(q))
            .collect();
        quote.insert(PREDECESSORS.into(), Value::Array(ids));
    }
    if quote.get("statecode").and_then(Value::as_i64) == Some(WON) {
        let orders = client
            .query(
                "salesorders",
                &format!("_quoteid_value eq {id}"),
                &["salesorderid", "ordernumber", "statecode"],
            )
            .await?;
        // The submitted one if any (the one that goes to Business Central), else the first.
        let order = orders
            .iter()
            .find(|o| o.get("statecode").and_then(Value::as_i64) == Some(1))
            .or(orders.first())
            .map(|o| {
                json!({
                    "salesorderid": text(o, "salesorderid"),
                    "ordernumber": text(o, "ordernumber"),
                    "statecode": o.get("statecode").cloned().unwrap_or(Value::Null),
                })
            });
        quote.insert(ORDER.into(), order.unwrap_or(Value::Null));
    }
    Ok(())
}
