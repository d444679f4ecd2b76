//! Reading one page of coupled pairs through the connectors' clients (which honour
//! Retry-After, pause a throttled host and time out): both records of each pair by id, at most
//! `concurrency` pairs in flight; then the records of either side that carry one of the page's
//! natural keys, a few keys per query.

use std::collections::BTreeSet;

use futures::StreamExt;
use tracing::Instrument;

use super::error::DriftError;
use crate::event::{Fields, Side};
use crate::mapping::TableMapping;
use crate::store::Coupling;
use crate::systems::Targets;

/// Natural keys per query (`key eq 'a' or key eq 'b' …`), keeping the URL short.
pub const KEYS_PER_QUERY: usize = 15;

/// A coupled pair as the systems hold it now.
#[derive(Debug, Clone)]
pub struct PairRead {
    /// The coupling.
    pub coupling: Coupling,
    /// The CRM record (`None`: gone).
    pub crm: Option<Fields>,
    /// The ERP record (`None`: gone).
    pub erp: Option<Fields>,
}

impl PairRead {
    /// The record on `side`.
    pub fn record(&self, side: Side) -> Option<&Fields> {
        match side {
            Side::Crm => self.crm.as_ref(),
            Side::Erp => self.erp.as_ref(),
        }
    }
}

/// Reads both records of every coupling of `page`.
pub async fn read_pairs(
    targets: &Targets,
    m: &TableMapping,
    page: &[Coupling],
    concurrency: usize,
) -> Result<Vec<PairRead>, DriftError> {
    let get = |side: Side, id: String| async move {
        let set = m.entity(side);
        targets
            .side(side)
            .get(set, &id)
            .await
            .map_err(|e| DriftError::Read {
                mapping: m.name.clone(),
                what: format!("{}/{set}/{id}", m.system(side)),
                source: Box::new(e),
            })
    };
    futures::stream::iter(page.iter().cloned())
        .map(|c| {
            let span = tracing::debug_span!(
                "reconcile_pair",
                mapping = %m.name,
                crm = %format!("{}/{}/{}", m.system(Side::Crm), m.crm_entity, c.crm_id),
                erp = %format!("{}/{}/{}", m.system(Side::Erp), m.erp_entity, c.erp_id),
            );
            async move {
                let (crm, erp) = tokio::join!(
                    get(Side::Crm, c.crm_id.clone()),
                    get(Side::Erp, c.erp_id.clone())
                );
                Ok(PairRead {
                    coupling: c,
                    crm: crm?,
                    erp: erp?,
                })
            }
            .instrument(span)
        })
        .buffered(concurrency.max(1))
        .collect::<Vec<Result<PairRead, DriftError>>>()
        .await
        .into_iter()
        .collect()
}

/// The natural key of `rec` (on `side`) as its raw columns: the key, then its scope.
fn key_columns(m: &TableMapping, side: Side, rec: &Fields) -> Option<Vec<(String, String)>> {
    let text = |column: &str| {
        rec.get(column)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut out = vec![(m.key(side)?.to_string(), text(m.key(side)?)?)];
    if let Some(scope) = m.key_scope(side) {
        let v = text(scope).or_else(|| m.key_scope_default.clone())?;
        out.push((scope.to_string(), v));
    }
    Some(out)
}

/// The natural keys of `pairs` as `side` spells them: each record's own key, and the other
/// side's key value under `side`'s column names (the pipeline matches records across the
/// sides on them, so they are the same values).
pub fn keys_for(m: &TableMapping, side: Side, pairs: &[PairRead]) -> Vec<Vec<(String, String)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for p in pairs {
        for from in [side, side.other()] {
            let Some(cols) = p.record(from).and_then(|r| key_columns(m, from, r)) else {
                continue;
            };
            // Rename the other side's columns to `side`'s (key first, then scope).
            let mut renamed = Vec::new();
            for (i, (_, v)) in cols.into_iter().enumerate() {
                let column = if i == 0 {
                    m.key(side)
                } else {
                    m.key_scope(side)
                };
                if let Some(c) = column {
                    renamed.push((c.to_string(), v));
                }
            }
            if renamed.is_empty() || m.key_scope(side).is_some() && renamed.len() < 2 {
                continue;
            }
            if seen.insert(renamed.clone()) {
                out.push(renamed);
            }
        }
    }
    out
}

/// The records of `side` whose natural key is one of `keys`, read [`KEYS_PER_QUERY`] keys
/// per query.
pub async fn read_by_keys(
    targets: &Targets,
    m: &TableMapping,
    side: Side,
    keys: &[Vec<(String, String)>],
) -> Result<Vec<Fields>, DriftError> {
    let system = m.system(side);
    let set = m.entity(side);
    let mut rows = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let filter = chunk
            .iter()
            .map(|k| format!("({})", m.natural_key_filter(system, k)))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut found =
            targets
                .side(side)
                .query(set, &filter)
                .await
                .map_err(|e| DriftError::Read {
                    mapping: m.name.clone(),
                    what: format!("{system}/{set} by natural key ({filter})"),
                    source: Box::new(e),
                })?;
        rows.append(&mut found);
    }
    Ok(rows)
}
