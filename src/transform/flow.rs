//! The document-flow interface, owned by transform. A table mapping with a `flow = "…"` key
//! ([`FlowKind`]) runs a document flow instead of (or before) the plain record flow: the
//! transform stage asks it to complete the change's aggregate, the decision asks it at three
//! points (whatever the mapping's direction, before the table filter, after it), the apply
//! stage asks it to execute a command, and every configured flow sees each change and each
//! document write (the invoice flow refreshes account statistics then).
//!
//! The captures ask a mapping's flow to complete each captured row too, and a connector plans
//! the extra captures a flow needs on its side (Business Central polls the posted invoices of
//! the order mapping).
//!
//! A hook that returns `None` leaves the change or command to the record flow. The
//! implementations are registered by kind in `crate::flows`; each keeps its CRM-side state
//! machine generic and reaches the ERP's documents through the ERP's connector
//! ([`crate::systems::connector::ErpDocuments`], built in the ERP's folder). This module
//! names no flow, so the flows may import it (and [`super::decision`]) without a cycle.

use async_trait::async_trait;

use super::currency::CurrencyTable;
use super::decision::Decision;
use super::error::TransformError;
use crate::event::{ChangeEvent, Fields, Outcome, WriteCommand};
use crate::mapping::Catalogue;
use crate::mapping::model::{FlowKind, TableMapping};
use crate::orders::OrdersConfig;
use crate::pipeline::PipelineError;
use crate::store::{Coupling, Store, StoreError};
use crate::systems::connector::{Connector, ErpDocuments};
use crate::systems::{SystemError, Targets};

/// What a flow decides with (the projection, the mappings, the currencies, `[orders]`).
pub struct DecideContext<'a> {
    /// Couplings and checkpoints.
    pub store: &'a Store,
    /// The mappings.
    pub catalogue: &'a Catalogue,
    /// Currency ids ↔ codes.
    pub currencies: &'a CurrencyTable,
    /// `[orders]`.
    pub orders: &'a OrdersConfig,
    /// The ERP's sales documents (`None`: the ERP builds none).
    pub erp: Option<&'a dyn ErpDocuments>,
}

/// A change a flow decides on.
pub struct FlowChange<'a> {
    /// The change.
    pub ev: &'a ChangeEvent,
    /// Its mapping.
    pub m: &'a TableMapping,
    /// The coupling of its record, if any.
    pub coupling: &'a Option<Coupling>,
    /// The currency table was just read again: an unknown currency fails.
    pub currencies_fresh: bool,
    /// `couplet sync-now` (or a request such as `couplet orders create-in-erp`).
    pub force: bool,
}

/// What a flow reads, writes and refreshes with, in the stages that talk to the systems.
pub struct FlowTargets<'a> {
    /// Both systems.
    pub targets: &'a Targets,
    /// The projection.
    pub store: &'a Store,
    /// The mappings.
    pub catalogue: &'a Catalogue,
    /// Currency ids ↔ codes.
    pub currencies: &'a CurrencyTable,
}

/// A change with its document read whole, or not.
#[allow(clippy::large_enum_variant)] // short-lived, one per change
pub enum Aggregate {
    /// The change as it came: no document to complete, or complete already.
    AsIs,
    /// The change with its document read whole.
    Completed(ChangeEvent),
    /// The document could not be read: the outcome saying so.
    Unreadable(Outcome),
}

/// The outcome of a document command whose target builds no such documents (its connector
/// has no [`crate::systems::connector::ErpDocuments`]): failed, for the user to correct the
/// mapping or the pair.
pub fn no_documents(cmd: &WriteCommand, what: &str) -> Outcome {
    Outcome::failed_command(
        cmd,
        "unsupported_target",
        "user",
        None,
        format!(
            "mapping {}: {} builds no {what}",
            cmd.mapping, cmd.target_system
        ),
    )
}

/// The error for an ERP document flowing back from an ERP that reads no sales documents (its
/// connector has no [`ErpDocuments`]): a user's error, to correct the pair or the mapping.
pub fn no_erp_documents(c: &FlowChange<'_>) -> TransformError {
    TransformError::Field {
        record: c.ev.source.to_string(),
        field: "flow".into(),
        reason: format!(
            "mapping {}: {} reads no sales documents; choose an ERP whose connector has them or remove the mapping's flow",
            c.m.name, c.ev.source.system
        ),
        class: "unsupported_target",
    }
}

/// One document flow (see the module's documentation). Every hook has a default that leaves
/// the work to the record flow.
#[async_trait]
pub trait DocumentFlow: Send + Sync + 'static {
    /// The `flow` value this implements.
    fn kind(&self) -> FlowKind;

    /// Completes a row as its capture reads it from `source` (the system whose change
    /// sources captured it), so that a document goes on the log as one aggregate event (an
    /// order or quote with its lines, a posted invoice with its lines).
    async fn complete_captured(
        &self,
        source: &dyn Connector,
        row: &mut Fields,
    ) -> Result<(), SystemError> {
        let _ = (source, row);
        Ok(())
    }

    /// Reads the rest of a document captured without it (its lines, its posted documents)
    /// before the change is decided.
    async fn complete(
        &self,
        cx: &FlowTargets<'_>,
        m: &TableMapping,
        ev: &ChangeEvent,
    ) -> Result<Aggregate, PipelineError> {
        let _ = (cx, m, ev);
        Ok(Aggregate::AsIs)
    }

    /// Decides a change before the mapping's direction is checked (a change flowing back
    /// against the mapping's direction, such as an ERP order's status).
    fn decide_any_direction(
        &self,
        cx: &DecideContext<'_>,
        c: &FlowChange<'_>,
    ) -> Option<Result<Decision, TransformError>> {
        let _ = (cx, c);
        None
    }

    /// Decides a change the direction allows before the table filter is applied (a record
    /// leaving the filter, such as a won opportunity, that still has something to do).
    fn decide_unfiltered(&self, c: &FlowChange<'_>) -> Option<Decision> {
        let _ = c;
        None
    }

    /// Decides a change that passed the direction and the table filter.
    fn decide(
        &self,
        cx: &DecideContext<'_>,
        c: &FlowChange<'_>,
    ) -> Option<Result<Decision, TransformError>> {
        let _ = (cx, c);
        None
    }

    /// Sees every change of every mapping after its decision, when this flow is configured.
    async fn after_change(&self, cx: &FlowTargets<'_>, ev: &ChangeEvent) {
        let _ = (cx, ev);
    }

    /// Executes a command of mapping `m` (this flow's). Only a broken projection is an error.
    async fn execute(
        &self,
        cx: &FlowTargets<'_>,
        m: &TableMapping,
        cmd: &WriteCommand,
    ) -> Option<Result<Outcome, StoreError>> {
        let _ = (cx, m, cmd);
        None
    }

    /// Sees every command a document flow executed (`m` is the command's mapping), when this
    /// flow is configured.
    async fn after_write(
        &self,
        cx: &FlowTargets<'_>,
        m: &TableMapping,
        cmd: &WriteCommand,
        o: &Outcome,
    ) {
        let _ = (cx, m, cmd, o);
    }
}
