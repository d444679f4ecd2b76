//! The sales-order flow (`flow = "sales_order"`): a submitted CRM order is built into an ERP
//! sales order and created once by the ERP's documents; the ERP order's release, shipments, invoices and header
//! values flow back to the CRM order ([`super::back`]).

use async_trait::async_trait;

use crate::event::{
    ChangeEvent, ChangeOp, Fields, Outcome, OutcomeStatus, Side, WriteCommand, WriteOp,
};
use crate::mapping::model::{FlowKind, TableMapping};
use crate::metrics::metrics;
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::systems::connector::Connector;
use crate::systems::{DataverseClient, SystemError};
use crate::transform::Decision;
use crate::transform::TransformError;
use crate::transform::flow::{
    Aggregate, DecideContext, DocumentFlow, FlowChange, FlowTargets, no_documents,
};

/// The sales-order flow.
pub struct OrderFlow;

fn stage_error(reason: String) -> PipelineError {
    PipelineError::Stage {
        stage: "transform".into(),
        reason,
    }
}

#[async_trait]
impl DocumentFlow for OrderFlow {
    fn kind(&self) -> FlowKind {
        FlowKind::SalesOrder
    }

    /// A submitted CRM order is captured with its lines (an ERP order is read whole when it
    /// is decided, below).
    async fn complete_captured(
        &self,
        source: &dyn Connector,
        row: &mut Fields,
    ) -> Result<(), SystemError> {
        match source.as_any().downcast_ref::<DataverseClient>() {
            Some(dv) => super::aggregate::complete(dv, row).await,
            None => Ok(()),
        }
    }

    /// A coupled ERP order is read whole (lines, posted documents); a CRM order read
    /// without its lines (a retry, a full synchronisation) likewise.
    async fn complete(
        &self,
        cx: &FlowTargets<'_>,
        m: &TableMapping,
        ev: &ChangeEvent,
    ) -> Result<Aggregate, PipelineError> {
        if ev.op != ChangeOp::Upsert {
            return Ok(Aggregate::AsIs);
        }
        if !ev.source.system.is_crm()
            && cx
                .store
                .coupling(&m.name, ev.source.system, &ev.source.id)
                .map_err(|e| stage_error(e.to_string()))?
                .is_some()
        {
            // A read that fails is listed in the errors list, for `couplet errors retry`.
            let mut full = ev.clone();
            if let Some(erp) = cx.targets.get(ev.source.system).documents()
                && let Err(e) = erp.read_order(&ev.source.id, &mut full.fields).await
            {
                let o = super::back::read::failed(ev, m, &e);
                return Ok(Aggregate::Unreadable(o));
            }
            return Ok(Aggregate::Completed(full));
        }
        if super::aggregate::is_complete(&ev.fields) {
            return Ok(Aggregate::AsIs);
        }
        let mut full = ev.clone();
        if let Some(dv) = cx
            .targets
            .get(ev.source.system)
            .client::<crate::systems::DataverseClient>()
        {
            super::aggregate::complete(dv, &mut full.fields)
                .await
                .map_err(|e| stage_error(format!("reading the lines of {}: {e}", ev.source)))?;
        }
        Ok(Aggregate::Completed(full))
    }

    /// ERP → CRM: status, posts and header of orders from the CRM.
    fn decide_any_direction(
        &self,
        cx: &DecideContext<'_>,
        c: &FlowChange<'_>,
    ) -> Option<Result<Decision, TransformError>> {
        if c.ev.source.system.is_crm() {
            return None;
        }
        let Some(erp) = cx.erp else {
            return Some(Err(crate::transform::flow::no_erp_documents(c)));
        };
        let order = erp.interpret_order(&c.ev.fields);
        Some(super::back::decide::decide(
            cx.store,
            c.ev,
            &order,
            c.m,
            c.coupling.clone(),
        ))
    }

    fn decide(
        &self,
        cx: &DecideContext<'_>,
        c: &FlowChange<'_>,
    ) -> Option<Result<Decision, TransformError>> {
        let bx = super::build::BuildContext {
            store: cx.store,
            catalogue: cx.catalogue,
            currencies: cx.currencies,
            config: cx.orders,
            erp: cx.erp.map(|d| d.builder()),
        };
        Some(super::decide::decide(
            &bx,
            c.ev,
            c.m,
            c.coupling.clone(),
            c.currencies_fresh,
            c.force,
        ))
    }

    /// Creates the ERP order once; writes the ERP order's state back to the CRM order.
    async fn execute(
        &self,
        cx: &FlowTargets<'_>,
        _m: &TableMapping,
        cmd: &WriteCommand,
    ) -> Option<Result<Outcome, StoreError>> {
        let t = cmd.target_system;
        if cmd.op == WriteOp::Create {
            return Some(create_once(cx, cmd).await);
        }
        if t.is_crm() {
            return Some(super::back::apply::execute(cx.targets.get(t), cmd).await);
        }
        None
    }
}

/// Creates the ERP order of `cmd` unless it is coupled already (an order is created once),
/// through the ERP's documents, counting the outcome (`order_create`).
async fn create_once(cx: &FlowTargets<'_>, cmd: &WriteCommand) -> Result<Outcome, StoreError> {
    let t = cmd.target_system;
    let outcome = match cx.store.coupling(&cmd.mapping, Side::Crm, &cmd.source.id)? {
        Some(c) => {
            let mut o = Outcome::for_command(cmd, OutcomeStatus::Unchanged);
            o.target_id = Some(c.erp_id.clone());
            o.reason = Some(format!(
                "already created in {t} as {}/{}",
                cmd.target_entity, c.erp_id
            ));
            Ok(o)
        }
        None => match cx.targets.get(t).documents() {
            Some(erp) => Ok(erp.create_order(cmd).await),
            None => Ok(no_documents(cmd, "sales orders")),
        },
    };
    let status = outcome
        .as_ref()
        .map(|o| o.status.as_str())
        .unwrap_or("error");
    metrics()
        .records
        .with_label_values(&[&cmd.mapping, "order_create", status])
        .inc();
    outcome
}
