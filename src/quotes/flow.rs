//! The sales-quote flow (`flow = "sales_quote"`): an Active CRM quote becomes an ERP sales
//! quote once, a revision archives and rebuilds it, a Won quote is linked to its order or
//! released.

use async_trait::async_trait;

use crate::event::{ChangeEvent, ChangeOp, Fields, Outcome, WriteCommand};
use crate::mapping::model::{FlowKind, TableMapping};
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::systems::connector::Connector;
use crate::systems::{DataverseClient, SystemError};
use crate::transform::Decision;
use crate::transform::TransformError;
use crate::transform::flow::{
    Aggregate, DecideContext, DocumentFlow, FlowChange, FlowTargets, no_documents,
};

/// The sales-quote flow.
pub struct QuoteFlow;

#[async_trait]
impl DocumentFlow for QuoteFlow {
    fn kind(&self) -> FlowKind {
        FlowKind::SalesQuote
    }

    /// An Active or Won CRM quote is captured with its lines.
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

    /// A quote read without its lines (a retry, a full synchronisation) is read whole.
    async fn complete(
        &self,
        cx: &FlowTargets<'_>,
        _m: &TableMapping,
        ev: &ChangeEvent,
    ) -> Result<Aggregate, PipelineError> {
        if ev.op != ChangeOp::Upsert || crate::orders::aggregate::is_complete(&ev.fields) {
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
        let bx = crate::orders::build::BuildContext {
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

    async fn execute(
        &self,
        cx: &FlowTargets<'_>,
        _m: &TableMapping,
        cmd: &WriteCommand,
    ) -> Option<Result<Outcome, StoreError>> {
        Some(Ok(match cx.targets.get(cmd.target_system).documents() {
            Some(erp) => erp.write_quote(cmd).await,
            None => no_documents(cmd, "sales quotes"),
        }))
    }
}
