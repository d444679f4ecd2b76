//! The transform's decision for a change of an ERP sales order (read in the flows' terms,
//! [`ErpOrder`]): skip it (not from Sales, deleted without posting, nothing new), or a command
//! that brings the coupled Dataverse order in step: header values, timeline posts and state.

use crate::transform::decision::write_command;
use serde_json::{Value, json};

use super::{ACCOUNT_POSTS, POSTS};
use crate::event::Side;
use crate::event::{ChangeEvent, Fields, Outcome, OutcomeStatus, WriteOp};
use crate::mapping::model::TableMapping;
use crate::store::{Coupling, Store};
use crate::systems::documents::{ErpOrder, ErpOrderStatus};
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

/// The posts the order's timeline carries for this ERP order: its release, each posted
/// shipment and each posted invoice, each naming the ERP document number (which makes a
/// post's text its key).
pub fn posts(order: &ErpOrder) -> Vec<String> {
    let (erp, number) = (order.erp_name, &order.number);
    let mut out = Vec::new();
    if order.status == ErpOrderStatus::Released || order.deleted || !order.shipments.is_empty() {
        out.push(format!("{RELEASED_TEXT} {erp} sales order {number}."));
    }
    for s in &order.shipments {
        out.push(format!(
            "{SHIPMENT_TEXT} {erp} posted shipment {} (sales order {number}).",
            s.number
        ));
    }
    for i in &order.invoices {
        out.push(format!(
            "{INVOICE_TEXT} {erp} posted invoice {} (sales order {number}).",
            i.number
        ));
    }
    out
}

/// The posts on the account's wall: one per posted invoice of the order, as Business Central
/// posts "Order '…' has been posted in Business Central" on the customer's account.
pub fn account_posts(order: &ErpOrder) -> Vec<String> {
    let (erp, number) = (order.erp_name, &order.number);
    order
        .invoices
        .iter()
        .map(|i| {
            format!(
                "Order '{number}' has been posted in {erp} (posted invoice {}).",
                i.number
            )
        })
        .collect()
}

/// The Dataverse state the order follows: Invoiced once posted invoices cover every line (or
/// the order was deleted after posting), else Fulfilled when completely shipped, else
/// Submitted.
pub fn target_state(order: &ErpOrder) -> (i64, i64) {
    let invoiced = !order.invoices.is_empty();
    let lines: Vec<_> = order
        .lines
        .iter()
        .filter(|l| !l.comment && l.quantity > 0.0)
        .collect();
    let all_invoiced = !lines.is_empty() && lines.iter().all(|l| l.invoiced_quantity >= l.quantity);
    if invoiced && (order.deleted || all_invoiced) {
        state::INVOICED
    } else if order.fully_shipped || (order.deleted && !order.shipments.is_empty()) {
        state::FULFILLED
    } else {
        state::SUBMITTED
    }
}

/// The Dataverse order as the ERP order implies it: header values of a released order
/// (SALESORDER-ORDER: Last Shipment Date → `datefulfilled`, Requested Delivery Date →
/// `requestdeliveryby`, Amount → `totalamountlessfreight`, Amount Including VAT →
/// `totalamount`), [`POSTS`], `statecode` and `statuscode`.
pub fn desired(order: &ErpOrder) -> Fields {
    let mut out = Fields::new();
    if !order.deleted && order.status == ErpOrderStatus::Released {
        if let Some(d) = &order.last_shipment_date {
            out.insert("datefulfilled".into(), json!(d));
        }
        if let Some(d) = &order.requested_delivery_date {
            out.insert("requestdeliveryby".into(), json!(d));
        }
        for (dv, v) in [
            ("totalamountlessfreight", &order.total_excluding_tax),
            ("totalamount", &order.total_including_tax),
        ] {
            if let Some(v) = v {
                out.insert(dv.into(), Value::Number(v.clone()));
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

/// Decides for a change of ERP order `ev` (read whole by the ERP's documents when coupled),
/// `order` being its fields in the flows' terms (`ErpDocuments::interpret_order`).
pub fn decide(
    store: &Store,
    ev: &ChangeEvent,
    order: &ErpOrder,
    m: &TableMapping,
    coupling: Option<Coupling>,
) -> Result<Decision, TransformError> {
    let record = ev.source.to_string();
    let t = m.system(crate::event::Side::Crm);
    let number = order.number.clone();
    let deleted = order.deleted;
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
        let your_ref = &order.your_reference;
        if !your_ref.is_empty()
            && !deleted
            && let Some(key) = m.key(Side::Crm)
            && let Some(dv_order) = store.index_id(t, &m.crm_entity, key, your_ref)?
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
    if deleted && order.invoices.is_empty() {
        return Ok(skip(
            OutcomeStatus::Filtered,
            Some(c.crm_id.clone()),
            format!(
                "{record} no longer exists in {} and has no posted invoice; the Dataverse order salesorders/{} is left as it is",
                order.erp_name, c.crm_id
            ),
        ));
    }
    // Always a command: apply compares with the Dataverse order as it is now (a user may have
    // changed it since), writes only what differs and never posts twice.
    let fields = desired(order);
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

    /// A Business Central order in the flows' terms.
    fn bc(v: Value) -> ErpOrder {
        crate::systems::bc::documents::interpret::order(&obj(v))
    }

    #[test]
    fn states_posts_and_header() {
        let open = bc(json!({"number": "S-ORD000001", "status": "Open",
            "couplet_lines": [{"lineType": "Item", "quantity": 2, "shippedQuantity": 0}]}));
        let d = desired(&open);
        assert_eq!(d["statecode"], json!(1));
        assert_eq!(d[POSTS], json!([]));
        assert!(!d.contains_key("totalamount"));

        let shipped = bc(json!({"number": "S-ORD000001", "status": "Released",
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

        let gone = bc(
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
        let order = |e: &ChangeEvent| bc(Value::Object(e.fields.clone()));
        let e = ev("PO-77");
        let d = decide(&store, &e, &order(&e), &m, None).unwrap();
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
        let e = ev("ORD-1");
        match decide(&store, &e, &order(&e), &m, None).unwrap() {
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
