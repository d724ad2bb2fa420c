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
