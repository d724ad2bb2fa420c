//! Malformed activity JSON gives the documented `DecodeError`, never a panic.

use audit_generated_check::roundtrip::{Change, Everything, EverythingChange, PairChange, PairKey};
use audit_runtime::{Activity, DataPart, DecodeError, Verb, Xid8};
use proptest::prelude::*;
use serde_json::value::RawValue;

fn raw(text: &str) -> Option<Box<RawValue>> {
    Some(RawValue::from_string(text.to_owned()).unwrap())
}

fn activity(table: &str, verb: Verb, old: Option<&str>, changed: Option<&str>) -> Activity {
    Activity {
        id: 42,
        schema_name: "public".to_owned(),
        table_name: table.to_owned(),
        relid: 1,
        issued_at: chrono::DateTime::UNIX_EPOCH,
        native_transaction_id: Xid8(7),
        verb,
        object_id: raw("[1, \"a\"]"),
        old_data: old.and_then(raw),
        changed_data: changed.and_then(raw),
        transaction_id: None,
    }
}

#[test]
fn wrong_type_names_column_type_and_value() {
    let err = PairChange::decode(
        Some(9),
        "update",
        Some(r#"{"a": 1, "b": "x", "v": 2}"#),
        Some(r#"{"v": "x"}"#),
    )
    .unwrap_err();
    match &err {
        DecodeError::InvalidValue {
            activity_id,
            table,
            part,
            column,
            expected,
            found,
            ..
        } => {
            assert_eq!(*activity_id, Some(9));
            assert_eq!(table, "public.pair");
            assert_eq!(*part, DataPart::ChangedData);
            assert_eq!(*column, "v");
            assert_eq!(*expected, "integer NOT NULL (i32)");
            assert_eq!(&**found, "\"x\"");
        }
        other => panic!("unexpected {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.starts_with("activity 9: public.pair.v in changed_data: expected integer NOT NULL (i32), found `\"x\"`"),
        "{text}"
    );
}

#[test]
fn null_for_a_not_null_column_in_a_patch_is_an_error() {
    let err = PairChange::decode(
        None,
        "update",
        Some(r#"{"a": 1, "b": "x", "v": 2}"#),
        Some(r#"{"v": null}"#),
    )
    .unwrap_err();
    assert!(
        matches!(err, DecodeError::InvalidValue { column: "v", .. }),
        "{err:?}"
    );
}

#[test]
fn missing_not_null_column_is_an_error_naming_it() {
    let err = PairChange::decode(None, "insert", None, Some(r#"{"a": 1, "b": "x"}"#)).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::MissingColumn {
                column: "v",
                part: DataPart::ChangedData,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "activity: public.pair.v (expected integer NOT NULL (i32)) is missing from changed_data"
    );
}

#[test]
fn dropped_columns_are_ignored_and_added_nullable_columns_are_none() {
    let change = EverythingChange::decode(
        None,
        "insert",
        None,
        Some(r#"{"id": 1, "rating": 3, "dropped_long_ago": [1, 2], "txt": "kept"}"#),
    )
    .unwrap();
    let EverythingChange::Insert { new } = change else {
        panic!("not an insert")
    };
    assert_eq!(new.txt.as_deref(), Some("kept"));
    assert_eq!(new.i4, None);
    assert_eq!(new.home, None);
}

#[test]
fn truncated_text_is_invalid_json() {
    let err = PairChange::decode(None, "insert", None, Some(r#"{"a": 1, "b"#)).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::InvalidJson {
                part: DataPart::ChangedData,
                ..
            }
        ),
        "{err:?}"
    );
    let err = PairChange::decode(None, "insert", None, Some("[1, 2]")).unwrap_err();
    assert!(matches!(err, DecodeError::InvalidJson { .. }), "{err:?}");
}

#[test]
fn verbs_the_table_does_not_know_are_errors() {
    let err = EverythingChange::decode(Some(1), "truncate", None, None).unwrap_err();
    assert!(matches!(err, DecodeError::UnexpectedVerb { ref verb, .. } if verb == "truncate"));
    let err = PairChange::decode(Some(1), "merge", None, None).unwrap_err();
    assert!(matches!(err, DecodeError::UnexpectedVerb { ref verb, .. } if verb == "merge"));
    assert_eq!(
        PairChange::decode(Some(1), "truncate", None, None).unwrap(),
        PairChange::Truncate
    );
}

#[test]
fn missing_parts_are_errors() {
    let err = PairChange::decode(Some(3), "update", None, Some(r#"{"v": 1}"#)).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::MissingData {
                part: DataPart::OldData,
                ..
            }
        ),
        "{err:?}"
    );
    let err = PairChange::decode(Some(3), "delete", None, None).unwrap_err();
    assert!(matches!(err, DecodeError::MissingData { .. }), "{err:?}");
}

#[test]
fn wrong_and_unknown_tables_are_errors() {
    let pair = activity(
        "pair",
        Verb::Insert,
        None,
        Some(r#"{"a": 1, "b": "a", "v": 1}"#),
    );
    let err = EverythingChange::try_from(&pair).unwrap_err();
    assert_eq!(
        err,
        DecodeError::WrongTable {
            activity_id: Some(42),
            expected: "public.everything".to_owned(),
            found: "public.pair".to_owned(),
        }
    );
    assert!(matches!(
        Change::try_from(&pair),
        Ok(Change::Pair(PairChange::Insert { .. }))
    ));
    assert_eq!(
        PairKey::try_from(&pair).unwrap(),
        PairKey {
            a: 1,
            b: "a".to_owned()
        }
    );
    let other = activity("nope", Verb::Delete, Some("{}"), None);
    assert!(matches!(
        Change::try_from(&other),
        Err(DecodeError::UnknownTable { .. })
    ));
}

#[test]
fn malformed_keys_are_errors() {
    let err = PairKey::decode(Some(5), "[1]").unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::InvalidValue {
                part: DataPart::ObjectId,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(audit_generated_check::roundtrip::EverythingKey::decode(None, "\"1\"").is_err());
}

#[test]
fn errors_name_the_column_deep_inside_a_row() {
    let err = EverythingChange::decode(
        None,
        "insert",
        None,
        Some(r#"{"id": 1, "rating": 1, "stamps": ["2024-13-01T00:00:00"]}"#),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::InvalidValue {
                column: "stamps",
                ..
            }
        ),
        "{err:?}"
    );
    let err = EverythingChange::decode(None, "insert", None, Some(r#"{"id": 1, "rating": null}"#))
        .unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::InvalidValue {
                column: "rating",
                ..
            }
        ),
        "{err:?}"
    );
}

const VERBS: &[&str] = &["insert", "update", "delete", "truncate", "merge", ""];

/// A JSON-ish string: mostly structure characters, keys and values of the fixture, so
/// the decoder gets deep into rows rather than failing at the first byte.
fn jsonish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just("null".to_owned()),
            Just("\"NaN\"".to_owned()),
            Just("\"infinity\"".to_owned()),
            Just("1e999".to_owned()),
            Just("-0".to_owned()),
            Just("\"\\x0g\"".to_owned()),
            Just("\"id\"".to_owned()),
            Just("\"rating\"".to_owned()),
            Just("\"ints\"".to_owned()),
            Just("\"home\"".to_owned()),
            Just("\"tstz\"".to_owned()),
            Just("\"iv\"".to_owned()),
            Just("\"a\"".to_owned()),
            Just("\"v\"".to_owned()),
            any::<i64>().prop_map(|i| i.to_string()),
            "[ -~]{0,8}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        verb in prop::sample::select(VERBS),
        table in prop::sample::select(&["everything", "pair", "other"][..]),
        old in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
        changed in prop::option::of(prop::collection::vec(any::<u8>(), 0..64)),
    ) {
        let old = old.map(|b| String::from_utf8_lossy(&b).into_owned());
        let changed = changed.map(|b| String::from_utf8_lossy(&b).into_owned());
        let _ = Change::decode(None, "public", table, verb, old.as_deref(), changed.as_deref());
        let _ = PairKey::decode(None, old.as_deref().unwrap_or(""));
    }

    #[test]
    fn arbitrary_json_never_panics(
        verb in prop::sample::select(VERBS),
        old in prop::option::of(jsonish()),
        changed in prop::option::of(jsonish()),
    ) {
        let _ = EverythingChange::decode(None, verb, old.as_deref(), changed.as_deref());
        let _ = PairChange::decode(None, verb, old.as_deref(), changed.as_deref());
        if let Some(text) = &changed {
            let _ = serde_json::from_str::<Everything>(text);
        }
    }
}
