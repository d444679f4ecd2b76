use serde_json::{Value, json};

use super::*;

/// A customer event as the sandbox (and an X++ extension) sends it.
fn customer() -> Value {
    json!({
        "BusinessEventId": "CustomerChangedBusinessEvent",
        "BusinessEventLegalEntity": "USMF",
        "ContextRecordSubject": "",
        "ControlNumber": 5637611083u64,
        "EventId": "3C47A4CD-6EDC-4319-B893-3F862EED65FD",
        "EventTime": "/Date(1672408275000)/",
        "EventTimeIso8601": "2022-12-30T13:51:15.2942742Z",
        "InitiatingUserAADObjectId": "{410A2690-5EC2-42EE-9F2A-E75B4E324930}",
        "MajorVersion": 0,
        "MinorVersion": 0,
        "ParentContextRecordSubjects": [],
        "DataAreaId": "usmf",
        "CustomerAccount": "US-001",
        "ChangeType": "Updated"
    })
}

fn read(v: &Value) -> Result<BusinessEvent, PayloadError> {
    parse(v.to_string().as_bytes())
}

#[test]
fn reads_the_documented_envelope_and_the_event_fields() {
    let e = read(&customer()).unwrap();
    assert_eq!(e.event_type, "CustomerChangedBusinessEvent");
    assert_eq!(e.legal_entity, "usmf");
    assert_eq!(e.control_number, 5_637_611_083);
    assert_eq!(e.event_id, "3C47A4CD-6EDC-4319-B893-3F862EED65FD");
    assert_eq!(
        e.record_key,
        Some(("CustomerAccount".into(), "US-001".into()))
    );
    assert_eq!(e.change_type.as_deref(), Some("Updated"));
    assert_eq!(e.event_time.timestamp_millis(), 1_672_408_275_000);
    assert_eq!(e.entity_set(), Some("CustomersV3"));
}

#[test]
fn maps_each_known_type_to_its_entity_set_and_key() {
    for (event, set, key) in [
        (
            "ReleasedProductChangedBusinessEvent",
            "ReleasedProductsV2",
            "ItemNumber",
        ),
        (
            "SalesOrderChangedBusinessEvent",
            "SalesOrderHeadersV2",
            "SalesOrderNumber",
        ),
    ] {
        let mut v = customer();
        v["BusinessEventId"] = json!(event);
        v[key] = json!("K-1");
        let e = read(&v).unwrap();
        assert_eq!(e.entity_set(), Some(set));
        assert_eq!(e.record_key, Some((key.to_string(), "K-1".to_string())));
    }
}

#[test]
fn an_unknown_type_is_read_without_a_record_key() {
    let mut v = customer();
    v["BusinessEventId"] = json!("SalesOrderConfirmedBusinessEvent");
    let e = read(&v).unwrap();
    assert_eq!(e.entity_set(), None);
    assert_eq!(e.record_key, None);
}

#[test]
fn event_ids_are_normalised_and_times_read_in_every_documented_form() {
    let mut v = customer();
    v["EventId"] = json!("{3c47a4cd-6edc-4319-b893-3f862eed65fd}");
    v["EventTime"] = json!("/Date(1506409448000-0700)/");
    v["ControlNumber"] = json!("42");
    let e = read(&v).unwrap();
    assert_eq!(e.event_id, "3C47A4CD-6EDC-4319-B893-3F862EED65FD");
    assert_eq!(e.event_time.timestamp_millis(), 1_506_409_448_000);
    assert_eq!(e.control_number, 42);

    // F&O's empty date.
    v["EventTime"] = json!("/Date(-2208988800000)/");
    assert_eq!(
        read(&v).unwrap().event_time.to_rfc3339(),
        "1900-01-01T00:00:00+00:00"
    );

    // Without EventTime, the ISO 8601 form with 7 fractional digits.
    v.as_object_mut().unwrap().remove("EventTime");
    let e = read(&v).unwrap();
    assert_eq!(e.event_time.timestamp_millis(), 1_672_408_275_294);
}

#[test]
fn the_legal_entity_falls_back_to_data_area_id() {
    let mut v = customer();
    v["BusinessEventLegalEntity"] = json!("");
    v["DataAreaId"] = json!("DEMF");
    assert_eq!(read(&v).unwrap().legal_entity, "demf");
}

#[test]
fn errors_name_the_missing_or_invalid_field() {
    let cases: Vec<(&str, Value, PayloadError)> = vec![
        (
            "BusinessEventId",
            Value::Null,
            PayloadError::Missing {
                field: "BusinessEventId",
            },
        ),
        (
            "ControlNumber",
            Value::Null,
            PayloadError::Missing {
                field: "ControlNumber",
            },
        ),
        (
            "EventId",
            json!(""),
            PayloadError::Missing { field: "EventId" },
        ),
        (
            "CustomerAccount",
            Value::Null,
            PayloadError::Missing {
                field: "CustomerAccount",
            },
        ),
    ];
    for (field, value, want) in cases {
        let mut v = customer();
        v[field] = value;
        assert_eq!(read(&v).unwrap_err(), want, "{field}");
    }
    let mut v = customer();
    v["BusinessEventLegalEntity"] = Value::Null;
    v["DataAreaId"] = Value::Null;
    assert_eq!(
        read(&v).unwrap_err(),
        PayloadError::Missing {
            field: "BusinessEventLegalEntity"
        }
    );
    for (field, value) in [
        ("ControlNumber", json!(-5)),
        ("ControlNumber", json!(1.5)),
        ("ControlNumber", json!("12a")),
        ("EventId", json!("not-a-guid")),
        ("EventTime", json!("2022-12-30")),
        ("EventTime", json!("/Date(12x)/")),
        ("BusinessEventId", json!(["x"])),
    ] {
        let mut v = customer();
        v[field] = value.clone();
        match read(&v).unwrap_err() {
            PayloadError::Invalid { field: f, reason } => {
                assert_eq!(f, field, "{value}: {reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("{field} = {value}: {other:?}"),
        }
    }
    let mut v = customer();
    let m = v.as_object_mut().unwrap();
    m.remove("EventTime");
    m.remove("EventTimeIso8601");
    assert_eq!(
        read(&v).unwrap_err(),
        PayloadError::Missing { field: "EventTime" }
    );
}

#[test]
fn a_body_that_is_not_a_json_object_is_refused() {
    assert!(matches!(
        parse(b"{\"BusinessEventId\""),
        Err(PayloadError::NotJson { .. })
    ));
    assert_eq!(parse(b"[1,2]").unwrap_err(), PayloadError::NotAnObject);
    assert!(matches!(parse(b""), Err(PayloadError::NotJson { .. })));
    let e = parse(b"\xff\xfe").unwrap_err();
    assert_eq!(e.class(), "malformed");
    assert_eq!(e.actor(), Actor::External);
}
