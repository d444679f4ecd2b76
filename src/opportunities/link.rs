//! An order or quote made for an opportunity (`opportunityid`) carries the Business Central
//! opportunity's number (the Sales Header's Opportunity No.; `opportunityNumber` is a sandbox
//! extension on `salesOrders` and `salesQuotes`, as a custom API page would expose it). The
//! builder puts the coupled Business Central opportunity's id on the built header
//! ([`OPPORTUNITY`]); the ERP's document writer reads its number.

use serde_json::Value;

use crate::event::Fields;
use crate::event::Side;
use crate::store::{Store, StoreError};

/// On a built order or quote: the id of the coupled Business Central opportunity.
pub const OPPORTUNITY: &str = "@couplet.opportunity";

/// The coupled Business Central opportunity of a Dataverse document's `opportunityid`, if any
/// (an opportunity that is not coupled leaves the field empty: it never blocks the document).
pub fn coupled(store: &Store, doc: &Fields) -> Result<Option<String>, StoreError> {
    let Some(opp) = doc
        .get("_opportunityid_value")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    Ok(store
        .coupling(super::MAPPING, Side::Crm, opp)?
        .map(|c| c.erp_id))
}
