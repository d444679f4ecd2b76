//! One Business Event body, read into a [`BusinessEvent`].
//!
//! The body is F&O's flat JSON (`external-apis.md` §3.6): the common envelope
//! (`BusinessEventId` naming the event *type*, `BusinessEventLegalEntity` upper-case,
//! `ControlNumber` increasing with gaps, `EventId` an upper-case GUID, `EventTime` as
//! `/Date(ms)/` and `EventTimeIso8601`) followed by the event's own fields. The events Couplet
//! acts on are the custom change events listed in [`KNOWN_EVENTS`], each carrying
//! `DataAreaId`, the record's key and `ChangeType`; any other type is read too (its envelope
//! must still be valid) and left for the receiver to ignore.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::{Actor, Classify, Retry};

/// An event type Couplet acts on: the F&O entity set it concerns and its key field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownEvent {
    /// The `BusinessEventId`.
    pub event_type: &'static str,
    /// The OData entity set whose watermark poll the event wakes.
    pub entity_set: &'static str,
    /// The event field holding the record's key (besides `DataAreaId`).
    pub key_field: &'static str,
}

/// The event types Couplet acts on.
pub const KNOWN_EVENTS: &[KnownEvent] = &[
    KnownEvent {
        event_type: "CustomerChangedBusinessEvent",
        entity_set: "CustomersV3",
        key_field: "CustomerAccount",
    },
    KnownEvent {
        event_type: "ReleasedProductChangedBusinessEvent",
        entity_set: "ReleasedProductsV2",
        key_field: "ItemNumber",
    },
    KnownEvent {
        event_type: "SalesOrderChangedBusinessEvent",
        entity_set: "SalesOrderHeadersV2",
        key_field: "SalesOrderNumber",
    },
];

/// The known event of type `event_type`, if Couplet acts on it.
pub fn known_event(event_type: &str) -> Option<&'static KnownEvent> {
    KNOWN_EVENTS.iter().find(|k| k.event_type == event_type)
}

/// A body that is not a readable business event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is not JSON.
    #[error("the body is not JSON: {reason}")]
    NotJson {
        /// What the parser said.
        reason: String,
    },
    /// The body is JSON but not an object.
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// A required field is absent, null or empty.
    #[error("field {field} is missing")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field has a value of the wrong type or format.
    #[error("field {field} is invalid: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl Classify for PayloadError {
    fn actor(&self) -> Actor {
        Actor::External
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        "malformed"
    }
}

/// One business event, as far as Couplet reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessEvent {
    /// The event type (`BusinessEventId`), e.g. `CustomerChangedBusinessEvent`.
    pub event_type: String,
    /// The legal entity, lower-cased as OData's `dataAreaId` is (`usmf`).
    pub legal_entity: String,
    /// `ControlNumber`: increasing, with gaps.
    pub control_number: u64,
    /// `EventId`: the instance's GUID, upper-case without braces.
    pub event_id: String,
    /// The record's key field and value (`("CustomerAccount", "C00001")`), for known types.
    pub record_key: Option<(String, String)>,
    /// `ChangeType` (`Created`, `Updated`, `Deleted`), when the event carries one.
    pub change_type: Option<String>,
    /// When the event was raised (`EventTime`, else `EventTimeIso8601`).
    pub event_time: DateTime<Utc>,
}

impl BusinessEvent {
    /// The known event type, if Couplet acts on this event.
    pub fn known(&self) -> Option<&'static KnownEvent> {
        known_event(&self.event_type)
    }

    /// The entity set this event concerns, if Couplet acts on it.
    pub fn entity_set(&self) -> Option<&'static str> {
        self.known().map(|k| k.entity_set)
    }
}

/// Reads one event body.
pub fn parse(body: &[u8]) -> Result<BusinessEvent, PayloadError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| PayloadError::NotJson {
        reason: e.to_string(),
    })?;
    let Value::Object(m) = value else {
        return Err(PayloadError::NotAnObject);
    };
    let event_type = text(&m, "BusinessEventId")?.ok_or(PayloadError::Missing {
        field: "BusinessEventId",
    })?;
    let legal_entity = ["BusinessEventLegalEntity", "DataAreaId", "LegalEntity"]
        .into_iter()
        .map(|f| text(&m, f))
        .find_map(|r| r.transpose())
        .transpose()?
        .ok_or(PayloadError::Missing {
            field: "BusinessEventLegalEntity",
        })?
        .to_lowercase();
    let record_key = match known_event(&event_type) {
        Some(k) => {
            let value =
                text(&m, k.key_field)?.ok_or(PayloadError::Missing { field: k.key_field })?;
            Some((k.key_field.to_string(), value))
        }
        None => None,
    };
    Ok(BusinessEvent {
        control_number: control_number(&m)?,
        event_id: event_id(&m)?,
        change_type: text(&m, "ChangeType")?,
        event_time: event_time(&m)?,
        event_type,
        legal_entity,
        record_key,
    })
}

/// A string field (a number is read as its decimal text); `None` when absent, null or empty.
fn text(m: &Map<String, Value>, field: &'static str) -> Result<Option<String>, PayloadError> {
    match m.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(PayloadError::Invalid {
            field,
            reason: format!("expected a string, got {}", kind(other)),
        }),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `ControlNumber`: a non-negative integer (a string of digits is accepted too).
fn control_number(m: &Map<String, Value>) -> Result<u64, PayloadError> {
    const F: &str = "ControlNumber";
    let invalid = |reason: String| PayloadError::Invalid { field: F, reason };
    match m.get(F) {
        None | Some(Value::Null) => Err(PayloadError::Missing { field: F }),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or_else(|| invalid(format!("{n} is not a non-negative integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| invalid(format!("{s:?} is not a non-negative integer"))),
        Some(other) => Err(invalid(format!("expected a number, got {}", kind(other)))),
    }
}

/// `EventId`: a GUID, normalised to upper-case hyphenated without braces.
fn event_id(m: &Map<String, Value>) -> Result<String, PayloadError> {
    const F: &str = "EventId";
    let raw = text(m, F)?.ok_or(PayloadError::Missing { field: F })?;
    let id = uuid::Uuid::parse_str(&raw).map_err(|e| PayloadError::Invalid {
        field: F,
        reason: format!("{raw:?} is not a GUID: {e}"),
    })?;
    Ok(id.hyphenated().to_string().to_uppercase())
}

/// `EventTime` (`/Date(ms)/`, optionally with an offset suffix such as `+0000`), else
/// `EventTimeIso8601`.
fn event_time(m: &Map<String, Value>) -> Result<DateTime<Utc>, PayloadError> {
    if let Some(raw) = text(m, "EventTime")? {
        return ms_json_date(&raw).ok_or_else(|| PayloadError::Invalid {
            field: "EventTime",
            reason: format!("{raw:?} is not a /Date(milliseconds)/ value"),
        });
    }
    if let Some(raw) = text(m, "EventTimeIso8601")? {
        return DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| PayloadError::Invalid {
                field: "EventTimeIso8601",
                reason: format!("{raw:?} is not an ISO 8601 time: {e}"),
            });
    }
    Err(PayloadError::Missing { field: "EventTime" })
}

/// Reads `/Date(1672408275000)/` or `/Date(1506409448000-0700)/` (the offset only says how
/// to display the instant; the milliseconds are UTC).
fn ms_json_date(raw: &str) -> Option<DateTime<Utc>> {
    let inner = raw.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(i, _)| i);
    let (ms, offset) = inner.split_at(digits_end);
    if !offset.is_empty() && (offset.len() != 5 || !offset[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    DateTime::from_timestamp_millis(ms.parse().ok()?)
}

#[cfg(test)]
mod tests;
