//! The opportunity flow (`flow = "opportunity"`): open opportunities are synchronised as
//! records by the mapping's fields; a won or lost CRM opportunity closes its coupled ERP
//! opportunity ([`super::close`]).

use async_trait::async_trait;

use crate::event::{Outcome, WriteCommand};
use crate::mapping::model::{FlowKind, TableMapping};
use crate::store::StoreError;
use crate::transform::Decision;
use crate::transform::flow::{DocumentFlow, FlowChange, FlowTargets};

/// The opportunity flow.
pub struct OpportunityFlow;

#[async_trait]
impl DocumentFlow for OpportunityFlow {
    fn kind(&self) -> FlowKind {
        FlowKind::Opportunity
    }

    /// A closed CRM opportunity (outside the table filter) closes the ERP's.
    fn decide_unfiltered(&self, c: &FlowChange<'_>) -> Option<Decision> {
        if !c.ev.source.system.is_crm() {
            return None;
        }
        let status = super::close::closed_status(c.ev)?;
        Some(super::close::decide(
            c.ev,
            c.m,
            c.coupling.clone(),
            status,
            c.force,
        ))
    }

    async fn execute(
        &self,
        cx: &FlowTargets<'_>,
        m: &TableMapping,
        cmd: &WriteCommand,
    ) -> Option<Result<Outcome, StoreError>> {
        if !super::close::is_close(m, cmd) {
            return None;
        }
        Some(Ok(super::close::execute(
            cx.targets.get(cmd.target_system),
            cmd,
        )
        .await))
    }
}
