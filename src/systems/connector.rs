//! The connector interface: what every system implements once, in its own folder
//! (`src/systems/<name>/`), so the generic stages never name a vendor. Its record shape
//! (id, modified-on and blank-text rules) travels with the [`System`] value; reading and
//! writing records, the connection test and the metadata reader are here; its change
//! sources are capture plans; an ERP's sales documents are [`ErpDocuments`].

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;

use super::documents::{ErpOrder, PostedInvoice};
use super::error::SystemError;
use super::http::urls::odata_literal;
use super::metadata::EntitySchema;
use super::written::Written;
use crate::capture::plan::CapturePlan;
use crate::event::{Fields, Outcome, System, WriteCommand};
use crate::invoices::figures::Statistics;
use crate::mapping::Catalogue;
use crate::mapping::model::{FlowKind, TableMapping};
use crate::orders::build::DocumentBuilder;

/// One system's records, behind one interface.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// Which system this is.
    fn system(&self) -> System;

    /// One record with every column, or `None` if it does not exist.
    async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError>;

    /// Every record matching an OData filter (empty: every record), all pages read.
    async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError>;

    /// Every record whose `field` equals `value` (strings escaped), by natural key.
    async fn find_eq(
        &self,
        set: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<Fields>, SystemError> {
        self.query(set, &format!("{field} eq {}", odata_literal(value)))
            .await
    }

    /// Every record of `set`, all pages (a full read, a scheduled read).
    async fn read_all(&self, set: &str) -> Result<Vec<Fields>, SystemError> {
        self.query(set, "").await
    }

    /// Creates a record.
    async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError>;

    /// Updates an existing record (never creates one). `if_match` is the expected ETag;
    /// `None` means any version.
    async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError>;

    /// Deletes a record; a record already gone is success.
    async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError>;

    /// Authenticates and reads something small; returns what it saw, in words.
    async fn test_connection(&self) -> Result<String, SystemError>;

    /// The system's metadata of `sets` (the entity sets the mappings use), for
    /// `couplet mappings validate`.
    async fn metadata(&self, sets: &[String]) -> Result<Box<dyn Metadata>, SystemError>;

    /// The capture tasks that turn changes of `m`'s table on this system into events (none:
    /// the table is read only by full synchronisations and schedules).
    fn captures(&self, m: &Arc<TableMapping>) -> Vec<CapturePlan> {
        let _ = m;
        Vec::new()
    }

    /// Capture tasks that serve the whole catalogue rather than one mapping (Business
    /// Central's item ledger read, say), started after the per-mapping ones.
    fn catalogue_captures(&self, c: &Catalogue) -> Vec<CapturePlan> {
        let _ = c;
        Vec::new()
    }

    /// The CRM's transaction currencies as `(ISO code, currency id)` pairs (a CRM
    /// connector's; an ERP has none to give).
    async fn currencies(&self) -> Result<Vec<(String, String)>, SystemError> {
        Ok(Vec::new())
    }

    /// The ERP's sales documents, for the document flows (`None`: this system builds none;
    /// a CRM's, or an ERP whose folder has no `documents/` yet).
    fn documents(&self) -> Option<&dyn ErpDocuments> {
        None
    }

    /// The concrete client, for the system's own modules (its document builders, its
    /// captures): `target.client::<BcClient>()`.
    fn as_any(&self) -> &dyn Any;
}

/// An ERP's sales documents: what the generic document flows (`transform::flow`, the CRM-side
/// state machines in `src/orders/`, `src/quotes/`, `src/invoices/`) ask of the ERP. Each ERP
/// builds them in its own folder (`src/systems/bc/documents/`) and hands them out through
/// [`Connector::documents`]; an ERP without them fails the document commands with a reason.
#[async_trait]
pub trait ErpDocuments: Send + Sync {
    /// The document flows this ERP takes part in (a mapping running another one is refused
    /// when the engine is built).
    fn flows(&self) -> &'static [FlowKind] {
        &FlowKind::ALL
    }

    /// Builds the ERP's sales orders and quotes from CRM aggregates (at decide time).
    fn builder(&self) -> &dyn DocumentBuilder;

    /// Completes `order` (the captured fields of ERP sales order `id`) with the current header,
    /// its lines and its posted shipments and invoices, for the order flowing back to the CRM.
    async fn read_order(&self, id: &str, order: &mut Fields) -> Result<(), SystemError>;

    /// Adds its lines to a posted invoice read without them.
    async fn read_invoice(&self, invoice: &mut Fields) -> Result<(), SystemError>;

    /// Sales order `id` in words, one row per line of output (header, lines, totals), for the
    /// CLI; `None` when it is not in the ERP.
    async fn describe_order(&self, id: &str) -> Result<Option<Vec<String>>, SystemError>;

    /// A sales order's fields in the ERP's terms (as captured and completed by
    /// [`ErpDocuments::read_order`], or as its builder built them) in the flows' terms.
    fn interpret_order(&self, order: &Fields) -> ErpOrder;

    /// A posted invoice's fields in the ERP's terms (as captured with its lines by
    /// [`ErpDocuments::read_invoice`]) in the flows' terms.
    fn interpret_posted_invoice(&self, invoice: &Fields) -> PostedInvoice;

    /// Creates the sales order of a create command whose order is not coupled yet (the
    /// sales-order flow checks that), once: found by its natural key after a crash, missing
    /// lines completed, its quote and opportunity linked. Every failure is an outcome.
    async fn create_order(&self, cmd: &WriteCommand) -> Outcome;

    /// Writes a quote command (create, revise, won: link or release).
    async fn write_quote(&self, cmd: &WriteCommand) -> Outcome;

    /// The account statistics of ERP customer `customer_id` (`None`: no such customer).
    async fn customer_statistics(
        &self,
        customer_id: &str,
    ) -> Result<Option<Statistics>, SystemError>;
}

/// What a system's metadata says about the entity sets asked for.
pub trait Metadata: Send + Sync {
    /// The schema of `set`, `None` when the system has no such set.
    fn entity(&self, set: &str) -> Option<EntitySchema>;

    /// Why `set` is not there and what to do, in the system's terms (with the known sets
    /// where the metadata lists them).
    fn missing(&self, set: &str) -> String;
}

/// A shared connector.
pub type DynConnector = Arc<dyn Connector>;
