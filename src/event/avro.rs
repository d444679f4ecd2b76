//! Avro single-object encoding of the events, with the schemas in `schemas/`.
//!
//! Every value on the log is `0xC3 0x01`, the 8-byte little-endian CRC-64-AVRO (Rabin)
//! fingerprint of the writer schema, then the Avro binary datum. Any Avro client can decode it
//! with the `.avsc` files alone.

use std::collections::HashMap;
use std::sync::OnceLock;

use apache_avro::Schema;
use apache_avro::headers::{HeaderBuilder, RabinFingerprintHeader};
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::types::Value as Avro;
use apache_avro::writer::datum::GenericDatumWriter;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use uuid::Uuid;

use super::key::{Fields, RecordKey, System};
use super::types::{
    ChangeEvent, ChangeOp, Outcome, OutcomeError, OutcomeStatus, WriteCommand, WriteOp,
};
use crate::error::{Actor, Classify, Retry};

/// The schema texts, compiled in so the binary needs no files at run time.
pub const CHANGE_EVENT_SCHEMA: &str = include_str!("../../schemas/change_event.avsc");
/// See [`CHANGE_EVENT_SCHEMA`].
pub const WRITE_COMMAND_SCHEMA: &str = include_str!("../../schemas/write_command.avsc");
/// See [`CHANGE_EVENT_SCHEMA`].
pub const OUTCOME_SCHEMA: &str = include_str!("../../schemas/outcome.avsc");

/// Why a value could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not single-object encoded with the expected schema.
    #[error(
        "the message is not a Couplet {expected} (Avro single-object header {found}): it was written by another producer or with another schema; move it aside or fix the producer"
    )]
    WrongHeader {
        /// The event type expected.
        expected: &'static str,
        /// The header found, in hex.
        found: String,
    },
    /// The datum does not decode with the schema.
    #[error("the {expected} does not decode: {reason}")]
    Malformed {
        /// The event type expected.
        expected: &'static str,
        /// What the Avro decoder said.
        reason: String,
    },
    /// A decoded field has an unexpected shape.
    #[error("the {expected} has a bad field '{field}': {reason}")]
    BadField {
        /// The event type expected.
        expected: &'static str,
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
    /// The value could not be encoded (a bug: the types and schemas disagree).
    #[error("could not encode a {what}: {reason}")]
    Encode {
        /// The event type.
        what: &'static str,
        /// What the encoder said.
        reason: String,
    },
}

impl Classify for CodecError {
    fn actor(&self) -> Actor {
        match self {
            CodecError::Encode { .. } => Actor::Internal,
            _ => Actor::External,
        }
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        match self {
            CodecError::Encode { .. } => "encode",
            _ => "decode",
        }
    }
}

pub(crate) struct Compiled {
    schema: Schema,
    /// `0xC3 0x01` and the specification's CRC-64-AVRO fingerprint of the schema.
    header: Vec<u8>,
}

pub(crate) fn compile(text: &str) -> Compiled {
    // The schemas are compiled into the binary and covered by tests: a parse failure here is a
    // build defect, not input from outside.
    let schema = Schema::parse_str(text).expect("schemas/*.avsc are valid Avro");
    let header = RabinFingerprintHeader::from_schema(&fingerprint_schema(text)).build_header();
    Compiled { schema, header }
}

/// The schema whose Parsing Canonical Form the Avro specification fingerprints: logical types
/// are not part of the canonical form (the spec keeps only the underlying type, e.g. `"long"`),
/// but apache-avro's canonical form keeps them, which would give fingerprints other Avro clients
/// do not recognise. So the fingerprint is taken from the schema without `logicalType`.
fn fingerprint_schema(text: &str) -> Schema {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                if m.remove("logicalType").is_some()
                    && m.len() == 1
                    && let Some(t) = m.get("type").cloned()
                {
                    *v = t;
                    return;
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut json: serde_json::Value =
        serde_json::from_str(text).expect("schemas/*.avsc are valid JSON");
    strip(&mut json);
    Schema::parse_str(&json.to_string()).expect("schemas/*.avsc are valid Avro")
}

fn change_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(CHANGE_EVENT_SCHEMA))
}
fn command_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(WRITE_COMMAND_SCHEMA))
}
fn outcome_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(OUTCOME_SCHEMA))
}

pub(crate) fn encode(c: &Compiled, what: &'static str, value: Avro) -> Result<Vec<u8>, CodecError> {
    let datum = GenericDatumWriter::builder(&c.schema)
        .build()
        .and_then(|w| w.write_value_to_vec(value))
        .map_err(|e| CodecError::Encode {
            what,
            reason: e.to_string(),
        })?;
    let mut out = Vec::with_capacity(c.header.len() + datum.len());
    out.extend_from_slice(&c.header);
    out.extend_from_slice(&datum);
    Ok(out)
}

pub(crate) fn decode(
    c: &Compiled,
    expected: &'static str,
    bytes: &[u8],
) -> Result<Rec, CodecError> {
    if bytes.len() < c.header.len() || bytes[..c.header.len()] != c.header[..] {
        let n = bytes.len().min(c.header.len());
        return Err(CodecError::WrongHeader {
            expected,
            found: hex::encode(&bytes[..n]),
        });
    }
    let mut rest = &bytes[c.header.len()..];
    let v = GenericDatumReader::builder(&c.schema)
        .build()
        .and_then(|r| r.read_value(&mut rest))
        .map_err(|e| CodecError::Malformed {
            expected,
            reason: e.to_string(),
        })?;
    match v {
        Avro::Record(fields) => Ok(Rec {
            expected,
            fields: fields.into_iter().collect(),
        }),
        other => Err(CodecError::Malformed {
            expected,
            reason: format!("not a record: {other:?}"),
        }),
    }
}

/// Encodes a change event.
pub fn encode_change(ev: &ChangeEvent) -> Result<Vec<u8>, CodecError> {
    let v = Avro::Record(vec![
        ("event_id".into(), Avro::String(ev.event_id.to_string())),
        (
            "correlation_id".into(),
            Avro::String(ev.correlation_id.to_string()),
        ),
        ("mapping".into(), Avro::String(ev.mapping.clone())),
        (
            "system".into(),
            Avro::String(ev.source.system.as_str().into()),
        ),
        ("entity".into(), Avro::String(ev.source.entity.clone())),
        ("record_id".into(), Avro::String(ev.source.id.clone())),
        (
            "op".into(),
            match ev.op {
                ChangeOp::Upsert => Avro::Enum(0, "UPSERT".into()),
                ChangeOp::Delete => Avro::Enum(1, "DELETE".into()),
            },
        ),
        ("modified_on".into(), opt_ts(ev.modified_on)),
        ("etag".into(), opt_str(ev.etag.as_deref())),
        (
            "captured_at".into(),
            Avro::TimestampMillis(ev.captured_at.timestamp_millis()),
        ),
        ("fields".into(), fields_to_avro(&ev.fields)),
        ("redrive".into(), Avro::Int(ev.redrive)),
    ]);
    encode(change_schema(), "ChangeEvent", v)
}

/// Decodes a change event.
pub fn decode_change(bytes: &[u8]) -> Result<ChangeEvent, CodecError> {
    let mut r = decode(change_schema(), "ChangeEvent", bytes)?;
    let system = r.system("system")?;
    let entity = r.string("entity")?;
    let id = r.string("record_id")?;
    Ok(ChangeEvent {
        event_id: r.uuid("event_id")?,
        correlation_id: r.uuid("correlation_id")?,
        mapping: r.string("mapping")?,
        source: RecordKey::new(system, entity, id),
        op: match r.enum_symbol("op")?.as_str() {
            "DELETE" => ChangeOp::Delete,
            _ => ChangeOp::Upsert,
        },
        modified_on: r.opt_ts("modified_on")?,
        etag: r.opt_string("etag")?,
        captured_at: r.ts("captured_at")?,
        fields: r.fields("fields")?,
        redrive: r.int("redrive")?,
    })
}

/// Encodes a write command.
pub fn encode_command(c: &WriteCommand) -> Result<Vec<u8>, CodecError> {
    let nk: HashMap<String, Avro> = c
        .natural_key
        .iter()
        .map(|(k, v)| (k.clone(), Avro::String(v.clone())))
        .collect();
    let v = Avro::Record(vec![
        ("command_id".into(), Avro::String(c.command_id.to_string())),
        ("event_id".into(), Avro::String(c.event_id.to_string())),
        (
            "correlation_id".into(),
            Avro::String(c.correlation_id.to_string()),
        ),
        ("mapping".into(), Avro::String(c.mapping.clone())),
        (
            "source_system".into(),
            Avro::String(c.source.system.as_str().into()),
        ),
        (
            "source_entity".into(),
            Avro::String(c.source.entity.clone()),
        ),
        ("source_id".into(), Avro::String(c.source.id.clone())),
        ("source_modified_on".into(), opt_ts(c.source_modified_on)),
        ("source_etag".into(), opt_str(c.source_etag.as_deref())),
        (
            "target_system".into(),
            Avro::String(c.target_system.as_str().into()),
        ),
        (
            "target_entity".into(),
            Avro::String(c.target_entity.clone()),
        ),
        ("target_id".into(), opt_str(c.target_id.as_deref())),
        (
            "op".into(),
            match c.op {
                WriteOp::Create => Avro::Enum(0, "CREATE".into()),
                WriteOp::Update => Avro::Enum(1, "UPDATE".into()),
                WriteOp::Delete => Avro::Enum(2, "DELETE".into()),
            },
        ),
        ("natural_key".into(), Avro::Map(nk)),
        ("fields".into(), fields_to_avro(&c.fields)),
        ("content_hash".into(), Avro::String(c.content_hash.clone())),
        ("reverse_hash".into(), opt_str(c.reverse_hash.as_deref())),
        (
            "issued_at".into(),
            Avro::TimestampMillis(c.issued_at.timestamp_millis()),
        ),
    ]);
    encode(command_schema(), "WriteCommand", v)
}

/// Decodes a write command.
pub fn decode_command(bytes: &[u8]) -> Result<WriteCommand, CodecError> {
    let mut r = decode(command_schema(), "WriteCommand", bytes)?;
    let system = r.system("source_system")?;
    let entity = r.string("source_entity")?;
    let id = r.string("source_id")?;
    let mut natural_key: Vec<(String, String)> = match r.take("natural_key")? {
        Avro::Map(m) => m
            .into_iter()
            .map(|(k, v)| match v {
                Avro::String(s) => Ok((k, s)),
                other => Err(r.bad("natural_key", format!("not a string: {other:?}"))),
            })
            .collect::<Result<_, _>>()?,
        other => return Err(r.bad("natural_key", format!("not a map: {other:?}"))),
    };
    natural_key.sort();
    Ok(WriteCommand {
        command_id: r.uuid("command_id")?,
        event_id: r.uuid("event_id")?,
        correlation_id: r.uuid("correlation_id")?,
        mapping: r.string("mapping")?,
        source: RecordKey::new(system, entity, id),
        source_modified_on: r.opt_ts("source_modified_on")?,
        source_etag: r.opt_string("source_etag")?,
        target_system: r.system("target_system")?,
        target_entity: r.string("target_entity")?,
        target_id: r.opt_string("target_id")?,
        op: match r.enum_symbol("op")?.as_str() {
            "CREATE" => WriteOp::Create,
            "DELETE" => WriteOp::Delete,
            _ => WriteOp::Update,
        },
        natural_key,
        fields: r.fields("fields")?,
        content_hash: r.string("content_hash")?,
        reverse_hash: r.opt_string("reverse_hash")?,
        issued_at: r.ts("issued_at")?,
    })
}

/// Encodes an outcome.
pub fn encode_outcome(o: &Outcome) -> Result<Vec<u8>, CodecError> {
    let idx = OutcomeStatus::ALL
        .iter()
        .position(|s| *s == o.status)
        .unwrap_or(0);
    let (class, actor, field) = match &o.error {
        Some(e) => (
            Some(e.class.as_str()),
            Some(e.actor.as_str()),
            e.field.as_deref(),
        ),
        None => (None, None, None),
    };
    let v = Avro::Record(vec![
        ("outcome_id".into(), Avro::String(o.outcome_id.to_string())),
        (
            "command_id".into(),
            opt_str(o.command_id.map(|u| u.to_string()).as_deref()),
        ),
        ("event_id".into(), Avro::String(o.event_id.to_string())),
        (
            "correlation_id".into(),
            Avro::String(o.correlation_id.to_string()),
        ),
        ("mapping".into(), Avro::String(o.mapping.clone())),
        (
            "source_system".into(),
            Avro::String(o.source.system.as_str().into()),
        ),
        (
            "source_entity".into(),
            Avro::String(o.source.entity.clone()),
        ),
        ("source_id".into(), Avro::String(o.source.id.clone())),
        ("source_modified_on".into(), opt_ts(o.source_modified_on)),
        ("source_etag".into(), opt_str(o.source_etag.as_deref())),
        (
            "target_system".into(),
            Avro::String(o.target_system.as_str().into()),
        ),
        (
            "target_entity".into(),
            Avro::String(o.target_entity.clone()),
        ),
        ("target_id".into(), opt_str(o.target_id.as_deref())),
        (
            "status".into(),
            Avro::Enum(idx as u32, o.status.as_str().to_ascii_uppercase()),
        ),
        ("target_modified_on".into(), opt_ts(o.target_modified_on)),
        ("target_etag".into(), opt_str(o.target_etag.as_deref())),
        ("content_hash".into(), opt_str(o.content_hash.as_deref())),
        ("reverse_hash".into(), opt_str(o.reverse_hash.as_deref())),
        ("error_class".into(), opt_str(class)),
        ("error_actor".into(), opt_str(actor)),
        ("error_field".into(), opt_str(field)),
        ("reason".into(), opt_str(o.reason.as_deref())),
        ("attempts".into(), Avro::Int(o.attempts)),
        (
            "latency_ms".into(),
            match o.latency_ms {
                Some(ms) => Avro::Union(1, Box::new(Avro::Long(ms))),
                None => Avro::Union(0, Box::new(Avro::Null)),
            },
        ),
        ("at".into(), Avro::TimestampMillis(o.at.timestamp_millis())),
    ]);
    encode(outcome_schema(), "Outcome", v)
}

/// Decodes an outcome.
pub fn decode_outcome(bytes: &[u8]) -> Result<Outcome, CodecError> {
    let mut r = decode(outcome_schema(), "Outcome", bytes)?;
    let system = r.system("source_system")?;
    let entity = r.string("source_entity")?;
    let id = r.string("source_id")?;
    let status_sym = r.enum_symbol("status")?;
    let status = OutcomeStatus::ALL
        .iter()
        .copied()
        .find(|s| s.as_str().eq_ignore_ascii_case(&status_sym))
        .ok_or_else(|| r.bad("status", format!("unknown status {status_sym}")))?;
    let class = r.opt_string("error_class")?;
    let actor = r.opt_string("error_actor")?;
    let field = r.opt_string("error_field")?;
    let error = class.map(|class| OutcomeError {
        class,
        actor: actor.unwrap_or_else(|| "internal".into()),
        field,
    });
    let command_id = match r.opt_string("command_id")? {
        Some(s) => Some(Uuid::parse_str(&s).map_err(|e| r.bad("command_id", e.to_string()))?),
        None => None,
    };
    let latency_ms = match r.take("latency_ms")? {
        Avro::Union(_, b) => match *b {
            Avro::Long(ms) => Some(ms),
            _ => None,
        },
        _ => None,
    };
    Ok(Outcome {
        outcome_id: r.uuid("outcome_id")?,
        command_id,
        event_id: r.uuid("event_id")?,
        correlation_id: r.uuid("correlation_id")?,
        mapping: r.string("mapping")?,
        source: RecordKey::new(system, entity, id),
        source_modified_on: r.opt_ts("source_modified_on")?,
        source_etag: r.opt_string("source_etag")?,
        target_system: r.system("target_system")?,
        target_entity: r.string("target_entity")?,
        target_id: r.opt_string("target_id")?,
        status,
        target_modified_on: r.opt_ts("target_modified_on")?,
        target_etag: r.opt_string("target_etag")?,
        content_hash: r.opt_string("content_hash")?,
        reverse_hash: r.opt_string("reverse_hash")?,
        error,
        reason: r.opt_string("reason")?,
        attempts: r.int("attempts")?,
        latency_ms,
        at: r.ts("at")?,
    })
}

pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> Avro {
    match t {
        Some(t) => Avro::Union(1, Box::new(Avro::TimestampMillis(t.timestamp_millis()))),
        None => Avro::Union(0, Box::new(Avro::Null)),
    }
}

pub(crate) fn opt_str(s: Option<&str>) -> Avro {
    match s {
        Some(s) => Avro::Union(1, Box::new(Avro::String(s.to_string()))),
        None => Avro::Union(0, Box::new(Avro::Null)),
    }
}

fn fields_to_avro(fields: &Fields) -> Avro {
    Avro::Map(
        fields
            .iter()
            .map(|(k, v)| (k.clone(), json_to_avro(v)))
            .collect(),
    )
}

fn json_to_avro(v: &Json) -> Avro {
    match v {
        Json::Null => Avro::Union(0, Box::new(Avro::Null)),
        Json::Bool(b) => Avro::Union(1, Box::new(Avro::Boolean(*b))),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Avro::Union(2, Box::new(Avro::Long(i))),
            None => Avro::Union(3, Box::new(Avro::Double(n.as_f64().unwrap_or(f64::NAN)))),
        },
        Json::String(s) => Avro::Union(4, Box::new(Avro::String(s.clone()))),
        nested => Avro::Union(
            5,
            Box::new(Avro::Record(vec![(
                "json".into(),
                Avro::String(nested.to_string()),
            )])),
        ),
    }
}

fn avro_to_json(v: Avro) -> Result<Json, String> {
    Ok(match v {
        Avro::Union(_, b) => avro_to_json(*b)?,
        Avro::Null => Json::Null,
        Avro::Boolean(b) => Json::Bool(b),
        Avro::Int(i) => Json::from(i),
        Avro::Long(i) => Json::from(i),
        Avro::Double(d) => serde_json::Number::from_f64(d)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Avro::Float(f) => serde_json::Number::from_f64(f as f64)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Avro::String(s) => Json::String(s),
        Avro::Record(fields) => {
            let text = fields
                .into_iter()
                .find(|(k, _)| k == "json")
                .map(|(_, v)| v);
            match text {
                Some(Avro::String(s)) => serde_json::from_str(&s).map_err(|e| e.to_string())?,
                other => return Err(format!("unexpected nested value {other:?}")),
            }
        }
        other => return Err(format!("unexpected value {other:?}")),
    })
}

/// A decoded record, read field by field.
pub(crate) struct Rec {
    expected: &'static str,
    fields: HashMap<String, Avro>,
}

impl Rec {
    pub(crate) fn bad(&self, field: &str, reason: String) -> CodecError {
        CodecError::BadField {
            expected: self.expected,
            field: field.to_string(),
            reason,
        }
    }
    pub(crate) fn take(&mut self, f: &str) -> Result<Avro, CodecError> {
        self.fields
            .remove(f)
            .ok_or_else(|| self.bad(f, "missing".into()))
    }
    pub(crate) fn string(&mut self, f: &str) -> Result<String, CodecError> {
        match self.take(f)? {
            Avro::String(s) => Ok(s),
            other => Err(self.bad(f, format!("not a string: {other:?}"))),
        }
    }
    pub(crate) fn opt_string(&mut self, f: &str) -> Result<Option<String>, CodecError> {
        match self.take(f)? {
            Avro::Union(_, b) => match *b {
                Avro::Null => Ok(None),
                Avro::String(s) => Ok(Some(s)),
                other => Err(self.bad(f, format!("not a string: {other:?}"))),
            },
            other => Err(self.bad(f, format!("not a union: {other:?}"))),
        }
    }
    pub(crate) fn uuid(&mut self, f: &str) -> Result<Uuid, CodecError> {
        let s = self.string(f)?;
        Uuid::parse_str(&s).map_err(|e| self.bad(f, format!("'{s}' is not a UUID: {e}")))
    }
    pub(crate) fn int(&mut self, f: &str) -> Result<i32, CodecError> {
        match self.take(f)? {
            Avro::Int(i) => Ok(i),
            other => Err(self.bad(f, format!("not an int: {other:?}"))),
        }
    }
    pub(crate) fn system(&mut self, f: &str) -> Result<System, CodecError> {
        let s = self.string(f)?;
        s.parse().map_err(|e: String| self.bad(f, e))
    }
    pub(crate) fn enum_symbol(&mut self, f: &str) -> Result<String, CodecError> {
        match self.take(f)? {
            Avro::Enum(_, s) => Ok(s),
            other => Err(self.bad(f, format!("not an enum: {other:?}"))),
        }
    }
    pub(crate) fn ts_of(&self, f: &str, v: Avro) -> Result<DateTime<Utc>, CodecError> {
        let ms = match v {
            Avro::TimestampMillis(ms) | Avro::Long(ms) => ms,
            other => return Err(self.bad(f, format!("not a timestamp: {other:?}"))),
        };
        DateTime::from_timestamp_millis(ms).ok_or_else(|| self.bad(f, format!("{ms} out of range")))
    }
    pub(crate) fn ts(&mut self, f: &str) -> Result<DateTime<Utc>, CodecError> {
        let v = self.take(f)?;
        self.ts_of(f, v)
    }
    pub(crate) fn opt_ts(&mut self, f: &str) -> Result<Option<DateTime<Utc>>, CodecError> {
        match self.take(f)? {
            Avro::Union(_, b) => match *b {
                Avro::Null => Ok(None),
                v => self.ts_of(f, v).map(Some),
            },
            other => Err(self.bad(f, format!("not a union: {other:?}"))),
        }
    }
    pub(crate) fn fields(&mut self, f: &str) -> Result<Fields, CodecError> {
        match self.take(f)? {
            Avro::Map(m) => {
                let mut out = Fields::new();
                let mut keys: Vec<_> = m.into_iter().collect();
                keys.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, v) in keys {
                    let j = avro_to_json(v).map_err(|e| self.bad(&format!("{f}.{k}"), e))?;
                    out.insert(k, j);
                }
                Ok(out)
            }
            other => Err(self.bad(f, format!("not a map: {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::types::now_millis;
    use serde_json::json;

    fn sample_fields() -> Fields {
        let mut f = Fields::new();
        f.insert("name".into(), json!("Contoso Ltd"));
        f.insert("creditlimit".into(), json!(1500.5));
        f.insert("numberofemployees".into(), json!(42));
        f.insert("donotemail".into(), json!(false));
        f.insert("fax".into(), Json::Null);
        f.insert("tags".into(), json!(["a", {"b": 1}]));
        f
    }

    #[test]
    fn change_event_round_trips() {
        let ev = ChangeEvent::new(
            "CUSTOMER",
            RecordKey::new(crate::systems::DATAVERSE, "accounts", "6d81597f"),
            ChangeOp::Upsert,
            Some(now_millis()),
            Some("W/\"915244\"".into()),
            sample_fields(),
        );
        let bytes = encode_change(&ev).unwrap();
        assert_eq!(&bytes[..2], &[0xC3, 0x01]);
        // The specification's fingerprint (as fastavro computes it), not apache-avro's.
        assert_eq!(hex::encode(&bytes[2..10]), "d9099b31b603f051");
        assert_eq!(decode_change(&bytes).unwrap(), ev);
    }

    #[test]
    fn command_and_outcome_round_trip() {
        let cmd = WriteCommand {
            command_id: Uuid::new_v4(),
            event_id: Uuid::new_v4(),
            correlation_id: Uuid::new_v4(),
            mapping: "CUSTOMER".into(),
            source: RecordKey::new(crate::systems::BC, "customers", "c1"),
            source_modified_on: Some(now_millis()),
            source_etag: None,
            target_system: crate::systems::DATAVERSE,
            target_entity: "accounts".into(),
            target_id: None,
            op: WriteOp::Create,
            natural_key: vec![("accountnumber".into(), "C00010".into())],
            fields: sample_fields(),
            content_hash: "abc".into(),
            reverse_hash: Some("def".into()),
            issued_at: now_millis(),
        };
        assert_eq!(decode_command(&encode_command(&cmd).unwrap()).unwrap(), cmd);
        let mut o = Outcome::for_command(&cmd, OutcomeStatus::Failed);
        o.error = Some(OutcomeError {
            class: "validation".into(),
            actor: "user".into(),
            field: Some("name".into()),
        });
        o.reason = Some("too long".into());
        o.latency_ms = Some(12);
        assert_eq!(decode_outcome(&encode_outcome(&o).unwrap()).unwrap(), o);
    }

    #[test]
    fn fingerprints_follow_the_avro_specification() {
        // CRC-64-AVRO of the Parsing Canonical Form, as fastavro (and Java's
        // SchemaNormalization) compute it for schemas/*.avsc.
        for (compiled, spec) in [
            (change_schema(), "d9099b31b603f051"),
            (command_schema(), "844a81fd06de7013"),
            (outcome_schema(), "667ff1326d0c1d79"),
        ] {
            assert_eq!(&compiled.header[..2], &[0xC3, 0x01]);
            assert_eq!(hex::encode(&compiled.header[2..10]), spec);
        }
    }

    #[test]
    fn garbage_is_a_clear_error_not_a_panic() {
        let err = decode_change(b"hello world").unwrap_err();
        assert!(
            err.to_string().contains("not a Couplet ChangeEvent"),
            "{err}"
        );
        let mut bytes = encode_change(&ChangeEvent::new(
            "M",
            RecordKey::new(crate::systems::BC, "customers", "x"),
            ChangeOp::Delete,
            None,
            None,
            Fields::new(),
        ))
        .unwrap();
        bytes.truncate(14);
        assert!(matches!(
            decode_change(&bytes),
            Err(CodecError::Malformed { .. })
        ));
        // A command is not an event.
        assert!(decode_outcome(&bytes).is_err());
    }
}
