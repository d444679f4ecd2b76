//! Reading a Dataverse order as one aggregate: the header, its lines in `sequencenumber`
//! order, each line's unit name, and the account its polymorphic customer resolves to.

use serde_json::Value;

use super::{CUSTOMER_ACCOUNT, LINES, UOM_NAME};
use crate::event::Fields;
use crate::quotes::ORDER_QUOTE_NUMBER;
use crate::systems::{DataverseClient, SystemError};

/// The lookup-logical-name annotation Dataverse puts on polymorphic lookup values.
pub const LOGICAL: &str = "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname";

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// True when `order` was read as an aggregate already.
pub fn is_complete(order: &Fields) -> bool {
    order.contains_key(LINES)
}

/// Adds the lines, unit names and resolved customer account to a submitted order read from
/// Dataverse (an order in another state is left as it is: it is not created in Business
/// Central). The customer is resolved, never guessed: a contact customer is read for its
/// parent account; a contact without one leaves [`CUSTOMER_ACCOUNT`] empty.
pub async fn complete(client: &DataverseClient, order: &mut Fields) -> Result<(), SystemError> {
    complete_doc(client, &super::kind::ORDER, order).await?;
    // An order made from a quote names the quote's number (its Business Central quote's key).
    add_quote_number(client, order).await
}

/// [`complete`] for a document of `kind` (an order or a quote), read whole in `kind.states`.
pub async fn complete_doc(
    client: &DataverseClient,
    kind: &super::kind::DocKind,
    order: &mut Fields,
) -> Result<(), SystemError> {
    let state = order.get("statecode").and_then(Value::as_i64);
    if is_complete(order) || !state.is_some_and(|s| kind.states.contains(&s)) {
        return Ok(());
    }
    let Some(id) = text(order, kind.id).map(str::to_string) else {
        return Ok(());
    };
    let mut lines = client
        .query(
            kind.lines_set,
            &format!("{} eq {id}", kind.line_parent),
            &[],
        )
        .await?;
    lines.sort_by(|a, b| {
        let k = |f: &Fields| {
            f.get("sequencenumber")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX)
        };
        k(a).cmp(&k(b))
            .then_with(|| text(a, kind.line_id).cmp(&text(b, kind.line_id)))
    });
    for line in &mut lines {
        if let Some(uom) = text(line, "_uomid_value").map(str::to_string)
            && let Some(u) = client.get("uoms", &uom, &["name"]).await?
            && let Some(name) = text(&u, "name")
        {
            line.insert(UOM_NAME.into(), Value::String(name.to_string()));
        }
    }
    order.insert(
        LINES.into(),
        Value::Array(lines.into_iter().map(Value::Object).collect()),
    );
    let customer = text(order, "_customerid_value").map(str::to_string);
    let account = match (customer, text(order, LOGICAL)) {
        (Some(c), Some("account")) => Some(c),
        (Some(c), Some("contact")) => client
            .get("contacts", &c, &["_parentcustomerid_value"])
            .await?
            .and_then(|ct| {
                let logical = text(
                    &ct,
                    "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname",
                );
                // A contact whose parent is another contact has no account.
                (logical.is_none() || logical == Some("account"))
                    .then(|| text(&ct, "_parentcustomerid_value").map(str::to_string))
                    .flatten()
            }),
        _ => None,
    };
    order.insert(
        CUSTOMER_ACCOUNT.into(),
        account.map(Value::String).unwrap_or(Value::Null),
    );
    Ok(())
}

/// On a submitted order read whole: the quotenumber of the quote it was made from
/// (`quoteid`), so the order's creation can find that quote in Business Central.
pub async fn add_quote_number(
    client: &DataverseClient,
    order: &mut Fields,
) -> Result<(), SystemError> {
    if !is_complete(order) || order.contains_key(ORDER_QUOTE_NUMBER) {
        return Ok(());
    }
    let Some(quote) = text(order, "_quoteid_value").map(str::to_string) else {
        return Ok(());
    };
    let number = client
        .get("quotes", &quote, &["quotenumber"])
        .await?
        .and_then(|q| text(&q, "quotenumber").map(str::to_string));
    order.insert(
        ORDER_QUOTE_NUMBER.into(),
        number.map(Value::String).unwrap_or(Value::Null),
    );
    Ok(())
}
