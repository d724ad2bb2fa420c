//! Every schema source describes the fixture database identically.

use audit_codegen::model::{QualifiedName, Schema};
use audit_codegen::source::ddl::{self, Renamed};
use audit_codegen::source::{dump, live, snapshot};
use audit_tests::{TestDb, describe, fixture, pg_dump_schema};

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

/// The model recorded in the insta snapshot of live introspection, read back.
fn recorded_live_model() -> Schema {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots/schema_sources__kitchen_sink_model.snap");
    let text = std::fs::read_to_string(&path).unwrap();
    // The snapshot starts with a `---`-delimited header; the JSON follows it.
    let json = text.splitn(3, "---\n").nth(2).expect("insta header");
    snapshot::parse(&path, json).expect("the recorded model parses")
}

#[test]
fn pg_dump_of_the_fixture_reads_as_the_live_model() {
    let (db, live_schema) = kitchen_sink();
    let text = pg_dump_schema(&db);
    let from_dump = dump::parse(std::path::Path::new("kitchen_sink.dump.sql"), &text)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_dump, live_schema);
}

#[test]
fn committed_pg_dump_with_restrict_lines_reads_as_the_recorded_model() {
    let path = fixture("kitchen_sink/pg_dump.sql");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.lines().any(|l| l.starts_with("\\restrict ")));
    let from_dump = dump::read(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_dump, recorded_live_model());
}

#[test]
fn fixture_ddl_reads_as_the_live_model() {
    let (_db, live_schema) = kitchen_sink();
    let from_ddl =
        ddl::read(&[fixture("kitchen_sink/schema.sql")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_ddl.schema, live_schema);
    assert!(from_ddl.renames.is_empty());
}

#[test]
fn migrations_read_as_the_database_they_build() {
    let files = ddl::migration_files(&fixture("migrations")).unwrap();
    assert_eq!(files.len(), 6);
    let db = TestDb::new("migrations");
    for file in &files {
        let sql = std::fs::read_to_string(file).unwrap();
        db.client()
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), describe(&e)));
    }
    let live_schema = live::introspect(&mut db.client()).expect("live introspection");
    let from_ddl = ddl::read_dir(&fixture("migrations")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_ddl.schema, live_schema);
    let from_dump = dump::parse(
        std::path::Path::new("migrations.dump.sql"),
        &pg_dump_schema(&db),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_dump, live_schema);

    let renames: Vec<(String, usize, Renamed)> = from_ddl
        .renames
        .into_iter()
        .map(|r| {
            let file = r.file.file_name().unwrap().to_string_lossy().into_owned();
            (file, r.line, r.change)
        })
        .collect();
    let column = |schema: &str, table: &str, from: &str, to: &str| Renamed::Column {
        table: QualifiedName::new(schema, table),
        from: from.to_owned(),
        to: to.to_owned(),
    };
    let table = |from: (&str, &str), to: (&str, &str)| Renamed::Table {
        from: QualifiedName::new(from.0, from.1),
        to: QualifiedName::new(to.0, to.1),
    };
    let expected = vec![
        (
            "0002_columns.sql".to_owned(),
            2,
            column("public", "post", "body", "content"),
        ),
        (
            "0003_keys_and_names.sql".to_owned(),
            2,
            table(("public", "author"), ("public", "writer")),
        ),
        (
            "0003_keys_and_names.sql".to_owned(),
            3,
            column("public", "post", "author_id", "writer_id"),
        ),
        (
            "0004_types_and_partitions.sql".to_owned(),
            13,
            column("public", "reading", "value", "amount"),
        ),
        (
            "0004_types_and_partitions.sql".to_owned(),
            13,
            column("public", "reading_2025", "value", "amount"),
        ),
        (
            "0004_types_and_partitions.sql".to_owned(),
            24,
            table(("public", "Tag"), ("archive", "Tag")),
        ),
        (
            "0005_types_renamed.sql".to_owned(),
            5,
            table(("public", "Order"), ("archive", "Order")),
        ),
        (
            "0006_search_path.sql".to_owned(),
            5,
            column("archive", "Order", "Total", "total"),
        ),
    ];
    assert_eq!(renames, expected);
}

#[test]
fn dump_and_ddl_skip_everything_that_is_not_a_table_or_type() {
    let sql = std::fs::read_to_string(fixture("dump_extras/schema.sql")).unwrap();
    let db = TestDb::with_sql("dump_extras", &sql);
    let live_schema = live::introspect(&mut db.client()).expect("live introspection");
    assert_eq!(live_schema.tables.len(), 10);
    let text = pg_dump_schema(&db);
    let from_dump = dump::parse(std::path::Path::new("extras.dump.sql"), &text)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_dump, live_schema);
    let from_ddl =
        ddl::read(&[fixture("dump_extras/schema.sql")]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(from_ddl.schema, live_schema);
}

#[test]
fn truncated_input_gives_errors_not_panics() {
    for name in ["kitchen_sink/pg_dump.sql", "dump_extras/schema.sql"] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let cuts = text.char_indices().map(|(i, _)| i).filter(|i| i % 37 == 0);
        for cut in cuts {
            let prefix = &text[..cut];
            // Either outcome is fine; a panic fails the test.
            let _ = dump::parse(std::path::Path::new(name), prefix);
            let _ = ddl::parse([(std::path::Path::new(name), prefix)]);
        }
    }
}
