//! What the pipeline did with each change, as the log shows it: the write command the
//! transform issued for it (and the outcome of applying it), or the transform's outcome when
//! it issued none (filtered, unchanged, echo, stale, parked, failed, uncoupled). Commands and
//! outcomes carry the change's event id; a change re-driven after parking keeps its id, so
//! the latest command and outcome of an id are what finally happened to it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::bus::Message;
use crate::event::avro::{decode_command, decode_outcome};
use crate::event::{ChangeEvent, Outcome, WriteCommand};

/// What the log says happened to one change.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // short-lived, one per change
pub enum Logged {
    /// The transform issued `command`; `applied` is its outcome once the apply stage wrote
    /// it (created, updated, coupled, deleted, failed), `None` while in flight.
    Wrote {
        /// The command as issued.
        command: WriteCommand,
        /// The outcome of applying it.
        applied: Option<Outcome>,
    },
    /// The transform issued no command; the outcome says why.
    Decided(Outcome),
    /// Nothing on the log yet for this change (captured, not transformed yet), or its
    /// command and outcome are past the log's retention.
    Pending,
}

impl Logged {
    /// A short name of what happened: the command and its outcome (`update (updated)`,
    /// `create (coupled)`: found by its natural key, `create (in flight)`), or the transform's
    /// outcome (`filtered`, `unchanged`, …).
    pub fn label(&self) -> String {
        match self {
            Logged::Wrote {
                command,
                applied: Some(o),
            } => format!("{} ({})", op_name(command.op), o.status.as_str()),
            Logged::Wrote { command, .. } => format!("{} (in flight)", op_name(command.op)),
            Logged::Decided(o) => o.status.as_str().to_string(),
            Logged::Pending => "nothing on the log yet".to_string(),
        }
    }

    /// The target record the decision named (the coupled record), if any.
    pub fn target_id(&self) -> Option<&str> {
        match self {
            Logged::Wrote { command, applied } => command
                .target_id
                .as_deref()
                .or(applied.as_ref().and_then(|o| o.target_id.as_deref())),
            Logged::Decided(o) => o.target_id.as_deref(),
            Logged::Pending => None,
        }
    }

    /// When the decision was made (the command's issue time, or the outcome's).
    pub fn decided_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Logged::Wrote { command, .. } => Some(command.issued_at),
            Logged::Decided(o) => Some(o.at),
            Logged::Pending => None,
        }
    }
}

/// `create`, `update` or `delete`.
pub fn op_name(op: crate::event::WriteOp) -> &'static str {
    match op {
        crate::event::WriteOp::Create => "create",
        crate::event::WriteOp::Update => "update",
        crate::event::WriteOp::Delete => "delete",
    }
}

/// The commands and outcomes of the log, by the change they follow from.
#[derive(Debug, Default)]
pub struct LogIndex {
    /// Latest command per event id.
    commands: HashMap<Uuid, WriteCommand>,
    /// Latest outcome per event id.
    outcomes: HashMap<Uuid, Outcome>,
    /// Every command per (mapping, source record), in log order: what was last written for a
    /// record before a change that wrote nothing.
    by_record: HashMap<(String, String), Vec<WriteCommand>>,
    /// Messages that did not decode (skipped).
    pub undecodable: u64,
}

impl LogIndex {
    /// Adds one message of the commands topic.
    pub fn add_command(&mut self, m: &Message) {
        let Ok(c) = decode_command(m.bytes()) else {
            self.undecodable += 1;
            return;
        };
        self.by_record
            .entry((c.mapping.clone(), c.source.to_string()))
            .or_default()
            .push(c.clone());
        self.commands.insert(c.event_id, c);
    }

    /// Adds one message of the outcomes topic.
    pub fn add_outcome(&mut self, m: &Message) {
        match decode_outcome(m.bytes()) {
            Ok(o) => {
                self.outcomes.insert(o.event_id, o);
            }
            Err(_) => self.undecodable += 1,
        }
    }

    /// What happened to `ev`.
    pub fn logged(&self, ev: &ChangeEvent) -> Logged {
        let command = self.commands.get(&ev.event_id);
        let outcome = self.outcomes.get(&ev.event_id);
        match (command, outcome) {
            // A transform outcome after the command (the change re-driven and decided again
            // without a write) is the last word.
            (Some(c), Some(o)) if o.command_id.is_none() && o.at > c.issued_at => {
                Logged::Decided(o.clone())
            }
            (Some(c), Some(o)) if o.command_id == Some(c.command_id) => Logged::Wrote {
                command: c.clone(),
                applied: Some(o.clone()),
            },
            // An earlier outcome (parked before the command): the command is in flight.
            (Some(c), _) => Logged::Wrote {
                command: c.clone(),
                applied: None,
            },
            (None, Some(o)) => Logged::Decided(o.clone()),
            (None, None) => Logged::Pending,
        }
    }

    /// The last command issued for `ev`'s record (same mapping) before `before`, other than
    /// `ev`'s own: what the target last received from this record.
    pub fn last_write_before(
        &self,
        ev: &ChangeEvent,
        before: DateTime<Utc>,
    ) -> Option<&WriteCommand> {
        self.by_record
            .get(&(ev.mapping.clone(), ev.source.to_string()))?
            .iter()
            .filter(|c| c.event_id != ev.event_id && c.issued_at <= before)
            .max_by_key(|c| c.issued_at)
    }
}
