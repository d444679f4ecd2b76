//! One coupling: which CRM record and which ERP record are the same thing in a mapping, with
//! the versions of each side at the last synchronisation. The store's table of them is in
//! [`super::couplings`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Pair, RecordKey, Side};

/// One coupling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coupling {
    /// Mapping name, e.g. `CUSTOMER`.
    pub mapping: String,
    /// CRM (Dataverse) entity set, e.g. `accounts`.
    pub crm_entity: String,
    /// CRM record id.
    pub crm_id: String,
    /// ERP (Business Central) entity set, e.g. `customers`.
    pub erp_entity: String,
    /// ERP record id.
    pub erp_id: String,
    /// CRM modified-on at the last synchronisation (either direction).
    pub crm_modified_on: Option<DateTime<Utc>>,
    /// ERP modified-on at the last synchronisation.
    pub erp_modified_on: Option<DateTime<Utc>>,
    /// CRM ETag after Couplet's last write to the CRM (a capture with this ETag is an echo).
    pub crm_etag: Option<String>,
    /// ERP ETag after Couplet's last write to the ERP.
    pub erp_etag: Option<String>,
    /// Hash of the fields last written to the CRM.
    pub hash_to_crm: Option<String>,
    /// Hash of the fields last written to the ERP.
    pub hash_to_erp: Option<String>,
    /// When the pair was coupled.
    pub coupled_at: DateTime<Utc>,
    /// When it was last synchronised.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// `to_crm` or `to_erp`: the direction of the last synchronisation.
    pub last_direction: Option<String>,
    /// Outcome status name of the last synchronisation.
    pub last_result: Option<String>,
}

impl Coupling {
    /// The id on `side`.
    pub fn id_on(&self, side: impl Into<Side>) -> &str {
        if side.into().is_crm() {
            &self.crm_id
        } else {
            &self.erp_id
        }
    }
    /// The modified-on recorded for `side`.
    pub fn modified_on(&self, side: impl Into<Side>) -> Option<DateTime<Utc>> {
        if side.into().is_crm() {
            self.crm_modified_on
        } else {
            self.erp_modified_on
        }
    }
    /// The ETag recorded for `side`.
    pub fn etag(&self, side: impl Into<Side>) -> Option<&str> {
        if side.into().is_crm() {
            self.crm_etag.as_deref()
        } else {
            self.erp_etag.as_deref()
        }
    }
    /// The hash of the fields last written to `side`.
    pub fn hash_to(&self, side: impl Into<Side>) -> Option<&str> {
        if side.into().is_crm() {
            self.hash_to_crm.as_deref()
        } else {
            self.hash_to_erp.as_deref()
        }
    }
    /// The record of `side` in the systems of `pair`.
    pub fn key(&self, pair: Pair, side: Side) -> RecordKey {
        if side.is_crm() {
            RecordKey::new(pair.crm, self.crm_entity.clone(), self.crm_id.clone())
        } else {
            RecordKey::new(pair.erp, self.erp_entity.clone(), self.erp_id.clone())
        }
    }
}
