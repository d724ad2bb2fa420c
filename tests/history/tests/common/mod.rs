//! A test database with the history schema and its generated audit trail installed.
// Each test binary (and the benchmark) uses a different part of this module.
#![allow(dead_code)]

pub mod bulk;

#[path = "../../spec.rs"]
mod spec;

use audit_tests::TestDb;
use std::path::Path;

/// A new database with `fixtures/schema.sql` and the audit SQL of the same spec the
/// compiled code was generated from.
pub fn database(label: &str) -> TestDb {
    database_with_actor_type(label, "text")
}

/// [`database`] with another SQL type for `transaction.actor_id`.
pub fn database_with_actor_type(label: &str, actor_type: &str) -> TestDb {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sql = std::fs::read_to_string(dir.join("fixtures/schema.sql")).expect("schema.sql");
    let db = TestDb::with_sql(label, &sql);
    let mut spec = spec::history(spec::snapshot(dir));
    spec.actor_id_type = actor_type.to_owned();
    audit_tests::install_audit(&db, &spec);
    db
}

/// Partitions the activity table of a [`database`] by `partition` with pg_partman
/// (installed in schema `partman` first), converting the history it holds, as the
/// generated `audit_activity_partition` migration does.
pub fn partition(db: &TestDb, partition: audit_codegen::spec::Partition, retention: Option<&str>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut spec = spec::history(spec::snapshot(dir));
    spec.activity = audit_codegen::spec::ActivityOptions {
        partition,
        retention: retention.map(str::to_owned),
        retention_keep_table: false,
    };
    let sql = audit_codegen::sql::render_activity_partition(&spec, true).expect("renders");
    db.client()
        .batch_execute(&format!(
            "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;
             BEGIN;\n{sql}\nCOMMIT;"
        ))
        .unwrap_or_else(|e| panic!("partitioning failed: {}", audit_tests::describe(&e)));
}
