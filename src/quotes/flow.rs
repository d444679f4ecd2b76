//! The sales-quote flow (`flow = "sales_quote"`): an Active CRM quote becomes an ERP sales
//! quote once, a revision archives and rebuilds it, a Won quote is linked to its order or
//! released.

use async_trait::async_trait;

use crate::event::{ChangeEvent, ChangeOp, Outcome, WriteCommand};
use crate::mapping::model::{FlowKind, TableMapping};
use crate::pipeline::PipelineError;
use crate::store::StoreError;
use crate::transform::Decision;
use crate::transform::TransformError;
use crate::transform::flow::{Aggregate, DecideContext, DocumentFlow, FlowChange, FlowTargets};

/// The sales-quote flow.
pub struct QuoteFlow;

#[async_trait]
impl DocumentFlow for QuoteFlow {
    fn kind(&self) -> FlowKind {
        FlowKind::SalesQuote
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
        Some(Ok(super::apply::execute(cx.targets.get(cmd.target_system), cmd).await))
    }
}
