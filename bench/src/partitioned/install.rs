//! Audit schemas installed from the migrations `audit_codegen` plans for a manifest,
//! exactly as for ours ([`crate::install::ours`]), but with the manifest's own
//! `audit_schema`, audited table and `[activity]` settings; and pg_partman.

use crate::database::db_err;
use audit_codegen::manifest::{Manifest, MigrationFormat};
use audit_codegen::migrate::{Lock, plan::plan};
use audit_codegen::source::live;
use postgres::Client;
use std::path::Path;

/// The audit schema of the partitioned write-path variant.
pub const WRITE_SCHEMA: &str = "audit_part";
/// The table it audits: a copy of the benchmark table.
pub const WRITE_TABLE: &str = "public.bench_part";

/// Why pg_partman cannot be used on this server, if it cannot.
pub fn partman_missing(client: &mut Client) -> Result<Option<String>, String> {
    let row = client
        .query_opt(
            "SELECT default_version FROM pg_catalog.pg_available_extensions
              WHERE name = 'pg_partman'",
            &[],
        )
        .map_err(db_err)?;
    Ok(match row.map(|r| r.get::<_, Option<String>>(0)) {
        None => Some(
            "pg_partman is not installed on the server (Debian: the package \
             postgresql-<major>-partman)"
                .to_owned(),
        ),
        Some(Some(v)) if !v.starts_with("4.") => Some(format!(
            "pg_partman {v} is installed; the generated partitioning needs 4.x"
        )),
        Some(_) => None,
    })
}

/// Creates pg_partman in the benchmark database, as the README tells users to.
pub fn create_partman(client: &mut Client) -> Result<(), String> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS partman;
             CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;",
        )
        .map_err(db_err)
}

/// The `[activity]` settings of a manifest.
#[derive(Debug, Clone, Copy, Default)]
pub struct Activity<'a> {
    /// `partition`, if any (`"month"`).
    pub partition: Option<&'a str>,
    /// `retention`, if any (`"12 months"`).
    pub retention: Option<&'a str>,
}

/// The manifest a user would write to audit `table` (unqualified, in `public`) into
/// `audit_schema`, with `exclude` left out and `activity`'s settings.
pub fn manifest_text(
    audit_schema: &str,
    table: &str,
    exclude: &[&str],
    activity: Activity<'_>,
) -> String {
    let mut text =
        format!("audit_schema = \"{audit_schema}\"\n\n[schema]\nlive = \"DATABASE_URL\"\n\n");
    if activity.partition.is_some() || activity.retention.is_some() {
        text.push_str("[activity]\n");
        if let Some(p) = activity.partition {
            text.push_str(&format!("partition = \"{p}\"\n"));
        }
        if let Some(r) = activity.retention {
            text.push_str(&format!("retention = \"{r}\"\n"));
        }
        text.push('\n');
    }
    text.push_str(&format!("[tables.{table}]\n"));
    if !exclude.is_empty() {
        let list: Vec<String> = exclude.iter().map(|c| format!("\"{c}\"")).collect();
        text.push_str(&format!("exclude = [{}]\n", list.join(", ")));
    }
    text
}

/// What has been generated and applied for one audit schema: the lock and the files,
/// as a project's `audit.lock` and migrations directory hold them.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// The lock after the last migrations.
    pub lock: Lock,
    /// Names of the migration files so far.
    pub files: Vec<String>,
}

/// Plans the migrations for `manifest` after `generated` (the state of an earlier
/// generation, or empty), applies each in its own transaction as migration tools do,
/// and returns the new state with the names of the migrations applied.
pub fn apply(
    client: &mut Client,
    manifest: &str,
    generated: &Generated,
) -> Result<(Generated, Vec<String>), String> {
    let manifest = Manifest::parse(Path::new("audit.toml"), manifest)
        .map_err(|e| format!("bench manifest: {e}"))?;
    let schema = live::introspect(client).map_err(|e| format!("introspection: {e}"))?;
    let spec = manifest
        .resolve(&schema)
        .map_err(|e| format!("bench manifest: {e}"))?;
    let planned = plan(
        &spec,
        &generated.lock,
        MigrationFormat::Sqlx,
        &generated.files,
    )
    .map_err(|e| format!("planning: {e}"))?;
    let mut next = Generated {
        lock: planned.lock,
        files: generated.files.clone(),
    };
    let mut names = Vec::new();
    for migration in planned.migrations {
        for (name, sql) in migration.files.iter().take(1) {
            client
                .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
                .map_err(|e| format!("applying {name}: {}", audit_tests::describe(&e)))?;
        }
        next.files
            .extend(migration.files.iter().map(|(name, _)| name.clone()));
        names.push(migration.name);
    }
    Ok((next, names))
}

/// The partitions of `schema.activity`: all of them, and those holding rows according
/// to the statistics (`ANALYZE` ran).
pub fn partitions(client: &mut Client, schema: &str) -> Result<(i64, i64), String> {
    let row = client
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE c.reltuples > 0)
               FROM pg_catalog.pg_inherits AS i
               JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
              WHERE i.inhparent = pg_catalog.to_regclass($1)",
            &[&format!("{schema}.activity")],
        )
        .map_err(db_err)?;
    Ok((row.get(0), row.get(1)))
}

/// The server's WAL insert position, in bytes.
pub fn wal_position(client: &mut Client) -> Result<i64, String> {
    client
        .query_one(
            "SELECT pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), '0/0')::bigint",
            &[],
        )
        .map(|r| r.get(0))
        .map_err(db_err)
}
