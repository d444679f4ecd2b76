//! The three event types on the log. Their Avro schemas are in `schemas/`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::key::{Fields, RecordKey, System};

/// Upsert or delete, as captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// The record was created or changed; `fields` holds its current columns.
    Upsert,
    /// The record was deleted; `fields` is empty.
    Delete,
}

/// A change captured from a source system (topic `changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    /// Unique id of this event.
    pub event_id: Uuid,
    /// Shared by every command and outcome that follows from this change.
    pub correlation_id: Uuid,
    /// The integration table mapping the capture ran for.
    pub mapping: String,
    /// The source record.
    pub source: RecordKey,
    /// Upsert or delete.
    pub op: ChangeOp,
    /// The source's modified-on for the record.
    pub modified_on: Option<DateTime<Utc>>,
    /// The source's ETag at capture.
    pub etag: Option<String>,
    /// When Couplet captured it.
    pub captured_at: DateTime<Utc>,
    /// The record's columns as the source API returned them.
    pub fields: Fields,
    /// How many times this change was re-driven (after parking or a retry).
    pub redrive: i32,
}

impl ChangeEvent {
    /// A new event with fresh ids, captured now.
    pub fn new(
        mapping: impl Into<String>,
        source: RecordKey,
        op: ChangeOp,
        modified_on: Option<DateTime<Utc>>,
        etag: Option<String>,
        fields: Fields,
    ) -> Self {
        let event_id = Uuid::new_v4();
        ChangeEvent {
            event_id,
            correlation_id: event_id,
            mapping: mapping.into(),
            source,
            op,
            modified_on,
            etag,
            captured_at: now_millis(),
            fields,
            redrive: 0,
        }
    }
}

/// Create, update or delete on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOp {
    /// Find by natural key, else create.
    Create,
    /// Update the coupled record.
    Update,
    /// Delete the coupled record.
    Delete,
}

/// A write the transformer decided on (topic `commands`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteCommand {
    /// Unique id of this command.
    pub command_id: Uuid,
    /// The change event it follows from.
    pub event_id: Uuid,
    /// Correlation id of the originating change.
    pub correlation_id: Uuid,
    /// The mapping applied.
    pub mapping: String,
    /// The source record.
    pub source: RecordKey,
    /// The source's modified-on.
    pub source_modified_on: Option<DateTime<Utc>>,
    /// The source's ETag.
    pub source_etag: Option<String>,
    /// The target system.
    pub target_system: System,
    /// The target entity set.
    pub target_entity: String,
    /// The coupled target record, if any.
    pub target_id: Option<String>,
    /// What to do.
    pub op: WriteOp,
    /// Target fields that identify the record for a lookup before create.
    pub natural_key: Vec<(String, String)>,
    /// Target columns to write, in the target API's names.
    pub fields: Fields,
    /// SHA-256 of the mapped fields.
    pub content_hash: String,
    /// SHA-256 of the source's values as the reverse mapping would write them.
    pub reverse_hash: Option<String>,
    /// When the command was issued.
    pub issued_at: DateTime<Utc>,
}

impl WriteCommand {
    /// The target record key, when the target id is known.
    pub fn target_key(&self) -> Option<RecordKey> {
        self.target_id
            .as_ref()
            .map(|id| RecordKey::new(self.target_system, self.target_entity.clone(), id.clone()))
    }
}

/// What happened to a change or command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// A new target record was created and coupled.
    Created,
    /// The coupled target record was updated.
    Updated,
    /// An existing target record was found by natural key and coupled, without a write.
    Coupled,
    /// The mapped values equal the last synchronised ones: nothing written.
    Unchanged,
    /// The change was Couplet's own write coming back: not synchronised.
    Echo,
    /// The change is older than what was last synchronised: not written.
    Stale,
    /// The record is outside the mapping's table filter.
    Filtered,
    /// A dependency is not coupled yet: parked and re-driven when it is.
    Parked,
    /// The target record was deleted.
    Deleted,
    /// The coupling was removed (deletion policy).
    Uncoupled,
    /// The write failed; see the error fields.
    Failed,
}

impl OutcomeStatus {
    /// All statuses, in the schema's symbol order.
    pub const ALL: [OutcomeStatus; 11] = [
        OutcomeStatus::Created,
        OutcomeStatus::Updated,
        OutcomeStatus::Coupled,
        OutcomeStatus::Unchanged,
        OutcomeStatus::Echo,
        OutcomeStatus::Stale,
        OutcomeStatus::Filtered,
        OutcomeStatus::Parked,
        OutcomeStatus::Deleted,
        OutcomeStatus::Uncoupled,
        OutcomeStatus::Failed,
    ];

    /// Lower-case name for metrics and display.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Created => "created",
            OutcomeStatus::Updated => "updated",
            OutcomeStatus::Coupled => "coupled",
            OutcomeStatus::Unchanged => "unchanged",
            OutcomeStatus::Echo => "echo",
            OutcomeStatus::Stale => "stale",
            OutcomeStatus::Filtered => "filtered",
            OutcomeStatus::Parked => "parked",
            OutcomeStatus::Deleted => "deleted",
            OutcomeStatus::Uncoupled => "uncoupled",
            OutcomeStatus::Failed => "failed",
        }
    }

    /// True when the target was written (created, updated or deleted).
    pub fn wrote(self) -> bool {
        matches!(
            self,
            OutcomeStatus::Created | OutcomeStatus::Updated | OutcomeStatus::Deleted
        )
    }
}

/// Why a record failed, in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeError {
    /// Low-cardinality class, e.g. `validation`.
    pub class: String,
    /// Who must act: `user`, `external`, `internal`.
    pub actor: String,
    /// The field at fault, when known.
    pub field: Option<String>,
}

/// What happened (topic `outcomes`; failures also go to `dlq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Unique id of this outcome.
    pub outcome_id: Uuid,
    /// The command, when one was issued.
    pub command_id: Option<Uuid>,
    /// The originating change event.
    pub event_id: Uuid,
    /// Correlation id of the originating change.
    pub correlation_id: Uuid,
    /// The mapping.
    pub mapping: String,
    /// The source record.
    pub source: RecordKey,
    /// The source's modified-on.
    pub source_modified_on: Option<DateTime<Utc>>,
    /// The source's ETag.
    pub source_etag: Option<String>,
    /// The target system.
    pub target_system: System,
    /// The target entity set.
    pub target_entity: String,
    /// The target record, when known.
    pub target_id: Option<String>,
    /// What happened.
    pub status: OutcomeStatus,
    /// The target's modified-on after the write.
    pub target_modified_on: Option<DateTime<Utc>>,
    /// The target's ETag after the write.
    pub target_etag: Option<String>,
    /// Hash of the mapped fields that were written.
    pub content_hash: Option<String>,
    /// Hash of the source's values as the reverse mapping would write them.
    pub reverse_hash: Option<String>,
    /// Error classification, for failures.
    pub error: Option<OutcomeError>,
    /// Human-readable reason (failures, parking, skips).
    pub reason: Option<String>,
    /// Attempts made.
    pub attempts: i32,
    /// Milliseconds from the source's modified-on to the target write.
    pub latency_ms: Option<i64>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Outcome {
    /// An outcome for a change event, before any command was issued.
    pub fn for_event(
        ev: &ChangeEvent,
        target_system: System,
        target_entity: &str,
        target_id: Option<String>,
        status: OutcomeStatus,
        reason: Option<String>,
    ) -> Self {
        Outcome {
            outcome_id: Uuid::new_v4(),
            command_id: None,
            event_id: ev.event_id,
            correlation_id: ev.correlation_id,
            mapping: ev.mapping.clone(),
            source: ev.source.clone(),
            source_modified_on: ev.modified_on,
            source_etag: ev.etag.clone(),
            target_system,
            target_entity: target_entity.to_string(),
            target_id,
            status,
            target_modified_on: None,
            target_etag: None,
            content_hash: None,
            reverse_hash: None,
            error: None,
            reason,
            attempts: 0,
            latency_ms: None,
            at: now_millis(),
        }
    }

    /// A failed outcome of `cmd`: the error's class, who must act, the field and what to do.
    pub fn failed_command(
        cmd: &WriteCommand,
        class: &str,
        actor: &str,
        field: Option<String>,
        reason: String,
    ) -> Self {
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

    /// An outcome of `cmd` with `status`, nothing written yet.
    pub fn for_command(cmd: &WriteCommand, status: OutcomeStatus) -> Self {
        Outcome {
            outcome_id: Uuid::new_v4(),
            command_id: Some(cmd.command_id),
            event_id: cmd.event_id,
            correlation_id: cmd.correlation_id,
            mapping: cmd.mapping.clone(),
            source: cmd.source.clone(),
            source_modified_on: cmd.source_modified_on,
            source_etag: cmd.source_etag.clone(),
            target_system: cmd.target_system,
            target_entity: cmd.target_entity.clone(),
            target_id: cmd.target_id.clone(),
            status,
            target_modified_on: None,
            target_etag: None,
            content_hash: Some(cmd.content_hash.clone()),
            reverse_hash: cmd.reverse_hash.clone(),
            error: None,
            reason: None,
            attempts: 1,
            latency_ms: None,
            at: now_millis(),
        }
    }

    /// The target record key, when known.
    pub fn target_key(&self) -> Option<RecordKey> {
        self.target_id
            .as_ref()
            .map(|id| RecordKey::new(self.target_system, self.target_entity.clone(), id.clone()))
    }
}

/// Now, truncated to milliseconds (the precision of the Avro timestamps).
pub fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
