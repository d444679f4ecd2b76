//! Tests of the key codec: round trips, compatibility with the ids written before it,
//! and the refusal of malformed ids.

use super::*;
use serde_json::json;

fn fo_customer() -> KeyShape {
    KeyShape::composite([
        ("dataAreaId", KeyKind::String),
        ("CustomerAccount", KeyKind::String),
    ])
}

fn round_trip(key: &PrimaryKey, shape: &KeyShape) -> String {
    let id = key.encode();
    assert!(!id.contains('/'), "{id}");
    assert_eq!(PrimaryKey::decode(&id, shape).as_ref(), Ok(key), "{id}");
    id
}

#[test]
fn a_guid_encodes_to_itself_as_before() {
    let shape = KeyShape::guid("accountid");
    for id in [
        "6d81597f-0000-0000-0000-000000000001",
        "6D81597F-0000-0000-0000-000000000001",
        "{6D81597F-0000-0000-0000-000000000001}",
        "abc",
    ] {
        let key = PrimaryKey::single("accountid", KeyValue::Guid(id.to_string()));
        assert_eq!(round_trip(&key, &shape), id);
        assert_eq!(key.to_string(), id);
    }
    let rec = json!({"accountid": "6d81597f-0000-0000-0000-000000000001", "name": "A"});
    let rec = rec.as_object().expect("object");
    let key = PrimaryKey::from_fields(&shape, rec).expect("key");
    assert_eq!(key.encode(), "6d81597f-0000-0000-0000-000000000001");
}

#[test]
fn single_strings_and_integers_round_trip() {
    let shape = KeyShape::string("CardCode");
    for (value, id) in [
        ("C0001", "C0001"),
        ("O'Neil, Ltd = ok", "O'Neil, Ltd = ok"),
        ("a/b", "a%2Fb"),
        ("100%", "100%25"),
        ("%2F", "%252F"),
        ("Müller & Søn 東京", "Müller & Søn 東京"),
    ] {
        let key = PrimaryKey::single("CardCode", KeyValue::Str(value.to_string()));
        assert_eq!(round_trip(&key, &shape), id);
    }
    let shape = KeyShape::int("DocEntry");
    for n in [0, 123, -7, i64::MAX, i64::MIN] {
        let key = PrimaryKey::single("DocEntry", KeyValue::Int(n));
        assert_eq!(round_trip(&key, &shape), n.to_string());
    }
}

#[test]
fn composite_keys_round_trip_with_every_reserved_character() {
    let shape = fo_customer();
    let key = |area: &str, account: &str| {
        PrimaryKey::new(vec![
            KeyPart {
                column: "dataAreaId".into(),
                value: KeyValue::Str(area.into()),
            },
            KeyPart {
                column: "CustomerAccount".into(),
                value: KeyValue::Str(account.into()),
            },
        ])
        .expect("parts")
    };
    assert_eq!(
        round_trip(&key("usmf", "US-001"), &shape),
        "dataAreaId=usmf,CustomerAccount=US-001"
    );
    assert_eq!(
        round_trip(&key("us/mf", "a'b,c=d%e/f"), &shape),
        "dataAreaId=us%2Fmf,CustomerAccount=a'b%2Cc%3Dd%25e%2Ff"
    );
    assert_eq!(
        round_trip(&key("", "Ærø 東京"), &shape),
        "dataAreaId=,CustomerAccount=Ærø 東京"
    );
    let mixed = KeyShape::composite([("DocEntry", KeyKind::Int), ("LineNum", KeyKind::Int)]);
    let lines = PrimaryKey::new(vec![
        KeyPart {
            column: "DocEntry".into(),
            value: KeyValue::Int(12),
        },
        KeyPart {
            column: "LineNum".into(),
            value: KeyValue::Int(0),
        },
    ])
    .expect("parts");
    assert_eq!(round_trip(&lines, &mixed), "DocEntry=12,LineNum=0");
    assert_eq!(lines.value("LineNum"), Some(&KeyValue::Int(0)));
    assert_eq!(lines.value("Other"), None);
}

#[test]
fn keys_are_read_from_records_by_their_shape() {
    let rec = json!({"dataAreaId": "usmf", "CustomerAccount": "US-001", "DocEntry": 17,
        "Big": "9007199254740993", "Name": 5});
    let rec = rec.as_object().expect("object");
    let key = PrimaryKey::from_fields(&fo_customer(), rec).expect("composite");
    assert_eq!(key.encode(), "dataAreaId=usmf,CustomerAccount=US-001");
    assert_eq!(
        key.parts()[1].value.to_json(),
        serde_json::Value::from("US-001")
    );
    let doc = PrimaryKey::from_fields(&KeyShape::int("DocEntry"), rec).expect("int");
    assert_eq!(doc.encode(), "17");
    assert_eq!(doc.parts()[0].value.to_json(), json!(17));
    let big = PrimaryKey::from_fields(&KeyShape::int("Big"), rec).expect("int as string");
    assert_eq!(big.encode(), "9007199254740993");
    // Missing or mistyped key columns give no key.
    assert!(PrimaryKey::from_fields(&KeyShape::guid("accountid"), rec).is_none());
    assert!(PrimaryKey::from_fields(&KeyShape::string("Name"), rec).is_none());
    assert!(PrimaryKey::from_fields(&KeyShape::int("dataAreaId"), rec).is_none());
    assert!(PrimaryKey::from_fields(&KeyShape::composite::<&str>([]), rec).is_none());
    assert!(PrimaryKey::new(Vec::new()).is_none());
}

#[test]
fn malformed_ids_are_refused_naming_the_id() {
    let err = |id: &str, shape: &KeyShape| {
        let e = PrimaryKey::decode(id, shape).expect_err(id);
        let text = e.to_string();
        if !id.is_empty() {
            assert!(text.contains(&format!("'{id}'")), "{text}");
        }
        e
    };
    let string = KeyShape::string("CardCode");
    assert_eq!(err("", &string), KeyError::Empty);
    assert!(matches!(err("50%", &string), KeyError::BadEscape { .. }));
    assert!(matches!(err("%zz", &string), KeyError::BadEscape { .. }));
    assert!(matches!(err("%+1", &string), KeyError::BadEscape { .. }));
    assert!(matches!(err("%C3%28", &string), KeyError::BadEscape { .. }));
    // Decodable but not canonical: one record, one id.
    assert_eq!(
        err("%41", &string),
        KeyError::NotCanonical {
            id: "%41".into(),
            canonical: "A".into()
        }
    );
    assert!(matches!(
        err("a%2fb", &string),
        KeyError::NotCanonical { .. }
    ));
    assert!(matches!(err("a/b", &string), KeyError::NotCanonical { .. }));
    let int = KeyShape::int("DocEntry");
    let e = err("12a", &int);
    assert!(e.to_string().contains("DocEntry must be an integer"), "{e}");
    assert!(matches!(err("0123", &int), KeyError::NotCanonical { .. }));
    assert!(matches!(err("+5", &int), KeyError::NotCanonical { .. }));
    let fo = fo_customer();
    let e = err("usmf", &fo);
    assert!(e.to_string().contains("dataAreaId+CustomerAccount"), "{e}");
    assert!(matches!(
        err("dataAreaId=usmf,CustomerAccount=a,b", &fo),
        KeyError::PartCount { found: 3, .. }
    ));
    assert!(matches!(
        err("CustomerAccount=US-001,dataAreaId=usmf", &fo),
        KeyError::Column { index: 1, .. }
    ));
    assert!(matches!(
        err("dataAreaId=usmf,US-001", &fo),
        KeyError::Column { index: 2, .. }
    ));
    assert!(matches!(
        err("dataAreaId=usmf,CustomerAccount=a=b", &fo),
        KeyError::NotCanonical { .. }
    ));
    assert!(matches!(
        err("x", &KeyShape::composite::<&str>([])),
        KeyError::NoColumns { .. }
    ));
}

#[test]
fn shapes_name_their_columns() {
    assert_eq!(fo_customer().names(), "dataAreaId+CustomerAccount");
    assert_eq!(KeyShape::guid("id").names(), "id");
    assert_eq!(
        KeyShape::int("DocEntry").columns(),
        &[KeyColumn {
            name: "DocEntry".into(),
            kind: KeyKind::Int
        }]
    );
}
