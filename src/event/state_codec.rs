//! Avro codecs of the state changelogs: couplings, checkpoints, parked changes and create
//! intents (`schemas/coupling.avsc`, `checkpoint.avsc`, `parked.avsc`, `create_intent.avsc`).
//! An empty value is a tombstone.

use std::sync::OnceLock;

use apache_avro::types::Value as Avro;
use chrono::{DateTime, Utc};

use super::avro::{
    CodecError, Compiled, compile, decode, decode_change, encode, encode_change, opt_str, opt_ts,
};
use crate::event::{RecordKey, System};
use crate::store::{Coupling, CreateIntent, ParkedEntry};

/// `schemas/coupling.avsc`.
pub const COUPLING_SCHEMA: &str = include_str!("../../schemas/coupling.avsc");
/// `schemas/checkpoint.avsc`.
pub const CHECKPOINT_SCHEMA: &str = include_str!("../../schemas/checkpoint.avsc");
/// `schemas/parked.avsc`.
pub const PARKED_SCHEMA: &str = include_str!("../../schemas/parked.avsc");

/// `schemas/create_intent.avsc`.
pub const INTENT_SCHEMA: &str = include_str!("../../schemas/create_intent.avsc");

fn intent_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(INTENT_SCHEMA))
}
fn coupling_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(COUPLING_SCHEMA))
}
fn checkpoint_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(CHECKPOINT_SCHEMA))
}
fn parked_schema() -> &'static Compiled {
    static S: OnceLock<Compiled> = OnceLock::new();
    S.get_or_init(|| compile(PARKED_SCHEMA))
}

fn ts(t: DateTime<Utc>) -> Avro {
    Avro::TimestampMillis(t.timestamp_millis())
}

/// Encodes a coupling.
pub fn encode_coupling(c: &Coupling) -> Result<Vec<u8>, CodecError> {
    let s = |v: &str| Avro::String(v.to_string());
    let v = Avro::Record(vec![
        ("mapping".into(), s(&c.mapping)),
        ("crm_entity".into(), s(&c.crm_entity)),
        ("crm_id".into(), s(&c.crm_id)),
        ("erp_entity".into(), s(&c.erp_entity)),
        ("erp_id".into(), s(&c.erp_id)),
        ("crm_modified_on".into(), opt_ts(c.crm_modified_on)),
        ("erp_modified_on".into(), opt_ts(c.erp_modified_on)),
        ("crm_etag".into(), opt_str(c.crm_etag.as_deref())),
        ("erp_etag".into(), opt_str(c.erp_etag.as_deref())),
        ("hash_to_crm".into(), opt_str(c.hash_to_crm.as_deref())),
        ("hash_to_erp".into(), opt_str(c.hash_to_erp.as_deref())),
        ("coupled_at".into(), ts(c.coupled_at)),
        ("last_sync_at".into(), opt_ts(c.last_sync_at)),
        (
            "last_direction".into(),
            opt_str(c.last_direction.as_deref()),
        ),
        ("last_result".into(), opt_str(c.last_result.as_deref())),
    ]);
    encode(coupling_schema(), "Coupling", v)
}

/// Decodes a coupling.
pub fn decode_coupling(bytes: &[u8]) -> Result<Coupling, CodecError> {
    let mut r = decode(coupling_schema(), "Coupling", bytes)?;
    Ok(Coupling {
        mapping: r.string("mapping")?,
        crm_entity: r.string("crm_entity")?,
        crm_id: r.string("crm_id")?,
        erp_entity: r.string("erp_entity")?,
        erp_id: r.string("erp_id")?,
        crm_modified_on: r.opt_ts("crm_modified_on")?,
        erp_modified_on: r.opt_ts("erp_modified_on")?,
        crm_etag: r.opt_string("crm_etag")?,
        erp_etag: r.opt_string("erp_etag")?,
        hash_to_crm: r.opt_string("hash_to_crm")?,
        hash_to_erp: r.opt_string("hash_to_erp")?,
        coupled_at: r.ts("coupled_at")?,
        last_sync_at: r.opt_ts("last_sync_at")?,
        last_direction: r.opt_string("last_direction")?,
        last_result: r.opt_string("last_result")?,
    })
}

/// Encodes a checkpoint.
pub fn encode_checkpoint(
    name: &str,
    value: &serde_json::Value,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, CodecError> {
    let v = Avro::Record(vec![
        ("name".into(), Avro::String(name.to_string())),
        ("value_json".into(), Avro::String(value.to_string())),
        ("saved_at".into(), ts(at)),
    ]);
    encode(checkpoint_schema(), "Checkpoint", v)
}

/// Decodes a checkpoint: (name, value).
pub fn decode_checkpoint(bytes: &[u8]) -> Result<(String, serde_json::Value), CodecError> {
    let mut r = decode(checkpoint_schema(), "Checkpoint", bytes)?;
    let name = r.string("name")?;
    let text = r.string("value_json")?;
    let value = serde_json::from_str(&text).map_err(|e| r.bad("value_json", e.to_string()))?;
    Ok((name, value))
}

/// Encodes a parked change.
pub fn encode_parked(p: &ParkedEntry) -> Result<Vec<u8>, CodecError> {
    let v = Avro::Record(vec![
        ("waiting_for".into(), Avro::String(p.waiting_for.clone())),
        ("record".into(), Avro::String(p.record.clone())),
        ("mapping".into(), Avro::String(p.mapping.clone())),
        ("reason".into(), Avro::String(p.reason.clone())),
        ("parked_at".into(), ts(p.parked_at)),
        ("event".into(), Avro::Bytes(encode_change(&p.event)?)),
    ]);
    encode(parked_schema(), "Parked", v)
}

/// Decodes a parked change.
pub fn decode_parked(bytes: &[u8]) -> Result<ParkedEntry, CodecError> {
    let mut r = decode(parked_schema(), "Parked", bytes)?;
    let event = match r.take("event")? {
        Avro::Bytes(b) => decode_change(&b)?,
        other => return Err(r.bad("event", format!("not bytes: {other:?}"))),
    };
    Ok(ParkedEntry {
        waiting_for: r.string("waiting_for")?,
        record: r.string("record")?,
        mapping: r.string("mapping")?,
        reason: r.string("reason")?,
        parked_at: r.ts("parked_at")?,
        event,
    })
}

/// Encodes a create intent.
pub fn encode_intent(i: &CreateIntent) -> Result<Vec<u8>, CodecError> {
    let s = |v: &str| Avro::String(v.to_string());
    let v = Avro::Record(vec![
        ("mapping".into(), s(&i.mapping)),
        ("source_system".into(), s(i.source.system.as_str())),
        ("source_entity".into(), s(&i.source.entity)),
        ("source_id".into(), s(&i.source.id)),
        ("target_system".into(), s(i.target_system.as_str())),
        ("target_entity".into(), s(&i.target_entity)),
        (
            "fields_json".into(),
            s(&serde_json::Value::Object(i.fields.clone()).to_string()),
        ),
        ("instance".into(), s(&i.instance)),
        ("at".into(), ts(i.at)),
    ]);
    encode(intent_schema(), "CreateIntent", v)
}

/// Decodes a create intent.
pub fn decode_intent(bytes: &[u8]) -> Result<CreateIntent, CodecError> {
    let mut r = decode(intent_schema(), "CreateIntent", bytes)?;
    let mut system = |field: &str| -> Result<System, CodecError> {
        let text = r.string(field)?;
        text.parse::<System>()
            .map_err(|_| r.bad(field, format!("unknown system '{text}'")))
    };
    let (source_system, target_system) = (system("source_system")?, system("target_system")?);
    let text = r.string("fields_json")?;
    let fields = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(f)) => f,
        Ok(other) => return Err(r.bad("fields_json", format!("not an object: {other}"))),
        Err(e) => return Err(r.bad("fields_json", e.to_string())),
    };
    Ok(CreateIntent {
        mapping: r.string("mapping")?,
        source: RecordKey::new(
            source_system,
            r.string("source_entity")?,
            r.string("source_id")?,
        ),
        target_system,
        target_entity: r.string("target_entity")?,
        fields,
        instance: r.string("instance")?,
        at: r.ts("at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::types::now_millis;
    use crate::event::{ChangeEvent, ChangeOp, Fields, RecordKey};

    #[test]
    fn state_records_round_trip() {
        let c = Coupling {
            mapping: "CUSTOMER".into(),
            crm_entity: "accounts".into(),
            crm_id: "a".into(),
            erp_entity: "customers".into(),
            erp_id: "b".into(),
            crm_modified_on: Some(now_millis()),
            erp_modified_on: None,
            crm_etag: Some("W/\"1\"".into()),
            erp_etag: None,
            hash_to_crm: None,
            hash_to_erp: Some("h".into()),
            coupled_at: now_millis(),
            last_sync_at: Some(now_millis()),
            last_direction: Some("to_erp".into()),
            last_result: Some("created".into()),
        };
        assert_eq!(decode_coupling(&encode_coupling(&c).unwrap()).unwrap(), c);
        let v = serde_json::json!({"delta": "http://x/accounts?$deltatoken=1"});
        assert_eq!(
            decode_checkpoint(&encode_checkpoint("n", &v, now_millis()).unwrap()).unwrap(),
            ("n".to_string(), v.clone())
        );
        let ev = ChangeEvent::new(
            "CONTACT",
            RecordKey::new(crate::systems::BC, "contacts", "x"),
            ChangeOp::Upsert,
            None,
            None,
            Fields::new(),
        );
        let p = ParkedEntry {
            waiting_for: "CUSTOMER/bc/number=C1".into(),
            record: "bc/contacts/x".into(),
            mapping: "CONTACT".into(),
            reason: "r".into(),
            parked_at: now_millis(),
            event: ev,
        };
        assert_eq!(decode_parked(&encode_parked(&p).unwrap()).unwrap(), p);
        let i = CreateIntent {
            mapping: "CUSTOMER".into(),
            source: RecordKey::new(crate::systems::DATAVERSE, "accounts", "a"),
            target_system: crate::systems::BC,
            target_entity: "customers".into(),
            fields: serde_json::json!({"displayName": "Contoso", "creditLimit": 5})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            instance: "i".into(),
            at: now_millis(),
        };
        assert_eq!(decode_intent(&encode_intent(&i).unwrap()).unwrap(), i);
        assert!(decode_coupling(b"junk").is_err());
        // Fingerprints as the Avro specification (and fastavro) compute them.
        for (bytes, spec) in [
            (encode_coupling(&c).unwrap(), "ca7f068ca1812e93"),
            (
                encode_checkpoint("n", &v, now_millis()).unwrap(),
                "965fe50f1ba7f871",
            ),
            (encode_parked(&p).unwrap(), "4c5d0352700958ee"),
            (encode_intent(&i).unwrap(), "b78b7624efffda06"),
        ] {
            assert_eq!(hex::encode(&bytes[2..10]), spec);
        }
    }
}
