//! The transform's decision for a quote change (the table filter has passed: Active or Won):
//! skip (sent already, won and processed already), park (a reference not coupled yet), fail
//! (cannot be built) or a command whose control object ([`super::CONTROL`]) tells the apply
//! what to do: `create` the Business Central quote, `revise` the one a predecessor is coupled
//! to, or leave the `existing` one; and for a Won quote, what follows (`won`).

use crate::transform::decision::write_command;
use serde_json::{Value, json};

use super::{CONTROL, ORDER, ORDER_MAPPING, PREDECESSORS, QUOTE, WON};
use crate::event::Side;
use crate::event::{ChangeEvent, Fields, Outcome, OutcomeStatus, WriteCommand, WriteOp};
use crate::mapping::model::TableMapping;
use crate::orders::build::{BuildContext, build_doc};
use crate::store::Coupling;
use crate::transform::hash::content_hash;
use crate::transform::{Decision, TransformError};

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// What follows a Won quote: `link` when the order made from it is submitted (its creation in
/// Business Central, or the apply when it is there already, sets Quote No. and archives the
/// quote), else `release`.
fn won_step(cx: &BuildContext<'_>, quote: &Fields) -> Result<Value, crate::store::StoreError> {
    let order = quote.get(ORDER).and_then(Value::as_object);
    let submitted = order
        .and_then(|o| o.get("statecode"))
        .and_then(Value::as_i64)
        == Some(1);
    let order_id = order.and_then(|o| text(o, "salesorderid"));
    let order_erp = match (submitted, order_id) {
        (true, Some(id)) => cx
            .store
            .coupling(ORDER_MAPPING, Side::Crm, id)?
            .map(|c| c.erp_id),
        _ => None,
    };
    Ok(json!({
        "action": if submitted { "link" } else { "release" },
        "order": order_id,
        "ordernumber": order.and_then(|o| text(o, "ordernumber")),
        "order_erp": order_erp,
    }))
}

/// Decides for quote `ev`. `forced` (`couplet sync-now`) processes a Won quote again even when
/// it was processed with the same values.
pub fn decide(
    cx: &BuildContext<'_>,
    ev: &ChangeEvent,
    m: &TableMapping,
    coupling: Option<Coupling>,
    currencies_fresh: bool,
    forced: bool,
) -> Result<Decision, TransformError> {
    let t = m.system(crate::event::Side::Erp);
    let record = ev.source.to_string();
    let outcome = |status, target: Option<String>, reason: String| {
        Outcome::for_event(ev, t, &m.erp_entity, target, status, Some(reason))
    };
    let won = ev.fields.get("statecode").and_then(Value::as_i64) == Some(WON);
    if let Some(c) = &coupling
        && !won
    {
        return Ok(Decision::Skip(outcome(
            OutcomeStatus::Unchanged,
            Some(c.erp_id.clone()),
            format!(
                "{record} was sent to the ERP as {t}/{}/{} already; an active quote is read-only in Dataverse (a change is a new revision)",
                m.erp_entity, c.erp_id
            ),
        )));
    }
    let mut fields = match build_doc(cx, &QUOTE, &record, &ev.fields) {
        Ok(f) => f,
        Err(Err(e)) => return Err(e.into()),
        Err(Ok(e)) => {
            return Ok(crate::transform::document::not_built(
                ev,
                m,
                e,
                currencies_fresh,
                outcome,
            ));
        }
    };
    // Quote Valid Until = effectiveto.
    if let Some(d) = text(&ev.fields, "effectiveto") {
        fields.insert("validUntilDate".into(), json!(d));
    }

    // Which Business Central quote: this quote's, a coupled predecessor's, or a new one.
    let mut predecessor = None;
    if coupling.is_none() {
        for p in ev
            .fields
            .get(PREDECESSORS)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let Some(c) = cx.store.coupling(&m.name, Side::Crm, p)? {
                predecessor = Some((p.to_string(), c));
                break;
            }
        }
    }
    let (mode, target_id, revise_of) = match (&coupling, &predecessor) {
        (Some(c), _) => ("existing", Some(c.erp_id.clone()), None),
        (None, Some((p, c))) => ("revise", Some(c.erp_id.clone()), Some(p.clone())),
        (None, None) => ("create", None, None),
    };
    let won_step = if won {
        Some(won_step(cx, &ev.fields)?)
    } else {
        None
    };
    fields.insert(
        CONTROL.into(),
        json!({"mode": mode, "revise_of": revise_of, "won": won_step}),
    );
    let hash = content_hash(&fields);
    if let Some(c) = &coupling
        && !forced
        && c.hash_to(t) == Some(hash.as_str())
    {
        return Ok(Decision::Skip(outcome(
            OutcomeStatus::Unchanged,
            Some(c.erp_id.clone()),
            format!(
                "{record} is won and was processed already ({t}/{}/{})",
                m.erp_entity, c.erp_id
            ),
        )));
    }
    let natural_key = crate::orders::build::natural_key(cx, &fields);
    let op = if target_id.is_some() {
        WriteOp::Update
    } else {
        WriteOp::Create
    };
    Ok(Decision::Write(WriteCommand {
        natural_key,
        ..write_command(ev, m, t, target_id, op, fields, hash)
    }))
}
