//! The handle the stages read and write a system through, whichever system it is.

use std::sync::Arc;

use super::connector::Connector;
use super::error::SystemError;
use crate::event::key::{Fields, Pair, Side, System};

pub use super::written::Written;

/// A system the stages read and write: a shared [`Connector`].
#[derive(Clone)]
pub struct Target(Arc<dyn Connector>);

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.0.system())
    }
}

impl Target {
    /// A target on `connector`.
    pub fn new(connector: Arc<dyn Connector>) -> Target {
        Target(connector)
    }

    /// Which system this is.
    pub fn system(&self) -> System {
        self.0.system()
    }

    /// The connector.
    pub fn connector(&self) -> &Arc<dyn Connector> {
        &self.0
    }

    /// The system's sales documents, when it builds them (an ERP's; see
    /// [`super::connector::ErpDocuments`]).
    pub fn documents(&self) -> Option<&dyn super::connector::ErpDocuments> {
        self.0.documents()
    }

    /// The concrete client behind this target, when it is a `C` (the system's own modules
    /// use it for what only that system has).
    pub fn client<C: 'static>(&self) -> Option<&C> {
        self.0.as_any().downcast_ref::<C>()
    }

    /// One record with every column, or `None` if it does not exist.
    pub async fn get(&self, set: &str, id: &str) -> Result<Option<Fields>, SystemError> {
        self.0.get(set, id).await
    }

    /// Every record matching an OData filter (empty: every record).
    pub async fn query(&self, set: &str, filter: &str) -> Result<Vec<Fields>, SystemError> {
        self.0.query(set, filter).await
    }

    /// Every record whose `field` equals `value` (strings are OData-escaped).
    pub async fn find_eq(
        &self,
        set: &str,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<Vec<Fields>, SystemError> {
        self.0.find_eq(set, field, value).await
    }

    /// Creates a record.
    pub async fn create(&self, set: &str, body: &Fields) -> Result<Written, SystemError> {
        self.0.create(set, body).await
    }

    /// Updates an existing record (never creates one). `if_match` is the expected ETag;
    /// `None` means any version (`*`).
    pub async fn update(
        &self,
        set: &str,
        id: &str,
        body: &Fields,
        if_match: Option<&str>,
    ) -> Result<Written, SystemError> {
        self.0.update(set, id, body, if_match).await
    }

    /// Deletes a record; a record already gone is success.
    pub async fn delete(&self, set: &str, id: &str) -> Result<(), SystemError> {
        self.0.delete(set, id).await
    }
}

/// The two systems an engine keeps in step.
#[derive(Clone, Debug)]
pub struct Targets {
    /// The CRM.
    pub crm: Target,
    /// The ERP.
    pub erp: Target,
}

impl Targets {
    /// The target on `system`'s side.
    pub fn get(&self, system: System) -> &Target {
        self.side(system.side())
    }

    /// The target on `side`.
    pub fn side(&self, side: Side) -> &Target {
        match side {
            Side::Crm => &self.crm,
            Side::Erp => &self.erp,
        }
    }

    /// Which systems they are.
    pub fn pair(&self) -> Pair {
        Pair {
            crm: self.crm.system(),
            erp: self.erp.system(),
        }
    }
}
