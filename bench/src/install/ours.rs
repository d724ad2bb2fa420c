//! Our generated auditing: the migrations `audit_codegen` plans for a manifest that audits
//! `bench_ours`, applied in order, so the benchmark runs exactly what users run.

use crate::fixture::{EXCLUDED_COLUMN, table_name_of};
use crate::model::Variant;
use audit_codegen::manifest::{Manifest, MigrationFormat};
use audit_codegen::migrate::{Lock, plan::plan};
use audit_codegen::source::live;
use postgres::Client;
use std::path::Path;

/// The audit schema of the generated SQL (the manifest default).
pub const SCHEMA: &str = audit_codegen::manifest::DEFAULT_AUDIT_SCHEMA;

/// The manifest a user would write to audit the benchmark table.
pub fn manifest_text() -> String {
    format!(
        "[schema]\nlive = \"DATABASE_URL\"\n\n[tables.{}]\nexclude = [\"{EXCLUDED_COLUMN}\"]\n",
        table_name_of(Variant::Ours)
    )
}

/// The migration files (name, contents) a first `generate()` emits for the manifest,
/// in apply order, for the database `client` is connected to.
pub fn migrations(client: &mut Client) -> Result<Vec<(String, String)>, String> {
    let manifest = Manifest::parse(Path::new("audit.toml"), &manifest_text())
        .map_err(|e| format!("bench manifest: {e}"))?;
    let schema = live::introspect(client).map_err(|e| format!("introspection: {e}"))?;
    let spec = manifest
        .resolve(&schema)
        .map_err(|e| format!("bench manifest: {e}"))?;
    // sqlx is the default format; its files hold the bare SQL that the tool wraps in a
    // transaction, as `apply` below does.
    let plan = plan(
        &spec,
        &Lock::default(),
        MigrationFormat::Sqlx,
        &[] as &[&str],
    )
    .map_err(|e| format!("planning: {e}"))?;
    Ok(plan
        .migrations
        .into_iter()
        .filter_map(|m| m.files.into_iter().next())
        .collect())
}

/// Whether the generated SQL provides what the workload needs; `Err` says what is
/// missing (while `render_*` are stubs, nothing is).
pub fn check(client: &mut Client) -> Result<(), String> {
    let row = client
        .query_one(
            "SELECT pg_catalog.to_regprocedure($1) IS NOT NULL,
                    pg_catalog.to_regclass($2) IS NOT NULL,
                    (SELECT count(*) FROM pg_catalog.pg_trigger
                      WHERE tgrelid = pg_catalog.to_regclass($3) AND NOT tgisinternal)",
            &[
                &format!("{SCHEMA}.set_context(text, inet, jsonb)"),
                &format!("{SCHEMA}.activity"),
                &crate::fixture::table_of(Variant::Ours),
            ],
        )
        .map_err(|e| e.to_string())?;
    let (set_context, activity, triggers): (bool, bool, i64) = (row.get(0), row.get(1), row.get(2));
    let mut missing = Vec::new();
    if !set_context {
        missing.push(format!("{SCHEMA}.set_context(text, inet, jsonb)"));
    }
    if !activity {
        missing.push(format!("{SCHEMA}.activity"));
    }
    if triggers == 0 {
        missing.push("triggers on bench_ours".to_owned());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the generated SQL lacks {} (are audit_codegen::sql::render_* still stubs?)",
            missing.join(", ")
        ))
    }
}

/// Applies the emitted migrations, each in its own transaction as migration tools do.
pub fn install(client: &mut Client) -> Result<(), String> {
    for (name, sql) in migrations(client)? {
        client
            .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
            .map_err(|e| format!("applying {name}: {}", audit_tests::describe(&e)))?;
    }
    Ok(())
}
