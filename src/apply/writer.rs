//! One write command against its target: idempotent create (natural-key lookup first),
//! update of the coupled record, or delete.

use std::sync::Arc;

use chrono::Utc;

use super::locks::KeyLocks;
use crate::error::Classify;
use crate::event::types::{OutcomeError, now_millis};
use crate::event::{Fields, Outcome, OutcomeStatus, System, WriteCommand, WriteOp};
use crate::mapping::Catalogue;
use crate::mapping::model::{DeletionPolicy, TableMapping};
use crate::store::project::index_record;
use crate::store::{Store, StoreError};
use crate::systems::{SystemError, Target, Written};

/// The clients of both sides.
#[derive(Clone)]
pub struct Targets {
    /// Dataverse.
    pub crm: Target,
    /// Business Central.
    pub erp: Target,
}

impl Targets {
    /// The client for `system`.
    pub fn get(&self, system: System) -> &Target {
        if system.is_crm() {
            &self.crm
        } else {
            &self.erp
        }
    }
}

/// Executes write commands.
#[derive(Clone)]
pub struct Writer {
    targets: Targets,
    store: Store,
    catalogue: Arc<Catalogue>,
    locks: Arc<KeyLocks>,
}

/// The id column of a record returned by `system` for `entity`.
pub fn record_id(system: System, entity: &str, rec: &Fields) -> Option<String> {
    let col = if system.is_crm() {
        format!("{}id", crate::transform::fields::singular(entity))
    } else {
        "id".to_string()
    };
    rec.get(&col).and_then(|v| v.as_str()).map(str::to_string)
}

impl Writer {
    /// A writer.
    pub fn new(targets: Targets, store: Store, catalogue: Arc<Catalogue>) -> Self {
        Writer {
            targets,
            store,
            catalogue,
            locks: Arc::new(KeyLocks::default()),
        }
    }

    /// Serialises commands of the same natural key: hold the guard from before [`Writer::execute`]
    /// until the outcome is projected, so a create from the other side sees the coupling whole.
    pub async fn lock(&self, cmd: &WriteCommand) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        let (_, v) = cmd.natural_key.first()?;
        Some(self.locks.lock(&format!("{}/{v}", cmd.mapping)).await)
    }

    /// Executes `cmd` and says what happened. Only a broken projection is an error; every
    /// failure of the target is an outcome with status `failed`.
    pub async fn execute(&self, cmd: &WriteCommand) -> Result<Outcome, StoreError> {
        self.execute_with(cmd, false).await
    }

    /// [`Writer::execute`]; with `force` (`couplet sync-now`) the stale and unchanged
    /// rechecks are skipped, and a create that finds the record by its natural key overwrites
    /// it with the source's values whatever `on_match` says.
    pub async fn execute_with(
        &self,
        cmd: &WriteCommand,
        force: bool,
    ) -> Result<Outcome, StoreError> {
        let Some(m) = self.catalogue.get(&cmd.mapping).cloned() else {
            return Ok(failed(
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
                match target.update(entity, &id, &cmd.fields, None).await {
                    Ok(w) => Ok(self.written(cmd, &m, OutcomeStatus::Updated, w, None)?),
                    Err(SystemError::NotFound { .. }) => Ok(self.deletion_conflict(cmd, &m, id)),
                    Err(e) => Err(e),
                }
            }
            _ => self.create(cmd, &m, force).await?,
        };
        Ok(match result {
            Ok(o) => o,
            Err(e) => {
                let field = e.field().map(str::to_string);
                let reason = format!(
                    "{t} rejected the write of {} to {t}/{entity}{}: {e}",
                    cmd.source,
                    cmd.target_id
                        .as_ref()
                        .map(|i| format!("/{i}"))
                        .unwrap_or_default()
                );
                failed(cmd, e.class(), e.actor().as_str(), field, reason)
            }
        })
    }

    async fn create(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        force: bool,
    ) -> Result<Result<Outcome, SystemError>, StoreError> {
        let s = cmd.source.system;
        let t = cmd.target_system;
        let entity = cmd.target_entity.as_str();
        let target = self.targets.get(t);
        if let Some((field, value)) = cmd.natural_key.first() {
            let found = match target
                .find_eq(entity, field, &serde_json::Value::String(value.clone()))
                .await
            {
                Ok(f) => f,
                Err(e) => return Ok(Err(e)),
            };
            match found.len() {
                0 => {}
                1 => {
                    let rec = &found[0];
                    let Some(id) = record_id(t, entity, rec) else {
                        return Ok(Ok(failed(
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
                        return Ok(Ok(failed(
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
                    index_record(&self.store, &self.catalogue, m, t, &id, rec)?;
                    if force || m.on_match.winner() == s {
                        let etag = rec
                            .get("@odata.etag")
                            .and_then(|v| v.as_str())
                            .map(str::to_string);
                        let reason = format!(
                            "matched existing {t}/{entity}/{id} by {field} = '{value}'; {s} values win{}",
                            if force { " (sync-now)" } else { "" }
                        );
                        return Ok(
                            match target
                                .update(entity, &id, &cmd.fields, etag.as_deref())
                                .await
                            {
                                Ok(w) => Ok(self.written(
                                    cmd,
                                    m,
                                    OutcomeStatus::Updated,
                                    w,
                                    Some(reason),
                                )?),
                                Err(e) => Err(e),
                            },
                        );
                    }
                    let mut o = Outcome::for_command(cmd, OutcomeStatus::Coupled);
                    o.target_id = Some(id.clone());
                    o.reason = Some(format!(
                        "matched existing {t}/{entity}/{id} by {field} = '{value}'; coupled without writing ({t} values win on match)"
                    ));
                    return Ok(Ok(o));
                }
                n => {
                    return Ok(Ok(failed(
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
        Ok(match target.create(entity, &cmd.fields).await {
            Ok(w) => Ok(self.written(cmd, m, OutcomeStatus::Created, w, None)?),
            Err(e) => Err(e),
        })
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

    fn deletion_conflict(&self, cmd: &WriteCommand, m: &TableMapping, id: String) -> Outcome {
        let t = cmd.target_system;
        match m.deletion {
            DeletionPolicy::RemoveCoupling | DeletionPolicy::Propagate => {
                let mut o = Outcome::for_command(cmd, OutcomeStatus::Uncoupled);
                o.target_id = Some(id.clone());
                o.reason = Some(format!(
                    "the coupled {t}/{}/{id} was deleted; coupling removed (deletion policy), the next change of {} creates a new record",
                    cmd.target_entity, cmd.source
                ));
                o
            }
            DeletionPolicy::None => failed(
                cmd,
                "deletion_conflict",
                "user",
                None,
                format!(
                    "{} cannot be synchronised: it is coupled to {t}/{}/{id}, which was deleted; uncouple it (`couplet uncouple`) or restore the record",
                    cmd.source, cmd.target_entity
                ),
            ),
        }
    }
}

fn failed(
    cmd: &WriteCommand,
    class: &str,
    actor: &str,
    field: Option<String>,
    reason: String,
) -> Outcome {
    let mut o = Outcome::for_command(cmd, OutcomeStatus::Failed);
    o.error = Some(OutcomeError {
        class: class.to_string(),
        actor: actor.to_string(),
        field,
    });
    o.reason = Some(reason);
    o.at = now_millis();
    o
}
