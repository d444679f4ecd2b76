//! The transform's decision for an order change: skip (already created, automatic creation
//! off), park (a reference not coupled yet), fail (cannot be built) or a create command.

use crate::transform::decision::write_command;

use super::build::{BuildContext, build};
use super::on_demand_marker;
use crate::event::{ChangeEvent, Outcome, OutcomeStatus, WriteCommand, WriteOp};
use crate::mapping::model::TableMapping;
use crate::store::Coupling;
use crate::transform::hash::content_hash;
use crate::transform::{Decision, TransformError};

/// Decides for a submitted order `ev` (the table filter has passed). `forced` (a request of
/// `couplet orders create-in-erp` or `couplet sync-now`) creates it even when automatic
/// creation is off.
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
    if let Some(c) = coupling {
        return Ok(Decision::Skip(outcome(
            OutcomeStatus::Unchanged,
            Some(c.erp_id.clone()),
            format!(
                "{record} was already created in {t} as {}/{}; an order is created once (changes after submission are not synchronised)",
                m.erp_entity, c.erp_id
            ),
        )));
    }
    if !cx.config.auto_create
        && !forced
        && cx
            .store
            .checkpoint(&on_demand_marker(&ev.source.id))?
            .is_none()
    {
        return Ok(Decision::Skip(outcome(
            OutcomeStatus::Filtered,
            None,
            format!(
                "{record} is submitted; automatic creation is off ([orders] auto_create = false): `couplet orders create-in-erp {}` creates it",
                ev.source.id
            ),
        )));
    }
    let fields = match build(cx, &record, &ev.fields) {
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
    let natural_key = super::build::natural_key(cx, &fields);
    let hash = content_hash(&fields);
    Ok(Decision::Write(WriteCommand {
        natural_key,
        ..write_command(ev, m, t, None, WriteOp::Create, fields, hash)
    }))
}
