//! One write command against its target: idempotent create (natural-key lookup first),
//! update of the coupled record, or delete.

use std::sync::Arc;

use chrono::Utc;

use super::intent::{Found, Intents};
use super::locks::KeyLocks;
use crate::error::Classify;
use crate::event::{Fields, Outcome, OutcomeStatus, WriteCommand, WriteOp};
use crate::mapping::Catalogue;
use crate::mapping::model::{DeletionPolicy, Direction, TableMapping};
use crate::pipeline::PipelineError;
use crate::store::Coupling;
use crate::store::project::index_record;
use crate::store::{Store, StoreError};
use crate::systems::Targets;
use crate::systems::{SystemError, Written};
use crate::transform::CurrencyTable;
use crate::transform::fields::Context;
use crate::transform::flow::FlowTargets;

/// Executes write commands.
#[derive(Clone)]
pub struct Writer {
    targets: Targets,
    store: Store,
    catalogue: Arc<Catalogue>,
    locks: Arc<KeyLocks>,
    currencies: CurrencyTable,
    intents: Option<Intents>,
}

impl Writer {
    /// A writer.
    pub fn new(targets: Targets, store: Store, catalogue: Arc<Catalogue>) -> Self {
        Writer {
            targets,
            store,
            catalogue,
            locks: Arc::new(KeyLocks::default()),
            currencies: CurrencyTable::new(""),
            intents: None,
        }
    }

    /// Uses `currencies` to map target records back when checking update conflicts (without
    /// it, a target record with a currency counts as changed whenever its ETag moved).
    pub fn with_currencies(mut self, currencies: CurrencyTable) -> Self {
        self.currencies = currencies;
        self
    }

    /// Logs a create intent before every create and checks the open ones first (see
    /// [`super::intent`]); without it (one-off tools), a crash between a create and its
    /// coupling can leave a record that a retry does not find.
    pub fn with_intents(mut self, intents: Intents) -> Self {
        self.intents = Some(intents);
        self
    }

    /// The create-intent log, when there is one.
    pub fn intents(&self) -> Option<&Intents> {
        self.intents.as_ref()
    }

    /// Serialises commands of the same natural key: hold the guard from before [`Writer::execute`]
    /// until the outcome is projected, so a create from the other side sees the coupling whole.
    pub async fn lock(&self, cmd: &WriteCommand) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        let values: Vec<&str> = cmd.natural_key.iter().map(|(_, v)| v.as_str()).collect();
        if values.is_empty() {
            return None;
        }
        Some(
            self.locks
                .lock(&format!("{}/{}", cmd.mapping, values.join("/")))
                .await,
        )
    }

    /// Executes `cmd` and says what happened. Only a broken projection is an error; every
    /// failure of the target is an outcome with status `failed`.
    pub async fn execute(&self, cmd: &WriteCommand) -> Result<Outcome, PipelineError> {
        self.execute_with(cmd, false).await
    }

    /// [`Writer::execute`]; with `force` (`couplet sync-now`) the stale and unchanged
    /// rechecks are skipped, and a create that finds the record by its natural key overwrites
    /// it with the source's values whatever `on_match` says.
    pub async fn execute_with(
        &self,
        cmd: &WriteCommand,
        force: bool,
    ) -> Result<Outcome, PipelineError> {
        let Some(m) = self.catalogue.get(&cmd.mapping).cloned() else {
            return Ok(Outcome::failed_command(
                cmd,
                "unknown_mapping",
                "user",
                None,
                format!(
                    "{}: mapping '{}' is not configured",
                    cmd.source, cmd.mapping
                ),
            ));
        };

        let s = cmd.source.system;
        let t = cmd.target_system;
        if let Some(o) = self.execute_in_flow(&m, cmd).await {
            return o;
        }
        let coupling = self.store.coupling(&m.name, s, &cmd.source.id)?;
        let mut op = cmd.op;
        let mut target_id = cmd.target_id.clone();
        match (op, &coupling) {
            (WriteOp::Create, Some(c)) | (WriteOp::Update, Some(c)) => {
                // Coupled since the transform decided (or re-coupled): recheck staleness.
                if !force
                    && c.is_older(s, cmd.source_modified_on, cmd.source_etag.as_deref())
                    && let (Some(seen), Some(synced)) = (cmd.source_modified_on, c.modified_on(s))
                {
                    let mut o = Outcome::for_command(cmd, OutcomeStatus::Stale);
                    o.target_id = Some(c.id_on(t).to_string());
                    o.reason = Some(format!(
                        "modified {seen}, older than the last synchronised version ({synced})"
                    ));
                    return Ok(o);
                }
                if !force
                    && c.hash_to(t) == Some(cmd.content_hash.as_str())
                    && op != WriteOp::Delete
                {
                    let mut o = Outcome::for_command(cmd, OutcomeStatus::Unchanged);
                    o.target_id = Some(c.id_on(t).to_string());
                    o.reason = Some("the mapped values equal the last synchronised ones".into());
                    return Ok(o);
                }
                if op == WriteOp::Create {
                    op = WriteOp::Update;
                }
                target_id = Some(c.id_on(t).to_string());
            }
            (WriteOp::Update, None) => {
                // The coupling was removed meanwhile: find or create again.
                op = WriteOp::Create;
                target_id = None;
            }
            _ => {}
        }
        let entity = cmd.target_entity.as_str();
        let target = self.targets.get(t);
        let result = match (op, target_id) {
            (WriteOp::Delete, Some(id)) => target.delete(entity, &id).await.map(|_| {
                let mut o = Outcome::for_command(cmd, OutcomeStatus::Deleted);
                o.target_id = Some(id);
                o
            }),
            (WriteOp::Delete, None) => Ok(Outcome::for_command(cmd, OutcomeStatus::Filtered)),
            (WriteOp::Update, Some(id)) => {
                // Conditional on the version last synchronised: a target changed meanwhile
                // is an update conflict candidate (bidirectional mappings only). A forced
                // write (`couplet sync-now`) overwrites the target whatever it holds.
                let if_match = coupling
                    .as_ref()
                    .filter(|_| m.direction == Direction::Bidirectional && !force)
                    .and_then(|c| c.etag(t).map(str::to_string));
                match target
                    .update(entity, &id, &cmd.fields, if_match.as_deref())
                    .await
                {
                    Ok(w) => Ok(self.written(cmd, &m, OutcomeStatus::Updated, w, None)?),
                    Err(SystemError::NotFound { .. }) => {
                        self.deletion_conflict(cmd, &m, id).await?
                    }
                    Err(SystemError::Conflict { .. }) if if_match.is_some() => {
                        let c = coupling.as_ref().cloned();
                        match c {
                            Some(c) => self.update_conflict(cmd, &m, &c, id).await?,
                            None => Ok(Outcome::for_command(cmd, OutcomeStatus::Stale)),
                        }
                    }
                    Err(e) => Err(e),
                }
            }
            _ => self.create(cmd, &m, force).await?,
        };
        Ok(match result {
            Ok(o) => o,
            Err(e) => failed_write(cmd, &e),
        })
    }

    /// Executes `cmd` in its mapping's document flow, when the flow takes it; every
    /// configured flow then sees the write.
    async fn execute_in_flow(
        &self,
        m: &TableMapping,
        cmd: &WriteCommand,
    ) -> Option<Result<Outcome, PipelineError>> {
        let cx = FlowTargets {
            targets: &self.targets,
            store: &self.store,
            catalogue: &self.catalogue,
            currencies: &self.currencies,
        };
        let o = match crate::flows::of_mapping(m)?.execute(&cx, m, cmd).await? {
            Ok(o) => o,
            Err(e) => return Some(Err(e.into())),
        };
        for flow in crate::flows::configured(&self.catalogue) {
            flow.after_write(&cx, m, cmd, &o).await;
        }
        Some(Ok(o))
    }

    async fn create(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        force: bool,
    ) -> Result<Result<Outcome, SystemError>, PipelineError> {
        let s = cmd.source.system;
        let t = cmd.target_system;
        let entity = cmd.target_entity.as_str();
        let target = self.targets.get(t);
        if let Some((field, value)) = cmd.natural_key.first() {
            // The key, within its scope when it has one (`CustomerAccount` in `dataAreaId`).
            let found = match match cmd.natural_key.len() {
                1 => {
                    target
                        .find_eq(entity, field, &serde_json::Value::String(value.clone()))
                        .await
                }
                _ => {
                    target
                        .query(entity, &m.natural_key_filter(t, &cmd.natural_key))
                        .await
                }
            } {
                Ok(f) => f,
                Err(e) => return Ok(Err(e)),
            };
            match found.len() {
                0 => {}
                1 => {
                    let rec = &found[0];
                    let Some(id) = t.record_id(entity, rec) else {
                        return Ok(Ok(Outcome::failed_command(
                            cmd,
                            "malformed",
                            "external",
                            None,
                            format!(
                                "{t}/{entity} returned a record without an id for {field} = '{value}'"
                            ),
                        )));
                    };
                    if let Some(other) = self
                        .store
                        .coupling(&m.name, t, &id)?
                        .filter(|o| o.id_on(s) != cmd.source.id)
                    {
                        return Ok(Ok(Outcome::failed_command(
                            cmd,
                            "duplicate_key",
                            "user",
                            Some(field.clone()),
                            format!(
                                "{}: {t}/{entity}/{id} has {field} = '{value}' but is already coupled to {}/{}/{}; make the natural keys unique, then retry",
                                cmd.source,
                                s,
                                m.entity(s),
                                other.id_on(s)
                            ),
                        )));
                    }
                    let how = format!(
                        "matched existing {t}/{entity}/{id} by {field} = '{value}'{}",
                        if force { " (sync-now)" } else { "" }
                    );
                    let source_wins = force || m.on_match.winner() == s.side();
                    return Ok(self.matched(cmd, m, source_wins, &id, rec, how).await?);
                }
                n => {
                    return Ok(Ok(Outcome::failed_command(
                        cmd,
                        "ambiguous",
                        "user",
                        Some(field.clone()),
                        format!(
                            "{}: {n} records in {t}/{entity} have {field} = '{value}'; Couplet never guesses: couple one by hand or remove the duplicates",
                            cmd.source
                        ),
                    )));
                }
            }
        }
        if let Some(intents) = &self.intents {
            match intents
                .before_create(cmd, m, target, self.targets.get(s))
                .await?
            {
                Err(e) => return Ok(Err(e)),
                Ok(Found::Record { id, rec, how, ours }) => {
                    // A copy this very source made wins over nothing: it gets the source's
                    // current values. Otherwise matching rules apply, as for a natural key.
                    let source_wins = ours || force || m.on_match.winner() == s.side();
                    return Ok(self.matched(cmd, m, source_wins, &id, &rec, how).await?);
                }
                Ok(Found::Ambiguous(reason)) => {
                    return Ok(Ok(Outcome::failed_command(
                        cmd,
                        "ambiguous",
                        "user",
                        None,
                        reason,
                    )));
                }
                Ok(Found::Nothing) => {}
            }
            intents.log(cmd).await?;
        }
        Ok(match target.create(entity, &cmd.fields).await {
            Ok(w) => Ok(self.written(cmd, m, OutcomeStatus::Created, w, None)?),
            Err(e) => Err(e),
        })
    }

    /// Couples `cmd`'s source with the existing target record `id` found instead of creating
    /// one (`how` says how it was found): the mapping's `on_match` side wins, or the source's
    /// values when `force`.
    async fn matched(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        source_wins: bool,
        id: &str,
        rec: &Fields,
        how: String,
    ) -> Result<Result<Outcome, SystemError>, StoreError> {
        let (s, t) = (cmd.source.system, cmd.target_system);
        let entity = cmd.target_entity.as_str();
        let target = self.targets.get(t);
        index_record(&self.store, &self.catalogue, m, t, id, rec)?;
        if source_wins {
            let etag_of = |r: &Fields| {
                r.get("@odata.etag")
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let mut etag = etag_of(rec);
            let reason = format!("{how}; {s} values win");
            // The source's values win, whatever the record holds: when it changed between the
            // read and the write (an earlier attempt of this very write whose answer was lost
            // may land late), it is read again and written over with its new ETag; a record
            // that keeps changing is left to the wait-and-retry of a transient fault.
            let mut attempts = 0;
            return Ok(loop {
                attempts += 1;
                match target
                    .update(entity, id, &cmd.fields, etag.as_deref())
                    .await
                {
                    Ok(w) => {
                        break Ok(self.written(cmd, m, OutcomeStatus::Updated, w, Some(reason))?);
                    }
                    Err(SystemError::Conflict { system, .. }) if attempts >= 3 => {
                        break Err(SystemError::Unavailable {
                            system,
                            operation: "update",
                            status: None,
                            message: format!(
                                "{system}/{entity}/{id} changed under each of {attempts} writes of its matched values; tried again later"
                            ),
                        });
                    }
                    Err(SystemError::Conflict { .. }) => match target.get(entity, id).await {
                        Ok(Some(now)) => etag = etag_of(&now),
                        Ok(None) => {
                            break Err(SystemError::NotFound {
                                system: t,
                                operation: "update",
                                message: format!("{t}/{entity}/{id} is gone"),
                            });
                        }
                        Err(e) => break Err(e),
                    },
                    Err(e) => break Err(e),
                }
            });
        }
        let mut o = Outcome::for_command(cmd, OutcomeStatus::Coupled);
        o.target_id = Some(id.to_string());
        o.reason = Some(format!(
            "{how}; coupled without writing ({t} values win on match)"
        ));
        Ok(Ok(o))
    }

    fn written(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        status: OutcomeStatus,
        w: Written,
        reason: Option<String>,
    ) -> Result<Outcome, StoreError> {
        index_record(
            &self.store,
            &self.catalogue,
            m,
            cmd.target_system,
            &w.id,
            &w.fields,
        )?;
        let mut o = Outcome::for_command(cmd, status);
        o.target_id = Some(w.id);
        o.target_etag = w.etag;
        o.target_modified_on = w.modified_on;
        o.reason = reason;
        o.latency_ms = cmd
            .source_modified_on
            .map(|t| (Utc::now() - t).num_milliseconds().max(0));
        Ok(o)
    }

    /// The coupled target record is gone. `remove_coupling`/`propagate`: uncouple;
    /// `restore`: create it again from the source's values and couple the new record; `none`:
    /// fail with a deletion conflict.
    async fn deletion_conflict(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        id: String,
    ) -> Result<Result<Outcome, SystemError>, StoreError> {
        let t = cmd.target_system;
        Ok(Ok(match m.deletion {
            DeletionPolicy::RemoveCoupling | DeletionPolicy::Propagate => {
                let mut o = Outcome::for_command(cmd, OutcomeStatus::Uncoupled);
                o.target_id = Some(id.clone());
                o.reason = Some(format!(
                    "the coupled {t}/{}/{id} was deleted; coupling removed (deletion policy {}), the next change of {} creates a new record",
                    cmd.target_entity,
                    m.deletion.as_str(),
                    cmd.source
                ));
                o
            }
            DeletionPolicy::Restore => {
                let target = self.targets.get(t);
                return Ok(match target.create(&cmd.target_entity, &cmd.fields).await {
                    Ok(w) => Ok(self.written(
                        cmd,
                        m,
                        OutcomeStatus::Created,
                        w,
                        Some(format!(
                            "the coupled {t}/{}/{id} was deleted; restored from {} as a new record and coupled (deletion policy restore)",
                            cmd.target_entity, cmd.source
                        )),
                    )?),
                    Err(e) => Err(e),
                });
            }
            DeletionPolicy::None => Outcome::failed_command(
                cmd,
                "deletion_conflict",
                "user",
                None,
                format!(
                    "mapping {}: {} cannot be synchronised: it is coupled to {t}/{}/{id}, which was deleted (deletion policy none); uncouple it or restore the record, then `couplet errors retry`",
                    m.name, cmd.source, cmd.target_entity
                ),
            ),
        }))
    }

    /// The target changed since the last synchronisation (its ETag moved). Reads it: when its
    /// mapped values are what was last synchronised, or no bidirectional field differs, the
    /// write goes ahead; otherwise the mapping's `update_conflict` policy decides.
    async fn update_conflict(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        c: &Coupling,
        id: String,
    ) -> Result<Result<Outcome, SystemError>, StoreError> {
        let s = cmd.source.system;
        let t = cmd.target_system;
        let entity = cmd.target_entity.as_str();
        let target = self.targets.get(t);
        let current = match target.get(entity, &id).await {
            Ok(Some(r)) => r,
            Ok(None) => return self.deletion_conflict(cmd, m, id).await,
            Err(e) => return Ok(Err(e)),
        };
        let etag = current
            .get("@odata.etag")
            .and_then(|v| v.as_str())
            .map(str::to_string);
        let cx = Context {
            catalogue: &self.catalogue,
            store: &self.store,
            currencies: &self.currencies,
        };
        let changed = super::conflict::target_changed(m, t, &current, c.hash_to(s), &cx);
        let differing = super::conflict::differing_fields(m, t, &cmd.fields, &current);
        let winner = m.update_conflict.winner();
        if !changed || differing.is_empty() || winner == Some(s.side()) {
            let why = (changed && !differing.is_empty()).then(|| {
                format!(
                    "update conflict on {} ({t}/{entity}/{id} changed too); {s} wins (update_conflict {})",
                    differing.join(", "),
                    m.update_conflict.as_str()
                )
            });
            return Ok(
                match target
                    .update(entity, &id, &cmd.fields, etag.as_deref())
                    .await
                {
                    Ok(w) => Ok(self.written(cmd, m, OutcomeStatus::Updated, w, why)?),
                    Err(e) => Err(e),
                },
            );
        }
        if winner == Some(t.side()) {
            let mut o = Outcome::for_command(cmd, OutcomeStatus::Stale);
            o.target_id = Some(id.clone());
            o.reason = Some(format!(
                "update conflict on {}: {t}/{entity}/{id} changed too; {t} wins (update_conflict {}), {} is overwritten by its next synchronisation",
                differing.join(", "),
                m.update_conflict.as_str(),
                cmd.source
            ));
            return Ok(Ok(o));
        }
        Ok(Ok(Outcome::failed_command(
            cmd,
            "update_conflict",
            "user",
            differing.first().cloned(),
            format!(
                "mapping {}: update conflict between {} and {t}/{entity}/{id}: both changed since the last synchronisation and {} differ{}; edit one side so they agree (or set update_conflict = \"crm_wins\" or \"erp_wins\"), then `couplet errors retry`",
                m.name,
                cmd.source,
                differing.join(", "),
                if differing.len() == 1 { "s" } else { "" }
            ),
        )))
    }
}

/// The outcome of a write the target did not take: a fault of the system's (unavailable,
/// throttled) is not a refusal (the record waits); only what the system refused is "rejected".
fn failed_write(cmd: &WriteCommand, e: &SystemError) -> Outcome {
    let t = cmd.target_system;
    let verb = if crate::systems::error::is_transient_class(e.class()) {
        "could not take"
    } else {
        "rejected"
    };
    let reason = format!(
        "{t} {verb} the write of {} to {t}/{}{}: {e}",
        cmd.source,
        cmd.target_entity,
        cmd.target_id
            .as_ref()
            .map(|i| format!("/{i}"))
            .unwrap_or_default()
    );
    let field = e.field().map(str::to_string);
    Outcome::failed_command(cmd, e.class(), e.actor().as_str(), field, reason)
}
