//! Re-driving parked changes when the coupling they wait for appears.

use std::sync::Arc;

use super::fields::waiting_key;
use crate::bus::{Bus, BusError, Topics};
use crate::event::System;
use crate::event::avro::encode_change;
use crate::mapping::Catalogue;
use crate::mapping::model::Lookup;
use crate::pipeline::PipelineError;
use crate::pipeline::state::StateLog;
use crate::store::{Coupling, Store, StoreError};

/// Why re-driving failed.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    /// The projection failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log failed.
    #[error(transparent)]
    Bus(#[from] BusError),
    /// The state log failed.
    #[error(transparent)]
    State(#[from] PipelineError),
}

/// The waiting keys a new coupling satisfies.
pub fn keys_for(
    catalogue: &Catalogue,
    store: &Store,
    c: &Coupling,
) -> Result<Vec<String>, StoreError> {
    let pair = catalogue.pair();
    let mut keys = vec![
        waiting_key(&c.mapping, pair.crm, None, &c.crm_id),
        waiting_key(&c.mapping, pair.erp, None, &c.erp_id),
    ];
    for m in catalogue.ordered() {
        for f in &m.fields {
            if let Some(Lookup::Coupling {
                mapping, erp_field, ..
            }) = &f.lookup
                && *mapping == c.mapping
                && let Some(v) = store.index_value(pair.erp, &c.erp_entity, erp_field, &c.erp_id)?
            {
                let k = waiting_key(&c.mapping, pair.erp, Some(erp_field), &v);
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
    }
    Ok(keys)
}

/// True when what `waiting_for` names is coupled now.
pub fn resolvable(
    catalogue: &Catalogue,
    store: &Store,
    waiting_for: &str,
) -> Result<bool, StoreError> {
    let mut parts = waiting_for.splitn(3, '/');
    let (Some(mapping), Some(system), Some(rest)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(false);
    };
    let Ok(system) = system.parse::<System>() else {
        return Ok(false);
    };
    match rest.split_once('=') {
        None => Ok(store.coupling(mapping, system.side(), rest)?.is_some()),
        Some((field, value)) => {
            let Some(m) = catalogue.get(mapping) else {
                return Ok(false);
            };
            match store.index_id(system, m.entity(system), field, value)? {
                Some(id) => Ok(store.coupling(mapping, system, &id)?.is_some()),
                None => Ok(false),
            }
        }
    }
}

/// Takes the changes parked on `keys` and puts them back on the changes topic.
pub async fn redrive_keys(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    state: &StateLog,
    keys: &[String],
) -> Result<usize, RedriveError> {
    let mut n = 0;
    for k in keys {
        let claimed = state.claim_parked(k)?;
        let mut pending = claimed.iter();
        while let Some(p) = pending.next() {
            let mut ev = p.event.clone();
            ev.redrive += 1;
            let bytes = match encode_change(&ev) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(record = %ev.source, error = %e, "Cannot re-encode a parked change.");
                    continue;
                }
            };
            let sent = bus
                .produce(
                    &topics.changes,
                    &ev.source.to_string(),
                    Some(&bytes),
                    &[("couplet-redrive".into(), k.clone())],
                )
                .await;
            if let Err(e) = sent {
                // Not re-driven: back into the local store (the changelog still has them), to
                // be re-driven by the next sweep.
                state.unclaim_parked(p)?;
                for rest in pending {
                    state.unclaim_parked(rest)?;
                }
                return Err(e.into());
            }
            state.release_parked(p).await?;
            tracing::debug!(record = %ev.source, waiting_for = %k, "Parked change re-driven.");
            n += 1;
        }
    }
    Ok(n)
}

/// Re-drives every parked change whose dependency is coupled now.
pub async fn redrive_resolvable(
    catalogue: &Catalogue,
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    state: &StateLog,
) -> Result<usize, RedriveError> {
    let store = state.store();
    let mut keys: Vec<String> = Vec::new();
    for p in store.parked()? {
        if !keys.contains(&p.waiting_for) && resolvable(catalogue, store, &p.waiting_for)? {
            keys.push(p.waiting_for);
        }
    }
    redrive_keys(bus, topics, state, &keys).await
}

/// Runs until `shutdown`: re-drives on every new coupling, and sweeps all parked changes
/// every `sweep` as a safety net.
pub async fn run(
    catalogue: Arc<Catalogue>,
    bus: Arc<dyn Bus>,
    topics: Topics,
    state: StateLog,
    sweep: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), RedriveError> {
    let store = state.store().clone();
    let mut rx = store.watch_couplings();
    let mut tick = tokio::time::interval(sweep);
    loop {
        if let Err(e) = step(
            &catalogue,
            &bus,
            &topics,
            &state,
            &store,
            &mut rx,
            &mut tick,
            &mut shutdown,
        )
        .await
        {
            match &e {
                RedriveError::Bus(b)
                    if crate::error::Classify::retry(b) != crate::error::Retry::Never => {}
                RedriveError::State(p) if p.is_transient() => {}
                _ => return Err(e),
            }
            tracing::warn!(error = %e, "Re-driving parked changes waits for the log.");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            continue;
        }
        if *shutdown.borrow() {
            return Ok(());
        }
    }
}

/// One wait of the re-driver: a new coupling, a sweep tick, or shutdown.
#[allow(clippy::too_many_arguments)]
async fn step(
    catalogue: &Arc<Catalogue>,
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    state: &StateLog,
    store: &Store,
    rx: &mut tokio::sync::broadcast::Receiver<Coupling>,
    tick: &mut tokio::time::Interval,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Result<(), RedriveError> {
    {
        tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            _ = tick.tick() => {
                redrive_resolvable(catalogue, bus, topics, state).await?;
            }
            c = rx.recv() => match c {
                Ok(c) => {
                    let keys = keys_for(catalogue, store, &c)?;
                    redrive_keys(bus, topics, state, &keys).await?;
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    redrive_resolvable(catalogue, bus, topics, state).await?;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }
    Ok(())
}
