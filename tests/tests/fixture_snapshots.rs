//! The JSON schema snapshots the generated-code check crate builds from are what live
//! introspection of the fixture schemas gives. `UPDATE_FIXTURES=1` rewrites them.

use audit_codegen::source::{live, snapshot};
use audit_tests::{TestDb, fixture};
use std::path::PathBuf;

fn check(name: &str) {
    let sql = std::fs::read_to_string(fixture(&format!("{name}/schema.sql"))).unwrap();
    let db = TestDb::with_sql(name, &sql);
    let schema = live::introspect(&mut db.client()).expect("live introspection");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("generated-check/fixtures")
        .join(format!("{name}.json"));
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        snapshot::write(&path, &schema).unwrap();
    }
    let committed = snapshot::read(&path).expect("committed snapshot");
    assert_eq!(
        committed,
        schema,
        "{} is stale; rerun with UPDATE_FIXTURES=1",
        path.display()
    );
}

#[test]
fn kitchen_sink_snapshot_is_current() {
    check("kitchen_sink");
}

#[test]
fn roundtrip_snapshot_is_current() {
    check("roundtrip");
}
