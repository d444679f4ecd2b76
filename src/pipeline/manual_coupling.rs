//! Coupling and uncoupling by hand (`couplet couple`, `couplet uncouple`). They go through
//! the state log like the apply stage's couplings (changelog first, then the local store), so
//! every instance follows them and `couplet replay --rebuild` restores them; each also puts an
//! outcome (`coupled` / `uncoupled`) on the outcomes topic, so the audit trail shows it.

use std::sync::Arc;

use super::error::PipelineError;
use super::state::StateLog;
use crate::bus::{Bus, Topics};
use crate::error::{Actor, Classify, Retry};
use crate::event::avro::encode_outcome;
use crate::event::types::now_millis;
use crate::event::{Outcome, OutcomeStatus, Pair, RecordKey, Side, System};
use crate::mapping::TableMapping;
use crate::metrics::metrics;
use crate::store::Coupling;

/// Why a coupling cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum CouplingError {
    /// One of the two records is coupled to another record.
    #[error(
        "{record} is already coupled to {other} in mapping {mapping}; uncouple it first (`couplet uncouple {mapping} --{flag} {id}`)"
    )]
    AlreadyCoupled {
        /// The mapping.
        mapping: String,
        /// The record the user named.
        record: String,
        /// The record it is coupled to.
        other: String,
        /// `crm-id` or `erp-id`, for the hint.
        flag: &'static str,
        /// The id to uncouple.
        id: String,
    },
    /// The log or the projection failed.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

impl Classify for CouplingError {
    fn actor(&self) -> Actor {
        match self {
            CouplingError::AlreadyCoupled { .. } => Actor::User,
            CouplingError::Pipeline(e) => e.actor(),
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            CouplingError::AlreadyCoupled { .. } => "already_coupled",
            CouplingError::Pipeline(e) => e.class(),
        }
    }
}

/// What [`couple`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Coupled {
    /// A new coupling.
    New(Coupling),
    /// The two records were already coupled to each other: nothing changed.
    Already(Coupling),
}

fn key(m: &TableMapping, system: System, id: &str) -> RecordKey {
    RecordKey::new(system, m.entity(system).to_string(), id.to_string())
}

/// Puts an outcome of a manual action on the outcomes topic (the audit trail).
async fn record(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    pair: Pair,
    c: &Coupling,
    status: OutcomeStatus,
    reason: String,
) -> Result<(), PipelineError> {
    let id = uuid::Uuid::new_v4();
    let source = RecordKey::new(pair.erp, c.erp_entity.clone(), c.erp_id.clone());
    let o = Outcome {
        outcome_id: uuid::Uuid::new_v4(),
        command_id: None,
        event_id: id,
        correlation_id: id,
        mapping: c.mapping.clone(),
        source: source.clone(),
        source_modified_on: None,
        source_etag: None,
        target_system: pair.crm,
        target_entity: c.crm_entity.clone(),
        target_id: Some(c.crm_id.clone()),
        status,
        target_modified_on: None,
        target_etag: None,
        content_hash: None,
        reverse_hash: None,
        error: None,
        reason: Some(reason),
        attempts: 0,
        latency_ms: None,
        at: now_millis(),
    };
    let bytes = encode_outcome(&o).map_err(|e| PipelineError::Stage {
        stage: "couple".into(),
        reason: e.to_string(),
    })?;
    bus.produce(&topics.outcomes, &source.to_string(), Some(&bytes), &[])
        .await?;
    let m = metrics();
    m.produced
        .with_label_values(&[topics.outcomes.as_str()])
        .inc();
    m.records
        .with_label_values(&[&c.mapping, "couple", status.as_str()])
        .inc();
    Ok(())
}

/// Couples Dataverse record `crm_id` and Business Central record `erp_id` in `m`, unless
/// either is coupled to another record. `how` says why, for the audit trail.
pub async fn couple(
    state: &StateLog,
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    m: &TableMapping,
    crm_id: &str,
    erp_id: &str,
    how: &str,
) -> Result<Coupled, CouplingError> {
    let store = state.store();
    let by_crm = store
        .coupling(&m.name, Side::Crm, crm_id)
        .map_err(PipelineError::from)?;
    let by_erp = store
        .coupling(&m.name, Side::Erp, erp_id)
        .map_err(PipelineError::from)?;
    if let Some(c) = &by_crm
        && c.erp_id == erp_id
    {
        return Ok(Coupled::Already(c.clone()));
    }
    if let Some(c) = by_crm {
        return Err(CouplingError::AlreadyCoupled {
            mapping: m.name.clone(),
            record: key(m, m.system(Side::Crm), crm_id).to_string(),
            other: key(m, m.system(Side::Erp), &c.erp_id).to_string(),
            flag: "crm-id",
            id: crm_id.to_string(),
        });
    }
    if let Some(c) = by_erp {
        return Err(CouplingError::AlreadyCoupled {
            mapping: m.name.clone(),
            record: key(m, m.system(Side::Erp), erp_id).to_string(),
            other: key(m, m.system(Side::Crm), &c.crm_id).to_string(),
            flag: "erp-id",
            id: erp_id.to_string(),
        });
    }
    let now = now_millis();
    let c = Coupling {
        mapping: m.name.clone(),
        crm_entity: m.crm_entity.clone(),
        crm_id: crm_id.to_string(),
        erp_entity: m.erp_entity.clone(),
        erp_id: erp_id.to_string(),
        crm_modified_on: None,
        erp_modified_on: None,
        crm_etag: None,
        erp_etag: None,
        hash_to_crm: None,
        hash_to_erp: None,
        coupled_at: now,
        last_sync_at: None,
        last_direction: None,
        last_result: Some(OutcomeStatus::Coupled.as_str().to_string()),
    };
    state.put_coupling(&c).await?;
    record(
        bus,
        topics,
        m.pair,
        &c,
        OutcomeStatus::Coupled,
        how.to_string(),
    )
    .await?;
    tracing::info!(mapping = %m.name, crm = %key(m, m.system(Side::Crm), crm_id), erp = %key(m, m.system(Side::Erp), erp_id), how, "Coupled.");
    Ok(Coupled::New(c))
}

/// Removes coupling `c` (both records are kept). `why` goes to the audit trail.
pub async fn uncouple(
    state: &StateLog,
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    pair: Pair,
    c: &Coupling,
    why: &str,
) -> Result<(), PipelineError> {
    state.remove_coupling(c).await?;
    record(
        bus,
        topics,
        pair,
        c,
        OutcomeStatus::Uncoupled,
        why.to_string(),
    )
    .await?;
    tracing::info!(mapping = %c.mapping, crm = %c.key(pair, Side::Crm), erp = %c.key(pair, Side::Erp), why, "Uncoupled.");
    Ok(())
}
