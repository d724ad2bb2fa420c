//! Every schema source describes the fixture database identically.

use audit_codegen::model::Schema;
use audit_codegen::source::{live, snapshot};
use audit_tests::{TestDb, fixture};

fn kitchen_sink() -> (TestDb, Schema) {
    let sql = std::fs::read_to_string(fixture("kitchen_sink/schema.sql")).unwrap();
    let db = TestDb::with_sql("kitchen_sink", &sql);
    let schema = live::introspect(&mut db.client()).expect("live introspection");
    (db, schema)
}

#[test]
fn live_introspection_describes_every_fixture_table() {
    let (_db, schema) = kitchen_sink();
    assert!(schema.tables.len() >= 12, "{} tables", schema.tables.len());
    let article = schema.table("public", "article").unwrap();
    assert_eq!(article.primary_key.as_deref(), Some(&["id".to_owned()][..]));
    let status = article.column("status").unwrap();
    assert_eq!(status.type_name, "public.mood");
    assert_eq!(status.default.as_deref(), Some("'ok'::public.mood"));
    let order_line = schema.table("public", "order_line").unwrap();
    assert_eq!(
        order_line.primary_key.as_deref(),
        Some(&["order_id".to_owned(), "line_no".to_owned()][..])
    );
    assert_eq!(
        schema.table("public", "event_log").unwrap().primary_key,
        None
    );
    let arrays = schema.table("public", "arrays").unwrap();
    let amounts = arrays.column("amounts").unwrap();
    assert_eq!(amounts.type_name, "numeric(10,2)[]");
    assert_eq!(amounts.element_type.as_deref(), Some("numeric(10,2)"));
    let invoice = schema.table("Sales", "invoice").unwrap();
    assert_eq!(
        invoice.column("bag").unwrap().type_name,
        "\"Sales\".\"Money Bag\""
    );
    let partition = schema.table("public", "measurement_2025").unwrap();
    assert_eq!(
        partition.partition_of.as_ref().map(|p| p.to_sql()),
        Some("public.measurement".to_owned())
    );
    // citext's own types belong to the extension and are not part of the model.
    assert!(schema.enums.iter().all(|e| e.name != "citext"));
    assert_eq!(
        schema
            .enums
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["Money Bag", "mood"]
    );
    insta::assert_snapshot!("kitchen_sink_model", schema.to_snapshot_json());
}

#[test]
fn snapshot_round_trips_to_the_identical_model_and_bytes() {
    let (_db, schema) = kitchen_sink();
    let dir = std::env::temp_dir().join(format!("audit-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("schema.json");
    snapshot::write(&path, &schema).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("}\n"));
    let read_back = snapshot::read(&path).unwrap();
    assert_eq!(read_back, schema);
    assert_eq!(read_back.to_snapshot_json(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}
