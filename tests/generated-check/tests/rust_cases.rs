//! The code of the `overrides` rust case (`tests/fixtures/rust_cases/overrides`) decodes
//! recorded JSON into the application's types it names.

use audit_generated_check::custom_types::{Cents, Decimal, Details};
use audit_generated_check::rust_cases::overrides::ItemChange;

const ROW: &str = r#"{"id": 1, "name": "kettle", "price": 1250, "weight": 0.75,
    "details": {"colour": "red"}, "released_on": "2024-05-01",
    "restocked_at": "08:30:00", "updated_at": "2024-05-01T10:00:00"}"#;

#[test]
fn overridden_types_decode() {
    let change = ItemChange::decode(Some(1), "insert", None, Some(ROW)).unwrap();
    let ItemChange::Insert { new } = change else {
        panic!("not an insert: {change:?}");
    };
    // `public.cents` is a NOT NULL domain: its override is not wrapped in `Option`.
    assert_eq!(new.price, Cents(1250));
    // The `numeric` override applies to `numeric(8,3)`.
    assert_eq!(new.weight, Some(Decimal(0.75)));
    assert_eq!(
        new.details,
        Some(Details {
            colour: Some("red".to_owned())
        })
    );

    let update = ItemChange::decode(Some(2), "update", Some(ROW), Some(r#"{"price": 990}"#));
    let row = update.unwrap().new_row().unwrap();
    assert_eq!(row.price, Cents(990));
    assert_eq!(row.weight, Some(Decimal(0.75)));
}

/// The `column_rust_names` case: fields named by `rust_name` in the manifest still read
/// and write the JSON keys that are the column names.
mod column_rust_names {
    use audit_generated_check::rust_cases::column_rust_names::{
        OrderLine, OrderLineChange, OrderLineKey,
    };

    const ROW: &str = r#"{"Line No": 7, "a b": "space", "a_b": "plain", "a\"b": 3,
        "ünïcode": "accent"}"#;

    #[test]
    fn renamed_fields_decode_from_the_column_keys() {
        let change = OrderLineChange::decode(Some(1), "insert", None, Some(ROW)).unwrap();
        let OrderLineChange::Insert { new } = &change else {
            panic!("not an insert: {change:?}");
        };
        let expected = OrderLine {
            line: 7,
            a_space_b: Some("space".to_owned()),
            a_b: "plain".to_owned(),
            a_quote_b: Some(3),
            unicode: Some("accent".to_owned()),
        };
        assert_eq!(*new, expected);
        assert_eq!(new.key(), OrderLineKey { line: 7 });
        assert_eq!(
            OrderLineKey::decode(Some(1), "7").unwrap(),
            OrderLineKey { line: 7 }
        );

        let update = OrderLineChange::decode(
            Some(2),
            "update",
            Some(ROW),
            Some(r#"{"a b": null, "a\"b": 4}"#),
        )
        .unwrap();
        let OrderLineChange::Update { changed, .. } = &update else {
            panic!("not an update: {update:?}");
        };
        assert_eq!(changed.a_space_b, Some(None));
        assert_eq!(changed.a_quote_b, Some(Some(4)));
        assert_eq!(changed.a_b, None);

        // Serializing writes the column names back, not the field names.
        let json = serde_json::to_value(&expected).unwrap();
        assert_eq!(json["Line No"], 7);
        assert_eq!(json["a b"], "space");
        assert_eq!(json["a\"b"], 3);
        assert_eq!(json["ünïcode"], "accent");
    }
}
