//! The transform's decision for a change of a Business Central order: skip it (not from
//! Sales, deleted without posting, nothing new), or a command that brings the coupled
//! Dataverse order in step: header values, timeline posts and state.

use crate::transform::decision::write_command;
use serde_json::{Value, json};

use super::{ACCOUNT_POSTS, DELETED, INVOICES, LINES, POSTS, SHIPMENTS};
use crate::event::Side;
use crate::event::{ChangeEvent, Fields, Outcome, OutcomeStatus, WriteOp};
use crate::mapping::model::TableMapping;
use crate::store::{Coupling, Store};
use crate::transform::fields::waiting_key;
use crate::transform::hash::content_hash;
use crate::transform::{Decision, TransformError};

/// Dataverse salesorder states and the status reasons Couplet sets.
pub mod state {
    /// Submitted / In Progress.
    pub const SUBMITTED: (i64, i64) = (1, 3);
    /// Fulfilled / Complete.
    pub const FULFILLED: (i64, i64) = (3, 100001);
    /// Invoiced / Invoiced.
    pub const INVOICED: (i64, i64) = (4, 100003);
}

/// The post written when the order is released.
pub const RELEASED_TEXT: &str = "The order status has changed to Released.";
/// The post written for each posted shipment.
pub const SHIPMENT_TEXT: &str = "A shipment has been created for the order.";
/// The post written for each posted invoice.
pub const INVOICE_TEXT: &str = "An invoice has been created for the order.";

fn text(f: &Fields, k: &str) -> String {
    f.get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn rows<'a>(f: &'a Fields, k: &str) -> Vec<&'a Fields> {
    f.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

/// A Business Central date (`2024-05-31`, or a timestamp) as a Dataverse date; BC's blank date
/// (`0001-01-01`) is none.
fn date(f: &Fields, k: &str) -> Option<String> {
    let v = text(f, k);
    let d = v.get(..10)?;
    (chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() && !d.starts_with("0001-"))
        .then(|| d.to_string())
}

/// The posts the order's timeline carries for this Business Central order: its release, each
/// posted shipment and each posted invoice, each naming the BC document number (which makes a
/// post's text its key).
pub fn posts(order: &Fields) -> Vec<String> {
    let number = text(order, "number");
    let shipments = rows(order, SHIPMENTS);
    let invoices = rows(order, INVOICES);
    let deleted = order.get(DELETED).and_then(Value::as_bool) == Some(true);
    let mut out = Vec::new();
    if text(order, "status") == "Released" || deleted || !shipments.is_empty() {
        out.push(format!(
            "{RELEASED_TEXT} Business Central sales order {number}."
        ));
    }
    for s in shipments {
        out.push(format!(
            "{SHIPMENT_TEXT} Business Central posted shipment {} (sales order {number}).",
            text(s, "number")
        ));
    }
    for i in invoices {
        out.push(format!(
            "{INVOICE_TEXT} Business Central posted invoice {} (sales order {number}).",
            text(i, "number")
        ));
    }
    out
}

/// The posts on the account's wall: one per posted invoice of the order, as Business Central
/// posts "Order '…' has been posted in Business Central" on the customer's account.
pub fn account_posts(order: &Fields) -> Vec<String> {
    let number = text(order, "number");
    rows(order, INVOICES)
        .into_iter()
        .map(|i| {
            format!(
                "Order '{number}' has been posted in Business Central (posted invoice {}).",
                text(i, "number")
            )
        })
        .collect()
}

/// The Dataverse state the order follows: Invoiced once posted invoices cover every line (or
/// the order was deleted after posting), else Fulfilled when completely shipped, else
/// Submitted.
pub fn target_state(order: &Fields) -> (i64, i64) {
    let deleted = order.get(DELETED).and_then(Value::as_bool) == Some(true);
    let invoiced = !rows(order, INVOICES).is_empty();
    let lines: Vec<&Fields> = rows(order, LINES)
        .into_iter()
        .filter(|l| text(l, "lineType") != "Comment" && num(l, "quantity") > 0.0)
        .collect();
    let all_invoiced = !lines.is_empty()
        && lines
            .iter()
            .all(|l| num(l, "invoicedQuantity") >= num(l, "quantity"));
    if invoiced && (deleted || all_invoiced) {
        state::INVOICED
    } else if order.get("fullyShipped").and_then(Value::as_bool) == Some(true)
        || (deleted && !rows(order, SHIPMENTS).is_empty())
    {
        state::FULFILLED
    } else {
        state::SUBMITTED
    }
}

/// The Dataverse order as the Business Central order implies it: header values of a released
/// order (SALESORDER-ORDER: Last Shipment Date → `datefulfilled`, Requested Delivery Date →
/// `requestdeliveryby`, Amount → `totalamountlessfreight`, Amount Including VAT →
/// `totalamount`), [`POSTS`], `statecode` and `statuscode`.
pub fn desired(order: &Fields) -> Fields {
    let mut out = Fields::new();
    let deleted = order.get(DELETED).and_then(Value::as_bool) == Some(true);
    if !deleted && text(order, "status") == "Released" {
        if let Some(d) = date(order, "lastShipmentDate") {
            out.insert("datefulfilled".into(), json!(d));
        }
        if let Some(d) = date(order, "requestedDeliveryDate") {
            out.insert("requestdeliveryby".into(), json!(d));
        }
        for (dv, bc) in [
            ("totalamountlessfreight", "totalAmountExcludingTax"),
            ("totalamount", "totalAmountIncludingTax"),
        ] {
            if let Some(v) = order.get(bc).filter(|v| v.is_number()) {
                out.insert(dv.into(), v.clone());
            }
        }
    }
    out.insert(POSTS.into(), json!(posts(order)));
    out.insert(ACCOUNT_POSTS.into(), json!(account_posts(order)));
    let (statecode, statuscode) = target_state(order);
    out.insert("statecode".into(), json!(statecode));
    out.insert("statuscode".into(), json!(statuscode));
    out
}

/// Decides for a change of Business Central order `ev` (read whole by [`super::read`] when
/// coupled).
pub fn decide(
    store: &Store,
    ev: &ChangeEvent,
    m: &TableMapping,
    coupling: Option<Coupling>,
) -> Result<Decision, TransformError> {
    let record = ev.source.to_string();
    let t = m.system(crate::event::Side::Crm);
    let number = text(&ev.fields, "number");
    let deleted = ev.fields.get(DELETED).and_then(Value::as_bool) == Some(true);
    if !number.is_empty() && !deleted {
        // Posted invoices of an order deleted after posting name it by number only.
        store.index_put(
            m.system(crate::event::Side::Erp),
            &m.erp_entity,
            "number",
            &number,
            &ev.source.id,
        )?;
    }
    let skip = |status, target: Option<String>, reason: String| {
        Decision::Skip(Outcome::for_event(
            ev,
            t,
            &m.crm_entity,
            target,
            status,
            Some(reason),
        ))
    };
    let Some(c) = coupling else {
        // An order Couplet is creating right now, whose coupling is not recorded yet (a
        // shipment posted seconds after the order was made): its Your Reference is the number
        // of a Dataverse order Couplet captured. It waits for the coupling instead of being
        // taken for an order that did not come from Sales.
        let your_ref = text(&ev.fields, "yourReference");
        if !your_ref.is_empty()
            && !deleted
            && let Some(key) = m.key(Side::Crm)
            && let Some(dv_order) = store.index_id(t, &m.crm_entity, key, &your_ref)?
        {
            let outcome = |status, target: Option<String>, reason: String| {
                Outcome::for_event(ev, t, &m.crm_entity, target, status, Some(reason))
            };
            return Ok(crate::transform::document::park(
                ev,
                m,
                waiting_key(
                    &m.name,
                    m.system(crate::event::Side::Erp),
                    None,
                    &ev.source.id,
                ),
                &format!(
                    "its Your Reference {your_ref} is the Dataverse order {}/{dv_order}, whose coupling to this order is not recorded yet",
                    m.crm_entity
                ),
                outcome,
            ));
        }
        return Ok(skip(
            OutcomeStatus::Filtered,
            None,
            format!(
                "{record} did not come from Sales (it is not coupled by {}); only orders created from Dynamics 365 Sales are synchronised back",
                m.name
            ),
        ));
    };
    if deleted && rows(&ev.fields, INVOICES).is_empty() {
        return Ok(skip(
            OutcomeStatus::Filtered,
            Some(c.crm_id.clone()),
            format!(
                "{record} no longer exists in Business Central and has no posted invoice; the Dataverse order salesorders/{} is left as it is",
                c.crm_id
            ),
        ));
    }
    // Always a command: apply compares with the Dataverse order as it is now (a user may have
    // changed it since), writes only what differs and never posts twice.
    let fields = desired(&ev.fields);
    let hash = content_hash(&fields);
    Ok(Decision::Write(write_command(
        ev,
        m,
        t,
        Some(c.crm_id.clone()),
        WriteOp::Update,
        fields,
        hash,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn states_posts_and_header() {
        let open = obj(json!({"number": "S-ORD000001", "status": "Open",
            "couplet_lines": [{"lineType": "Item", "quantity": 2, "shippedQuantity": 0}]}));
        let d = desired(&open);
        assert_eq!(d["statecode"], json!(1));
        assert_eq!(d[POSTS], json!([]));
        assert!(!d.contains_key("totalamount"));

        let shipped = obj(json!({"number": "S-ORD000001", "status": "Released",
            "fullyShipped": true, "lastShipmentDate": "2026-12-02",
            "requestedDeliveryDate": "0001-01-01", "totalAmountIncludingTax": 30.0,
            "couplet_lines": [{"lineType": "Item", "quantity": 2, "shippedQuantity": 2}],
            "couplet_shipments": [{"number": "S-SHP000001"}, {"number": "S-SHP000002"}]}));
        let d = desired(&shipped);
        assert_eq!(
            (d["statecode"].clone(), d["statuscode"].clone()),
            (json!(3), json!(100001))
        );
        assert_eq!(d["datefulfilled"], json!("2026-12-02"));
        assert!(!d.contains_key("requestdeliveryby"));
        assert_eq!(d["totalamount"], json!(30.0));
        let posts = d[POSTS].as_array().unwrap();
        assert_eq!(posts.len(), 3);
        assert!(posts[2].as_str().unwrap().contains("S-SHP000002"));

        let gone = obj(
            json!({"number": "S-ORD000001", "couplet_order_deleted": true,
            "couplet_shipments": [{"number": "S-SHP000001"}],
            "couplet_invoices": [{"number": "PS-INV103001"}]}),
        );
        let d = desired(&gone);
        assert_eq!(d["statecode"], json!(4));
        assert!(!d.contains_key("datefulfilled"));
        assert!(d[POSTS][2].as_str().unwrap().starts_with(INVOICE_TEXT));
        let on_account = d[ACCOUNT_POSTS].as_array().unwrap();
        assert_eq!(on_account.len(), 1);
        assert!(
            on_account[0]
                .as_str()
                .unwrap()
                .contains("Order 'S-ORD000001' has been posted in Business Central")
        );
    }

    #[test]
    fn an_uncoupled_order_waits_when_it_names_a_captured_sales_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let m = crate::mapping::Catalogue::defaults()
            .unwrap()
            .get("SALESORDER")
            .unwrap()
            .clone();
        let ev = |your_ref: &str| {
            ChangeEvent::new(
                "SALESORDER",
                crate::event::RecordKey::new(crate::systems::BC, "salesOrders", "b1"),
                crate::event::ChangeOp::Upsert,
                None,
                None,
                obj(json!({"id": "b1", "number": "S-ORD000009", "yourReference": your_ref})),
            )
        };
        // Not a number Couplet captured in Dataverse: a Business Central order of its own.
        let d = decide(&store, &ev("PO-77"), &m, None).unwrap();
        assert!(matches!(d, Decision::Skip(ref o) if o.status == OutcomeStatus::Filtered));
        // The number of a captured Dataverse order: Couplet is creating it; wait.
        store
            .index_put(
                crate::systems::DATAVERSE,
                "salesorders",
                "ordernumber",
                "ORD-1",
                "d1",
            )
            .unwrap();
        match decide(&store, &ev("ORD-1"), &m, None).unwrap() {
            Decision::Park(o, p) => {
                assert_eq!(o.status, OutcomeStatus::Parked);
                assert_eq!(
                    p.waiting_for,
                    waiting_key("SALESORDER", crate::systems::BC, None, "b1")
                );
                assert!(p.reason.contains("salesorders/d1"), "{}", p.reason);
            }
            other => panic!("not parked: {other:?}"),
        }
    }
}
