//! The posted-invoice flow (`flow = "sales_invoice"`): an ERP posted invoice with its lines
//! is created once in the CRM, its payment state follows, and the account statistics of
//! coupled customers are refreshed besides ([`super::triggers`]).

use async_trait::async_trait;

use crate::event::{ChangeEvent, ChangeOp, Fields, Outcome, WriteCommand, WriteOp};
use crate::mapping::model::{FlowKind, TableMapping};
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::systems::SystemError;
use crate::systems::connector::Connector;
use crate::transform::Decision;
use crate::transform::TransformError;
use crate::transform::flow::{Aggregate, DecideContext, DocumentFlow, FlowChange, FlowTargets};

/// The posted-invoice flow.
pub struct InvoiceFlow;

#[async_trait]
impl DocumentFlow for InvoiceFlow {
    fn kind(&self) -> FlowKind {
        FlowKind::SalesInvoice
    }

    /// A posted invoice is captured with its lines, read by the ERP's documents.
    async fn complete_captured(
        &self,
        source: &dyn Connector,
        row: &mut Fields,
    ) -> Result<(), SystemError> {
        match source.documents() {
            Some(erp) if !super::aggregate::is_complete(row) => erp.read_invoice(row).await,
            _ => Ok(()),
        }
    }

    /// A posted invoice read without its lines is read whole.
    async fn complete(
        &self,
        cx: &FlowTargets<'_>,
        _m: &TableMapping,
        ev: &ChangeEvent,
    ) -> Result<Aggregate, PipelineError> {
        if ev.op != ChangeOp::Upsert
            || ev.source.system.is_crm()
            || super::aggregate::is_complete(&ev.fields)
        {
            return Ok(Aggregate::AsIs);
        }
        let mut full = ev.clone();
        if let Some(erp) = cx.targets.get(ev.source.system).documents() {
            erp.read_invoice(&mut full.fields)
                .await
                .map_err(|e| PipelineError::Stage {
                    stage: "transform".into(),
                    reason: format!("reading the lines of {}: {e}", ev.source),
                })?;
        }
        Ok(Aggregate::Completed(full))
    }

    fn decide(
        &self,
        cx: &DecideContext<'_>,
        c: &FlowChange<'_>,
    ) -> Option<Result<Decision, TransformError>> {
        let Some(erp) = cx.erp else {
            return Some(Err(crate::transform::flow::no_erp_documents(c)));
        };
        let bx = super::build::BuildContext {
            store: cx.store,
            currencies: cx.currencies,
            erp: c.ev.source.system,
        };
        let invoice = erp.interpret_posted_invoice(&c.ev.fields);
        Some(super::decide::decide(
            &bx,
            c.ev,
            &invoice,
            c.m,
            c.coupling.clone(),
            c.currencies_fresh,
            c.force,
        ))
    }

    /// The statistics a change of an ERP customer or of an ERP order may refresh.
    async fn after_change(&self, cx: &FlowTargets<'_>, ev: &ChangeEvent) {
        super::triggers::after_erp_customer_change(
            cx.catalogue,
            cx.targets,
            cx.store,
            cx.currencies,
            ev,
        )
        .await;
        if let Some(m) = cx.catalogue.get(&ev.mapping)
            && m.runs(FlowKind::SalesOrder)
        {
            super::triggers::after_erp_order_change(
                cx.catalogue,
                cx.targets,
                cx.store,
                cx.currencies,
                ev,
            )
            .await;
        }
    }

    async fn execute(
        &self,
        cx: &FlowTargets<'_>,
        _m: &TableMapping,
        cmd: &WriteCommand,
    ) -> Option<Result<Outcome, StoreError>> {
        Some(super::apply::execute(cx.targets, cx.store, cx.currencies, cmd).await)
    }

    /// The customer's statistics after an order was created in the ERP.
    async fn after_write(
        &self,
        cx: &FlowTargets<'_>,
        m: &TableMapping,
        cmd: &WriteCommand,
        o: &Outcome,
    ) {
        if m.runs(FlowKind::SalesOrder) && cmd.op == WriteOp::Create {
            super::triggers::after_order_created(
                cx.catalogue,
                cx.targets,
                cx.store,
                cx.currencies,
                cmd,
                o,
            )
            .await;
        }
    }
}
