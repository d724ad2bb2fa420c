// The audit specification of the history test schema. Shared by build.rs (which renders
// the Rust) and the tests and benchmark (which install the SQL) via `#[path]`, so the
// database and the compiled code always come from one spec.

use audit_codegen::model::Schema;
use audit_codegen::spec::{AuditSpec, AuditedTable};
use std::path::Path;

/// The committed JSON snapshot of `fixtures/schema.sql`.
pub fn snapshot(manifest_dir: &Path) -> Schema {
    audit_codegen::source::snapshot::read(&manifest_dir.join("fixtures/history.json"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Both tables audited, actor ids as text, audit schema `audit`; the types derive
/// `PartialEq`.
pub fn history(schema: Schema) -> AuditSpec {
    let tables = ["article", "tag_link"]
        .iter()
        .map(|name| AuditedTable::new(schema.table("public", name).expect("fixture table").clone()))
        .collect();
    let mut spec = AuditSpec {
        tables,
        ..AuditSpec::new(schema)
    };
    // The tests compare reconstructed rows with expected ones.
    spec.rust.partial_eq = true;
    spec
}
