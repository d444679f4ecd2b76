//! Timeline posts, written once each: the posts on a Dataverse record's wall are read first,
//! and a post is created only when no post regarding that record carries its text yet (the
//! text names the Business Central document number, so it is the post's key). Used for the
//! order's own timeline and for its account's wall.

use serde_json::{Value, json};

use crate::event::Fields;
use crate::metrics::metrics;
use crate::orders::aggregate::LOGICAL;
use crate::systems::{DataverseClient, SystemError};

/// Where a post goes: the entity set and the `regardingobjectid` navigation property.
#[derive(Debug, Clone, Copy)]
pub struct Wall {
    /// `salesorders` or `accounts`.
    pub set: &'static str,
    /// `regardingobjectid_salesorder` or `regardingobjectid_account`.
    pub nav: &'static str,
}

/// The order's own timeline.
pub const ORDER_WALL: Wall = Wall {
    set: "salesorders",
    nav: "regardingobjectid_salesorder",
};
/// The account's wall.
pub const ACCOUNT_WALL: Wall = Wall {
    set: "accounts",
    nav: "regardingobjectid_account",
};

/// Creates the posts of `wanted` that the wall of `set(id)` does not carry yet; returns how
/// many were created. `mapping` labels the metric.
pub async fn ensure(
    dv: &DataverseClient,
    wall: Wall,
    id: &str,
    wanted: &[String],
    mapping: &str,
) -> Result<usize, SystemError> {
    if wanted.is_empty() {
        return Ok(0);
    }
    let existing: Vec<String> = dv
        .query(
            "posts",
            &format!("_regardingobjectid_value eq {id}"),
            &["text"],
        )
        .await?
        .iter()
        .filter_map(|r| r.get("text").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut posted = 0;
    for text in wanted.iter().filter(|t| !existing.contains(t)) {
        let mut body = Fields::new();
        body.insert("text".into(), json!(text));
        body.insert("source".into(), json!(1));
        body.insert("type".into(), json!(7));
        body.insert(
            format!("{}@odata.bind", wall.nav),
            json!(format!("/{}({id})", wall.set)),
        );
        dv.create("posts", &body).await?;
        metrics()
            .records
            .with_label_values(&[mapping, "order_post", "created"])
            .inc();
        tracing::info!(post = %text, wall = wall.set, record = id, "Posted.");
        posted += 1;
    }
    Ok(posted)
}

/// The account an order is for: its customer when that is an account, else the customer
/// contact's parent account (none for a contact without one).
pub async fn account_of(
    dv: &DataverseClient,
    order: &Fields,
) -> Result<Option<String>, SystemError> {
    let text = |f: &Fields, k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(customer) = text(order, "_customerid_value") else {
        return Ok(None);
    };
    match text(order, LOGICAL).as_deref() {
        Some("account") => Ok(Some(customer)),
        Some("contact") => Ok(dv
            .get("contacts", &customer, &["_parentcustomerid_value"])
            .await?
            .and_then(|c| {
                let parent = text(&c, "_parentcustomerid_value")?;
                (text(
                    &c,
                    "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname",
                )
                .as_deref()
                    == Some("account"))
                .then_some(parent)
            })),
        _ => Ok(None),
    }
}
