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
