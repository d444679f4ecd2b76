//! Create intents on the write path: no twin when an instance dies between a create and its
//! coupling, or when another instance captures the new record before the coupling reaches it.
//!
//! Before a create is sent, its intent (the source record and the columns sent) is appended to
//! the `intents` changelog. The intent is closed once the create's outcome is projected. An
//! intent still open means the create may have happened:
//! - a **retry** of the same create (after a crash, on this or another instance) looks for the
//!   record the earlier attempt made: an uncoupled target record holding every column sent.
//!   One is coupled instead of created again; several are an ambiguity (never guessed);
//! - a **captured record** about to be created on the other side is first compared with the
//!   open intents that create on its own side: when it holds every column one of them sent, it
//!   is that create's product, and is coupled with the intent's source instead of copied back.
//!
//! Both checks first wait for a barrier over the state changelogs ([`Barrier`]) when the source
//! changed recently, so an intent or coupling another instance appended just before is seen.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::event::{Fields, RecordKey, WriteCommand};
use crate::mapping::model::TableMapping;
use crate::metrics::metrics;
use crate::pipeline::PipelineError;
use crate::pipeline::barrier::Barrier;
use crate::pipeline::state::StateLog;
use crate::store::{CreateIntent, Store};
use crate::systems::{SystemError, Target};

/// A source changed longer ago than this cannot be the product of a create whose intent has
/// not reached this instance yet (the state follower keeps up within seconds, and it is caught
/// up at start-up), so no barrier is needed for it.
pub const RECENT: Duration = Duration::from_secs(300);

/// A closed intent still recognises its product this long (the coupling that closed it may
/// reach another instance's store a moment after the close does).
pub const CLOSED_GRACE: Duration = Duration::from_secs(60);

/// The create-intent log of one instance.
#[derive(Clone, Debug)]
pub struct Intents {
    state: StateLog,
    barrier: Barrier,
    started: chrono::DateTime<Utc>,
}

/// What the checks before a create found.
#[derive(Debug)]
pub enum Found {
    /// Nothing: create.
    Nothing,
    /// The target record to couple with instead of creating (`how`: in words, for the
    /// outcome's reason).
    Record {
        /// Its id.
        id: String,
        /// The record as the target returned it.
        rec: Fields,
        /// How it was found.
        how: String,
        /// It is a copy of this command's own source (made by an earlier attempt), so the
        /// source's values win whatever `on_match` says.
        ours: bool,
    },
    /// Several records could be the one; the reason names them.
    Ambiguous(String),
}

impl Intents {
    /// Intents appended through `state`, with `barrier` over the state changelogs.
    pub fn new(state: StateLog, barrier: Barrier) -> Self {
        Intents {
            state,
            barrier,
            started: Utc::now(),
        }
    }

    /// When this instance's apply stage started.
    pub fn started(&self) -> chrono::DateTime<Utc> {
        self.started
    }

    /// Checks before creating `cmd` in `target` (the source lives in `source_side`): the record
    /// an earlier attempt made, or the source itself made by another create.
    pub async fn before_create(
        &self,
        cmd: &WriteCommand,
        m: &TableMapping,
        target: &Target,
        source_side: &Target,
    ) -> Result<Result<Found, SystemError>, PipelineError> {
        let recent = cmd.source_modified_on.is_none_or(|t| {
            Utc::now() - t < chrono::Duration::from_std(RECENT).unwrap_or_default()
        });
        if recent {
            self.barrier.sync().await?;
        }
        let store = self.state.store();
        if let Some(earlier) = store.intent(&cmd.mapping, cmd.source.system, &cmd.source.id)? {
            match made_by_earlier_attempt(store, m, target, &earlier).await? {
                Ok(Found::Nothing) => {}
                other => return Ok(other),
            }
        }
        match product_of_other_create(store, cmd, target, source_side).await? {
            Ok(Found::Nothing) => {}
            other => return Ok(other),
        }
        // Coupled meanwhile by a create of the other side that completed after this command
        // was decided: its coupling is stored before its intent is closed, so reading the
        // coupling after the intents misses neither.
        let Some(c) = store.coupling(&cmd.mapping, cmd.source.system, &cmd.source.id)? else {
            return Ok(Ok(Found::Nothing));
        };
        let id = c.id_on(cmd.target_system).to_string();
        Ok(match target.get(&cmd.target_entity, &id).await {
            Ok(Some(rec)) => Ok(Found::Record {
                how: format!(
                    "{} was coupled with {}/{}/{id} meanwhile",
                    cmd.source, cmd.target_system, cmd.target_entity
                ),
                id,
                rec,
                ours: false,
            }),
            Ok(None) => Ok(Found::Nothing),
            Err(e) => Err(e),
        })
    }

    /// The barrier over the state changelogs.
    pub fn barrier(&self) -> &Barrier {
        &self.barrier
    }

    /// Logs the intent to create `cmd`; durable before the request is sent.
    pub async fn log(&self, cmd: &WriteCommand) -> Result<(), PipelineError> {
        let i = CreateIntent {
            mapping: cmd.mapping.clone(),
            source: cmd.source.clone(),
            target_system: cmd.target_system,
            target_entity: cmd.target_entity.clone(),
            fields: cmd.fields.clone(),
            instance: self.state.instance().to_string(),
            at: Utc::now(),
        };
        self.state.put_intent(&i).await?;
        metrics()
            .create_intents
            .with_label_values(&[&cmd.mapping, "logged"])
            .inc();
        Ok(())
    }

    /// Closes the intents a projected outcome settles: the command's own, and the one whose
    /// source the command coupled with (an adopted product of another create).
    pub async fn close(
        &self,
        mapping: &str,
        source: &RecordKey,
        target: Option<&RecordKey>,
    ) -> Result<(), PipelineError> {
        let store = self.state.store();
        for k in std::iter::once(source).chain(target) {
            if store.intent(mapping, k.system, &k.id)?.is_some() {
                self.state.remove_intent(mapping, k).await?;
            }
        }
        Ok(())
    }
}

/// An uncoupled record in the intent's target that holds every column it sent.
async fn made_by_earlier_attempt(
    store: &Store,
    m: &TableMapping,
    target: &Target,
    earlier: &CreateIntent,
) -> Result<Result<Found, SystemError>, PipelineError> {
    let t = earlier.target_system;
    let entity = earlier.target_entity.as_str();
    let Some((field, value)) = search_column(&earlier.fields) else {
        tracing::warn!(mapping = %m.name, record = %earlier.source, "An earlier create of this record may have happened, but it sent no text column to look it up by; creating again.");
        return Ok(Ok(Found::Nothing));
    };
    let rows = match target.find_eq(entity, field, &value).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let mut hits = Vec::new();
    for rec in rows {
        let Some(id) = t.record_id(entity, &rec) else {
            continue;
        };
        if holds_sent(&earlier.fields, &rec) && store.coupling(&m.name, t, &id)?.is_none() {
            hits.push((id, rec));
        }
    }
    Ok(Ok(match hits.len() {
        0 => Found::Nothing,
        1 => {
            let (id, rec) = hits.remove(0);
            metrics()
                .create_intents
                .with_label_values(&[&m.name, "adopted_retry"])
                .inc();
            Found::Record {
                id,
                rec,
                ours: true,
                how: format!(
                    "found {t}/{entity} made by an earlier attempt (create intent of {}, instance {}), which had not been coupled",
                    earlier.at.to_rfc3339(),
                    earlier.instance
                ),
            }
        }
        n => Found::Ambiguous(format!(
            "an earlier attempt to create {} in {t}/{entity} may have succeeded, and {n} uncoupled records hold the values it sent ({}); Couplet never guesses: couple one by hand (`couplet couple`) or delete the extra ones, then `couplet errors retry`",
            earlier.source,
            hits.iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }))
}

/// The open intent (of any instance) whose create made `cmd`'s source record, and that
/// intent's source on the target side.
async fn product_of_other_create(
    store: &Store,
    cmd: &WriteCommand,
    target: &Target,
    source_side: &Target,
) -> Result<Result<Found, SystemError>, PipelineError> {
    let s = cmd.source.system;
    // Open intents, and the ones closed a moment ago: the coupling that closed one may not
    // have reached this store yet (it travels on another changelog than the close).
    let since = Utc::now() - chrono::Duration::from_std(CLOSED_GRACE).unwrap_or_default();
    let mut candidates = store.intents_creating_on(&cmd.mapping, s)?;
    for closed in store.recently_closed_creating_on(&cmd.mapping, s, since)? {
        if !candidates.iter().any(|i| i.source == closed.source) {
            candidates.push(closed);
        }
    }
    // An intent whose source is coupled here already made (or found) its record.
    let mut open = Vec::new();
    for i in candidates {
        if store
            .coupling(&cmd.mapping, i.source.system, &i.source.id)?
            .is_none()
        {
            open.push(i);
        }
    }
    if open.is_empty() {
        return Ok(Ok(Found::Nothing));
    }
    let source = match source_side.get(&cmd.source.entity, &cmd.source.id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(Ok(Found::Nothing)),
        Err(e) => return Ok(Err(e)),
    };
    let mut makers: Vec<&CreateIntent> = open
        .iter()
        .filter(|i| i.target_entity == cmd.source.entity && holds_sent(&i.fields, &source))
        .collect();
    let t = cmd.target_system;
    match makers.len() {
        0 => Ok(Ok(Found::Nothing)),
        1 => {
            let maker = makers.remove(0);
            let rec = match target.get(&cmd.target_entity, &maker.source.id).await {
                Ok(Some(r)) => r,
                // The intent's source is gone: nothing to couple with.
                Ok(None) => return Ok(Ok(Found::Nothing)),
                Err(e) => return Ok(Err(e)),
            };
            metrics()
                .create_intents
                .with_label_values(&[&cmd.mapping, "adopted_capture"])
                .inc();
            Ok(Ok(Found::Record {
                id: maker.source.id.clone(),
                rec,
                ours: false,
                how: format!(
                    "{} was created from {t}/{}/{} (create intent of {}, instance {}), whose coupling had not been recorded yet",
                    cmd.source,
                    cmd.target_entity,
                    maker.source.id,
                    maker.at.to_rfc3339(),
                    maker.instance
                ),
            }))
        }
        n => Ok(Ok(Found::Ambiguous(format!(
            "{} holds the values {n} pending creates sent (from {}); Couplet never guesses: couple it by hand (`couplet couple`), then `couplet errors retry`",
            cmd.source,
            makers
                .iter()
                .map(|i| i.source.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )))),
    }
}

/// The sent column to look a made record up by: the longest text value (the most selective),
/// never a lookup binding.
fn search_column(sent: &Fields) -> Option<(&str, Value)> {
    sent.iter()
        .filter(|(k, _)| !k.contains('@'))
        .filter_map(|(k, v)| v.as_str().filter(|s| !s.is_empty()).map(|s| (k, s)))
        .max_by_key(|(_, s)| s.len())
        .map(|(k, s)| (k.as_str(), Value::String(s.to_string())))
}

/// True when `rec` holds every value `sent` gave it: columns the create left empty (the target
/// fills them, e.g. a number from a series), lookup bindings and columns the target does not
/// return are not compared; at least one text column must be.
pub fn holds_sent(sent: &Fields, rec: &Fields) -> bool {
    let mut compared_text = false;
    for (k, v) in sent {
        if k.contains('@') || v.is_null() || v.as_str() == Some("") {
            continue;
        }
        let Some(have) = rec.get(k) else { continue };
        let equal = match (v, have) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            _ => v == have,
        };
        if !equal {
            return false;
        }
        compared_text |= v.is_string();
    }
    compared_text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_record_holds_what_was_sent_whatever_the_target_added() {
        let sent = fields(serde_json::json!({
            "displayName": "Contoso", "number": "", "creditLimit": 5,
            "phoneNumber": null, "currencyId@odata.bind": "x"
        }));
        let made = fields(serde_json::json!({
            "id": "c1", "displayName": "Contoso", "number": "C00042", "creditLimit": 5.0,
            "phoneNumber": "123", "blocked": " "
        }));
        assert!(holds_sent(&sent, &made));
        let other = fields(serde_json::json!({"displayName": "Contoso", "creditLimit": 6}));
        assert!(!holds_sent(&sent, &other));
        // Nothing textual compared: no evidence at all.
        assert!(!holds_sent(
            &fields(serde_json::json!({"creditLimit": 5})),
            &made
        ));
    }

    #[test]
    fn the_longest_text_column_is_searched() {
        let sent = fields(serde_json::json!({
            "displayName": "Contoso Pharmaceuticals", "city": "Oslo",
            "x@odata.bind": "/accounts(0000000000000000000000000000000000000000)", "n": 5
        }));
        assert_eq!(
            search_column(&sent),
            Some((
                "displayName",
                Value::String("Contoso Pharmaceuticals".into())
            ))
        );
        assert_eq!(search_column(&fields(serde_json::json!({"n": 5}))), None);
    }
}
