//! Installs the audit trail into an existing database for manual benchmarks (pgbench).
//! Ignored by default; run with
//! `AUDIT_BENCH_URL=postgres://postgres@127.0.0.1/bench cargo test -p audit-tests
//! --test audit_bench_setup -- --ignored` after creating the tables to audit
//! (`AUDIT_BENCH_TABLES=public.a,public.b`, default `public.bench_article`).

use audit_codegen::spec::{AuditSpec, AuditedTable, RustOptions};
use audit_codegen::sql::{render_audit_schema, render_table};

#[test]
#[ignore = "manual benchmark setup; needs AUDIT_BENCH_URL"]
fn install_into_benchmark_database() {
    let url = std::env::var("AUDIT_BENCH_URL").expect("AUDIT_BENCH_URL");
    let tables =
        std::env::var("AUDIT_BENCH_TABLES").unwrap_or_else(|_| "public.bench_article".into());
    let mut client = audit_tests::connect(&url);
    let schema = audit_codegen::source::live::introspect(&mut client).unwrap();
    let audited = tables
        .split(',')
        .map(|qualified| {
            let (s, n) = qualified.split_once('.').unwrap();
            AuditedTable {
                table: schema.table(s, n).expect("table exists").clone(),
                excluded: Vec::new(),
                record_truncate: false,
                rust_name: None,
                columns: Vec::new(),
                history: Default::default(),
            }
        })
        .collect();
    let spec = AuditSpec {
        audit_schema: "audit".into(),
        actor_id_type: "text".into(),
        tables: audited,
        rust: RustOptions::default(),
        schema,
        renames: Vec::new(),
    };
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&render_audit_schema(&spec).unwrap());
    for table in &spec.tables {
        sql.push_str(&render_table(&spec, table).unwrap());
    }
    sql.push_str("COMMIT;\n");
    client.batch_execute(&sql).unwrap();
}
