//! The dry-run: reads the captured changes of a window from the log, decides each with the
//! new mappings (the transform's own [`Transformer`], on a scratch copy of the state), and
//! compares the decision with what the log shows the change led to.
//!
//! Nothing is written: the log is read by consumers of its own (a fresh group, no offset ever
//! committed), no topic is created, and the state the decisions need (the couplings, the
//! full-synchronisation runs) is read from the changelogs into a scratch projection in a
//! temporary directory, removed at the end. The running deployment's projection is never
//! opened, so a dry-run on Kafka works beside a running instance.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::compare::{Compared, compare};
use super::error::DryRunError;
use super::logged::{LogIndex, Logged};
use super::model::{ChangeDiff, MappingCounts, RecordDiff, Report, Verdict};
use crate::bus::{Bus, StartFrom, Topics};
use crate::event::avro::decode_change;
use crate::event::{ChangeEvent, WriteOp};
use crate::mapping::Catalogue;
use crate::pipeline::audit::index_natural_keys;
use crate::pipeline::follow::apply_state_message;
use crate::pipeline::replay::read_topic;
use crate::store::{Coupling, Store};
use crate::systems::Target;
use crate::transform::currency::{CurrencySource, CurrencyTable};
use crate::transform::{Decision, Transformer};

/// The mappings to try, and what their decisions need besides the state.
pub struct NewMappings {
    /// The new mappings (a file's, with the default document flows it inherits).
    pub catalogue: Arc<Catalogue>,
    /// `[orders]`, for the sales-order mapping.
    pub orders: crate::orders::OrdersConfig,
    /// The ERP, whose document builders the document flows decide with (no call is made).
    pub erp: Option<Target>,
    /// The ERP's local currency code (`[sync] lcy_code`).
    pub lcy: String,
    /// Where the CRM's currencies are read from (a read, once, when a change needs them).
    pub currencies: Option<Arc<dyn CurrencySource>>,
}

/// Which changes to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Window {
    /// Every change the log holds.
    All,
    /// The changes appended at or after this time.
    Since(DateTime<Utc>),
    /// The last N changes (by append time).
    Last(usize),
}

impl Window {
    /// How the report names the window.
    pub fn describe(&self) -> String {
        match self {
            Window::All => "every change on the log".into(),
            Window::Since(t) => format!("changes since {}", t.to_rfc3339()),
            Window::Last(n) => format!("the last {n} changes"),
        }
    }
}

/// Replays the changes of `window` (of mapping `only`, or all) through `new` and reports
/// what they would have written differently. Writes nothing.
pub async fn dry_run(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    new: NewMappings,
    only: Option<&str>,
    window: &Window,
) -> Result<Report, DryRunError> {
    let (_scratch, store) = scratch_state(bus, topics).await?;
    let mut undecodable = 0;
    let changes = read_changes(
        bus,
        topics,
        (&store, &new.catalogue),
        window,
        only,
        &mut undecodable,
    )
    .await?;
    let log = read_log(bus, topics).await?;
    undecodable += log.undecodable;
    let currencies = CurrencyTable::new(&new.lcy);
    let mut transformer =
        Transformer::new(new.catalogue.clone(), store.clone(), currencies.clone())
            .with_orders(new.orders.clone());
    if let Some(erp) = &new.erp {
        transformer = transformer.with_erp(erp.clone());
    }
    let mut acc = Accumulator::new(bus.backend(), window, undecodable);
    let mut decider = Decider {
        transformer,
        store,
        currencies,
        source: new.currencies.clone(),
        loaded: false,
    };
    for ev in &changes {
        if new.catalogue.get(&ev.mapping).is_none() {
            *acc.report
                .missing_mappings
                .entry(ev.mapping.clone())
                .or_default() += 1;
            continue;
        }
        let logged = log.logged(ev);
        let span = tracing::info_span!("dry_run", record = %ev.source, mapping = %ev.mapping, event_id = %ev.event_id);
        let decision = decider.decide(ev, &logged).instrument(span).await?;
        let baseline = logged
            .decided_at()
            .and_then(|at| log.last_write_before(ev, at));
        acc.add(ev, &logged, compare(&logged, &decision, baseline));
    }
    Ok(acc.finish())
}

/// A scratch projection (removed when the directory is dropped) holding the couplings and
/// the checkpoints (full-synchronisation runs) of the changelogs.
async fn scratch_state(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
) -> Result<(tempfile::TempDir, Store), DryRunError> {
    let dir = tempfile::Builder::new()
        .prefix("couplet-dry-run-")
        .tempdir()
        .map_err(|e| crate::store::StoreError::Io {
            path: std::env::temp_dir(),
            reason: format!("creating the dry-run's scratch projection: {e}"),
        })?;
    let store = Store::open(&dir.path().join("projection"))?;
    for t in [&topics.couplings, &topics.checkpoints] {
        read_topic(bus, t, StartFrom::Earliest, |m| {
            apply_state_message(&store, topics, m)
        })
        .await?;
    }
    Ok((dir, store))
}

/// The distinct changes of `window` (the latest copy of a re-driven change), of mapping
/// `only` or all, in append order. Every change of the log is read, to index the natural keys
/// the lookups resolve by (a customer's number) in the scratch projection, as the running
/// instances' audit indexers do.
async fn read_changes(
    bus: &Arc<dyn Bus>,
    topics: &Topics,
    scratch: (&Store, &Catalogue),
    window: &Window,
    only: Option<&str>,
    undecodable: &mut u64,
) -> Result<Vec<ChangeEvent>, DryRunError> {
    let since = match window {
        Window::Since(t) => Some(*t),
        _ => None,
    };
    let mut read: Vec<(DateTime<Utc>, u64, ChangeEvent)> = Vec::new();
    let mut seq = 0;
    read_topic(bus, &topics.changes, StartFrom::Earliest, |m| {
        index_natural_keys(scratch.0, scratch.1, topics, m)?;
        match decode_change(m.bytes()) {
            Ok(ev)
                if only.is_none_or(|o| o == ev.mapping)
                    && since.is_none_or(|t| m.timestamp >= t) =>
            {
                read.push((m.timestamp, seq, ev));
                seq += 1;
            }
            Ok(_) => {}
            Err(_) => *undecodable += 1,
        }
        Ok(())
    })
    .await?;
    read.sort_by_key(|(t, s, _)| (*t, *s));
    // The latest copy of each event id, at the place of its latest copy.
    let mut last: HashMap<uuid::Uuid, usize> = HashMap::new();
    for (i, (_, _, ev)) in read.iter().enumerate() {
        last.insert(ev.event_id, i);
    }
    let mut changes: Vec<ChangeEvent> = read
        .into_iter()
        .enumerate()
        .filter(|(i, (_, _, ev))| last.get(&ev.event_id) == Some(i))
        .map(|(_, (_, _, ev))| ev)
        .collect();
    if let Window::Last(n) = window {
        let skip = changes.len().saturating_sub(*n);
        changes.drain(..skip);
    }
    Ok(changes)
}

/// Every command and outcome of the log, by change.
async fn read_log(bus: &Arc<dyn Bus>, topics: &Topics) -> Result<LogIndex, DryRunError> {
    let mut log = LogIndex::default();
    read_topic(bus, &topics.commands, StartFrom::Earliest, |m| {
        log.add_command(m);
        Ok(())
    })
    .await?;
    read_topic(bus, &topics.outcomes, StartFrom::Earliest, |m| {
        log.add_outcome(m);
        Ok(())
    })
    .await?;
    Ok(log)
}

/// Decides changes with the new mappings on the scratch state.
struct Decider {
    transformer: Transformer,
    store: Store,
    currencies: CurrencyTable,
    source: Option<Arc<dyn CurrencySource>>,
    loaded: bool,
}

impl Decider {
    /// The new mappings' decision on `ev`, with the record's own coupling as the logged
    /// decision saw it (see [`Decider::as_logged`]). Decided as `sync-now` decides (`force`):
    /// the echo, stale and unchanged checks compare with hashes the old mappings wrote, so
    /// they are left to the comparison ([`super::compare`]).
    async fn decide(&mut self, ev: &ChangeEvent, logged: &Logged) -> Result<Decision, DryRunError> {
        let restore = self.as_logged(ev, logged)?;
        let mut d = self.decide_once(ev, self.loaded);
        if matches!(d, Ok(Decision::RefreshCurrencies)) {
            self.load_currencies().await;
            d = self.decide_once(ev, true);
        }
        restore.undo(&self.store)?;
        d
    }

    fn decide_once(&self, ev: &ChangeEvent, fresh: bool) -> Result<Decision, DryRunError> {
        self.transformer
            .decide_with(ev, fresh, true)
            .map_err(|source| DryRunError::Decide {
                record: ev.source.to_string(),
                source,
            })
    }

    /// Reads the CRM's currencies (once).
    async fn load_currencies(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let Some(source) = &self.source else { return };
        match source.load().await {
            Ok(rows) => self.currencies.set(rows),
            Err(e) => {
                tracing::warn!(error = %e, "Could not read the CRM's currencies; changes with a currency are decided without them (and would fail).")
            }
        }
    }

    /// Makes the scratch state's coupling of `ev`'s record what the logged decision saw: none
    /// for a logged create (the record was coupled by it, since), the logged target for a
    /// decision that named one (a deleted record's coupling is gone since). Returns how to undo
    /// it.
    fn as_logged(&self, ev: &ChangeEvent, logged: &Logged) -> Result<Undo, DryRunError> {
        let s = ev.source.system;
        let now = self.store.coupling(&ev.mapping, s, &ev.source.id)?;
        if let (Logged::Wrote { command, .. }, Some(c)) = (logged, &now)
            && command.op == WriteOp::Create
        {
            self.store.remove_coupling(&ev.mapping, s, &ev.source.id)?;
            return Ok(Undo::Put(c.clone()));
        }
        let target = match logged {
            Logged::Wrote { command, .. } => command
                .target_id
                .clone()
                .map(|id| (command.target_entity.clone(), id)),
            Logged::Decided(o) => o.target_id.clone().map(|id| (o.target_entity.clone(), id)),
            Logged::Pending => None,
        };
        let (Some((t_entity, t_id)), None) = (target, now) else {
            return Ok(Undo::Nothing);
        };
        let (crm, erp) = if s.is_crm() {
            (
                (ev.source.entity.clone(), ev.source.id.clone()),
                (t_entity, t_id),
            )
        } else {
            (
                (t_entity, t_id),
                (ev.source.entity.clone(), ev.source.id.clone()),
            )
        };
        let c = Coupling {
            mapping: ev.mapping.clone(),
            crm_entity: crm.0,
            crm_id: crm.1,
            erp_entity: erp.0,
            erp_id: erp.1,
            crm_modified_on: None,
            erp_modified_on: None,
            crm_etag: None,
            erp_etag: None,
            hash_to_crm: None,
            hash_to_erp: None,
            coupled_at: ev.captured_at,
            last_sync_at: None,
            last_direction: None,
            last_result: None,
        };
        self.store.put_coupling(&c)?;
        Ok(Undo::Remove(c))
    }
}

/// How to undo [`Decider::as_logged`].
enum Undo {
    Nothing,
    Put(Coupling),
    Remove(Coupling),
}

impl Undo {
    fn undo(self, store: &Store) -> Result<(), DryRunError> {
        match self {
            Undo::Nothing => {}
            Undo::Put(c) => store.put_coupling(&c)?,
            Undo::Remove(c) => {
                store.remove_coupling(&c.mapping, crate::event::Side::Crm, &c.crm_id)?;
            }
        }
        Ok(())
    }
}

/// Builds the report change by change.
struct Accumulator {
    report: Report,
    records: HashMap<(String, String), usize>,
    seen: HashMap<String, HashSet<String>>,
}

impl Accumulator {
    fn new(backend: &str, window: &Window, undecodable: u64) -> Self {
        Accumulator {
            report: Report {
                backend: backend.to_string(),
                window: window.describe(),
                changes: 0,
                undecodable,
                missing_mappings: BTreeMap::new(),
                mappings: BTreeMap::new(),
                records: Vec::new(),
            },
            records: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    fn add(&mut self, ev: &ChangeEvent, logged: &Logged, c: Compared) {
        let record = ev.source.to_string();
        self.report.changes += 1;
        let counts: &mut MappingCounts =
            self.report.mappings.entry(ev.mapping.clone()).or_default();
        counts.changes += 1;
        if self
            .seen
            .entry(ev.mapping.clone())
            .or_default()
            .insert(record.clone())
        {
            counts.records += 1;
        }
        *counts.verdicts.entry(c.verdict).or_default() += 1;
        for f in &c.fields {
            match f.change {
                super::model::FieldChange::Added => counts.fields_added += 1,
                super::model::FieldChange::Removed => counts.fields_removed += 1,
                super::model::FieldChange::Changed => counts.fields_changed += 1,
            }
        }
        if c.verdict == Verdict::Same {
            return;
        }
        let diff = ChangeDiff {
            event_id: ev.event_id,
            captured_at: ev.captured_at,
            verdict: c.verdict,
            was: logged.label(),
            would: c.would,
            reason: c.reason,
            fields: c.fields,
        };
        let key = (ev.mapping.clone(), record.clone());
        let i = *self.records.entry(key).or_insert_with(|| {
            self.report.records.push(RecordDiff {
                record,
                mapping: ev.mapping.clone(),
                changes: Vec::new(),
            });
            self.report.records.len() - 1
        });
        self.report.records[i].changes.push(diff);
    }

    fn finish(self) -> Report {
        self.report
    }
}
