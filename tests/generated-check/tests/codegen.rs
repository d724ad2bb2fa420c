//! Snapshots of the generated Rust for the fixture schemas, and the generator's errors.

#[path = "../spec.rs"]
mod spec;

use audit_codegen::Error;
use audit_codegen::rust::render;
use audit_codegen::source::snapshot;
use audit_codegen::spec::{AuditSpec, ColumnOverride, TimeCrate};
use std::path::Path;

fn schema(name: &str) -> audit_codegen::model::Schema {
    snapshot::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/{name}.json")))
        .unwrap()
}

fn kitchen_sink() -> AuditSpec {
    spec::kitchen_sink(schema("kitchen_sink"))
}

#[test]
fn kitchen_sink_code() {
    let output = render(&kitchen_sink()).unwrap();
    assert!(output.warnings.is_empty(), "{:?}", output.warnings);
    insta::assert_snapshot!("kitchen_sink", output.code);
}

#[test]
fn roundtrip_code() {
    let output = render(&spec::roundtrip(schema("roundtrip"))).unwrap();
    insta::assert_snapshot!("roundtrip", output.code);
}

#[test]
fn output_is_deterministic() {
    let a = render(&kitchen_sink()).unwrap();
    let b = render(&kitchen_sink()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn odd_identifiers_keep_their_json_keys() {
    let code = render(&kitchen_sink()).unwrap().code;
    for expected in [
        "pub struct User {",
        "pub select: i32,",
        "pub struct OrderItems {",
        "name: \"ItemId\",",
        "pub item_id: i32,",
        "name: \"say \\\"hi\\\"\",",
        "pub say_hi: Option<String>,",
        "pub struct Cafe {",
        "name: \"naïve\",",
        "pub naive: i32,",
        "name: \"日本\",",
        "pub u65e5_u672c: Option<String>,",
        "pub struct SalesInvoice {",
        "pub enum SalesMoneyBag {",
        "pub struct OrderLineKey {",
        "Truncate,",
    ] {
        assert!(code.contains(expected), "missing `{expected}`");
    }
    // event_log has no primary key, so no key type.
    assert!(!code.contains("EventLogKey"));
    // The excluded column is absent.
    assert!(!code.contains("search_vector"));
}

#[test]
fn name_collisions_name_both_tables_and_suggest_rust_name() {
    let mut spec = kitchen_sink();
    let order_line = spec
        .tables
        .iter()
        .position(|t| t.table.name == "order_line")
        .unwrap();
    spec.tables[order_line].rust_name = Some("Article".to_owned());
    let err = render(&spec).unwrap_err();
    let Error::Generate(message) = &err else {
        panic!("{err:?}")
    };
    assert!(message.contains("public.article"), "{message}");
    assert!(message.contains("public.order_line"), "{message}");
    assert!(message.contains("rust_name"), "{message}");

    // `Order Items` and `order_items` both give `OrderItems`.
    let mut spec = kitchen_sink();
    let mut clone = spec
        .tables
        .iter()
        .find(|t| t.table.name == "Order Items")
        .unwrap()
        .clone();
    clone.table.name = "order_items".to_owned();
    spec.tables.push(clone);
    let message = render(&spec).unwrap_err().to_string();
    assert!(message.contains("OrderItems"), "{message}");
    assert!(
        message.contains("order_items") && message.contains("Order Items"),
        "{message}"
    );
}

#[test]
fn partitions_audited_on_their_own_decode_as_themselves() {
    let mut spec = kitchen_sink();
    let schema = spec.schema.clone();
    let code = render(&spec).unwrap().code;
    // The partition's name dispatches to its parent's variant.
    let parent = dispatch_index(&code, "measurement");
    assert!(parent.is_some(), "{code}");
    assert_eq!(dispatch_index(&code, "measurement_2025"), parent);
    spec.tables.push(audit_codegen::spec::AuditedTable::new(
        schema.table("public", "measurement_2025").unwrap().clone(),
    ));
    let code = render(&spec).unwrap().code;
    let own = dispatch_index(&code, "measurement_2025");
    assert!(own.is_some());
    assert_ne!(own, dispatch_index(&code, "measurement"));
    assert!(code.contains("pub enum Measurement2025Change"));
}

/// The variant position `Change::DISPATCH` gives table `public.name`.
fn dispatch_index(code: &str, name: &str) -> Option<u32> {
    let entry = format!("(\"public\", \"{name}\", ");
    let start = code.find(&entry)? + entry.len();
    let end = start + code[start..].find(')')?;
    code[start..end].parse().ok()
}

#[test]
fn a_table_with_every_column_excluded_still_renders() {
    let mut spec = kitchen_sink();
    let user = spec
        .tables
        .iter_mut()
        .find(|t| t.table.name == "user")
        .unwrap();
    user.excluded = user.table.columns.iter().map(|c| c.name.clone()).collect();
    let code = render(&spec).unwrap().code;
    assert!(code.contains("pub struct User {}"), "empty row struct");
    assert!(code.contains("let _ = row;"));
    assert!(
        !code.contains("UserKey"),
        "the key column is excluded: no key type"
    );
}

#[test]
fn column_collisions_are_errors() {
    let mut spec = kitchen_sink();
    let table = &mut spec
        .tables
        .iter_mut()
        .find(|t| t.table.name == "user")
        .unwrap()
        .table;
    let mut column = table.columns[1].clone();
    column.name = "Order".to_owned();
    table.columns.push(column);
    let message = render(&spec).unwrap_err().to_string();
    assert!(
        message.contains("`order`") && message.contains("`Order`"),
        "{message}"
    );
}

#[test]
fn time_crate_maps_dates_and_times() {
    let mut spec = kitchen_sink();
    spec.rust.time_crate = TimeCrate::Time;
    let code = render(&spec).unwrap().code;
    assert!(code.contains("pub day: Option<::audit_runtime::types::time::Date>,"));
    assert!(code.contains("pub at_time: Option<::audit_runtime::types::time::Time>,"));
    assert!(code.contains("pub stamp: Option<::audit_runtime::types::time::Timestamp>,"));
    assert!(code.contains("pub stamp_tz: Option<::audit_runtime::types::time::Timestamptz>,"));
    assert!(code.contains("pub at_time_tz: Option<::audit_runtime::types::TimeTz>,"));
}

#[test]
fn time_crate_code_decodes() {
    use audit_generated_check::kitchen_sink_time::TimesChange;
    let change = TimesChange::decode(
        None,
        "insert",
        None,
        Some(
            r#"{"id": 1, "day": "0044-03-15 BC", "at_time": "10:00:00.5",
                 "stamp": "infinity", "stamp_tz": "2024-05-01T12:00:00+02:00"}"#,
        ),
    )
    .unwrap();
    let TimesChange::Insert { new } = change else {
        panic!()
    };
    assert_eq!(new.day.unwrap().to_string(), "0044-03-15 BC");
    assert_eq!(
        new.at_time.unwrap().0,
        time::Time::from_hms_milli(10, 0, 0, 500).unwrap()
    );
    assert_eq!(new.stamp, Some(audit_runtime::types::Finite::Infinity));
    assert_eq!(new.stamp_tz.unwrap().value().unwrap().hour(), 10);
}

#[test]
fn overrides_and_fallbacks() {
    let mut spec = kitchen_sink();
    spec.rust.type_overrides = vec![("numeric".to_owned(), "my::Decimal".to_owned())];
    let article = spec
        .tables
        .iter_mut()
        .find(|t| t.table.name == "article")
        .unwrap();
    article.columns.push(ColumnOverride {
        column: "body".to_owned(),
        rust_type: Some("Option<Box<str>>".to_owned()),
        rust_name: None,
        attributes: vec!["#[serde(alias = \"content\")]".to_owned()],
    });
    // An unmapped type falls back to serde_json::Value with a warning.
    let texts = spec
        .tables
        .iter_mut()
        .find(|t| t.table.name == "texts")
        .unwrap();
    texts.table.columns[1].type_name = "point".to_owned();
    let output = render(&spec).unwrap();
    assert!(output.code.contains("pub exact: Option<my::Decimal>,"));
    assert!(
        output
            .code
            .contains("#[serde(alias = \"content\")]\n        pub body: Option<Box<str>>,")
    );
    assert_eq!(output.warnings.len(), 1, "{:?}", output.warnings);
    assert!(
        output.warnings[0].contains("public.texts.plain"),
        "{:?}",
        output.warnings
    );
    assert!(
        output
            .code
            .contains("pub plain: ::audit_runtime::codegen::serde_json::Value,")
    );

    let mut spec = kitchen_sink();
    let article = spec
        .tables
        .iter_mut()
        .find(|t| t.table.name == "article")
        .unwrap();
    article.columns.push(ColumnOverride {
        column: "body".to_owned(),
        rust_type: Some("not a type!".to_owned()),
        rust_name: None,
        attributes: vec![],
    });
    let message = render(&spec).map(|o| o.warnings).unwrap_err().to_string();
    assert!(message.contains("invalid Rust type"), "{message}");

    let mut spec = kitchen_sink();
    let article = spec
        .tables
        .iter_mut()
        .find(|t| t.table.name == "article")
        .unwrap();
    article.columns.push(ColumnOverride {
        column: "search_vector".to_owned(),
        rust_type: None,
        rust_name: None,
        attributes: vec![],
    });
    let message = render(&spec).map(|o| o.warnings).unwrap_err().to_string();
    assert!(message.contains("not an audited column"), "{message}");
}

#[test]
fn domains_decide_nullability() {
    let code = render(&kitchen_sink()).unwrap().code;
    // `rating positive_int` (a NOT NULL domain) on a nullable column is not optional;
    // `mail email` (a nullable domain) is.
    assert!(code.contains("pub rating: i32,"), "rating");
    assert!(code.contains("pub mail: Option<String>,"), "mail");
}
