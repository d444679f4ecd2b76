//! The Opportunity No. of an order or quote made for an opportunity: the builder puts the
//! coupled Business Central opportunity's id on the built header (`OPPORTUNITY`); this reads
//! its number (`opportunityNumber` is a sandbox extension on `salesOrders` and `salesQuotes`,
//! as a custom API page would expose it).

use serde_json::{Value, json};

use crate::event::Fields;
use crate::opportunities::link::OPPORTUNITY;
use crate::systems::{BcClient, SystemError};

/// Replaces [`OPPORTUNITY`] on a header by `opportunityNumber`, read from Business Central.
pub async fn resolve(bc: &BcClient, header: &mut Fields) -> Result<(), SystemError> {
    let Some(Value::String(id)) = header.remove(OPPORTUNITY) else {
        return Ok(());
    };
    if let Some(o) = bc.get("opportunities", &id).await?
        && let Some(n) = o.get("number").and_then(Value::as_str)
    {
        header.insert("opportunityNumber".into(), json!(n));
    }
    Ok(())
}
