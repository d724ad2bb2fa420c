//! Renders the audit SQL of an existing database for the measurements in `tests/perf/`.
//! Ignored by default; run with
//! `PERF_DATABASE_URL=postgres://… PERF_TABLES=public.item cargo test -p audit-tests --test perf_render -- --ignored`
//! and it writes `tests/perf/out/audit.sql`.

use audit_codegen::spec::{AuditSpec, AuditedTable};

#[test]
#[ignore = "a tool for tests/perf, not a test"]
fn render_audit_sql_of_perf_database() {
    let url = std::env::var("PERF_DATABASE_URL").expect("PERF_DATABASE_URL");
    let tables = std::env::var("PERF_TABLES").unwrap_or_else(|_| "public.item".to_owned());
    let schema = audit_codegen::source::live::introspect(&mut audit_tests::connect(&url))
        .expect("live introspection");
    let audited: Vec<AuditedTable> = tables
        .split(',')
        .map(|t| {
            let (s, n) = t.split_once('.').expect("schema.table");
            AuditedTable::new(schema.table(s, n).expect("table exists").clone())
        })
        .collect();
    let spec = AuditSpec {
        tables: audited,
        ..AuditSpec::new(schema)
    };
    let mut sql = audit_codegen::sql::render_audit_schema(&spec).unwrap();
    for table in &spec.tables {
        sql.push_str(&audit_codegen::sql::render_table(&spec, table).unwrap());
    }
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("perf/out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("audit.sql"), sql).unwrap();
}
