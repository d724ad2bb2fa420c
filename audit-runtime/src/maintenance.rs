//! Maintenance of a partitioned activity table (`[activity] partition` in `audit.toml`),
//! for applications that schedule it themselves.
//!
//! The partitions of `activity` are managed by pg_partman. Its maintenance makes
//! partitions ahead of time and drops (or detaches) those older than the retention;
//! it must run regularly: at least once per partition interval, more often is harmless.
//! `run_maintenance` (feature `postgres`; `run_maintenance_async` with
//! `tokio-postgres`) does all of it in one call:
//!
//! 1. rows that landed in the default partition (written outside the premade range, for
//!    example while maintenance did not run) are moved into partitions made for them
//!    (pg_partman's `partition_data_proc`), with their ids unchanged; rows older than
//!    the retention are then expired with their partition;
//! 2. pg_partman's `run_maintenance_proc()` makes the partitions ahead and applies the
//!    retention, for every table pg_partman manages in the database.
//!
//! It runs in the session's own transactions (the procedures commit as they go), so the
//! client must not be inside a transaction, and in UTC (the session's `TimeZone` is
//! restored afterwards). The role needs the rights of the role that ran the migrations.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut client = postgres::Client::connect("postgres://postgres@localhost/app", postgres::NoTls)?;
//! let report = audit_runtime::maintenance::run_maintenance(&mut client, "audit")?;
//! println!("{} rows moved out of the default partition", report.moved_from_default);
//! # Ok(())
//! # }
//! ```

use std::fmt;

/// What one maintenance run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MaintenanceReport {
    /// Rows that were in the default partition and now are in partitions of their own
    /// (or were expired with them).
    pub moved_from_default: i64,
}

/// Why maintenance could not run.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaintenanceError {
    /// The pg_partman extension is not installed in the database.
    NotInstalled,
    /// The activity table of the audit schema is not managed by pg_partman (its
    /// partitioning migration has not run).
    NotPartitioned {
        /// The table, `schema.activity`.
        table: String,
    },
    /// The database refused a statement.
    Database(Box<dyn std::error::Error + Send + Sync>),
}

impl fmt::Display for MaintenanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled => f.write_str(
                "pg_partman is not installed in this database (CREATE SCHEMA partman; \
                 CREATE EXTENSION pg_partman SCHEMA partman;)",
            ),
            Self::NotPartitioned { table } => write!(
                f,
                "{table} is not managed by pg_partman: set [activity] partition in \
                 audit.toml and run the migration it generates"
            ),
            Self::Database(e) => write!(f, "partition maintenance failed: {e}"),
        }
    }
}

impl std::error::Error for MaintenanceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Database(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// Always-quoted identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Finds pg_partman's schema, whether the default partition exists, and the session's
/// time zone. Parameters: `$1` the parent table (`schema.activity`), `$2` the schema,
/// `$3` the default partition's name. No row when pg_partman is not installed.
const PROBE: &str = "SELECT n.nspname::pg_catalog.text, \
        pg_catalog.to_regclass(pg_catalog.quote_ident($2) || '.' || pg_catalog.quote_ident($3))::pg_catalog.oid::pg_catalog.int8, \
        pg_catalog.current_setting('TimeZone') \
   FROM pg_catalog.pg_extension AS e \
   JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace \
  WHERE e.extname = 'pg_partman' AND $1::pg_catalog.text IS NOT NULL";

/// The statements of one run, in order, each sent alone (procedures that commit cannot
/// run inside a multi-statement batch).
fn steps(partman: &str, parent: &str) -> [String; 3] {
    let partman = quote(partman);
    let parent = literal(parent);
    [
        "SET TimeZone = 'UTC'".to_owned(),
        format!(
            "CALL {partman}.partition_data_proc(p_parent_table := {parent}, p_wait := 0, p_quiet := true)"
        ),
        format!("CALL {partman}.run_maintenance_proc()"),
    ]
}

fn count_default(schema: &str) -> String {
    format!(
        "SELECT pg_catalog.count(*) FROM ONLY {}.\"activity_default\"",
        quote(schema)
    )
}

fn restore_time_zone(zone: &str) -> String {
    format!("SET TimeZone = {}", literal(zone))
}

fn database(e: impl std::error::Error + Send + Sync + 'static) -> MaintenanceError {
    MaintenanceError::Database(Box::new(e))
}

/// Runs pg_partman's maintenance for the activity table of `audit_schema` (see the
/// [module](self) documentation): moves rows out of the default partition, makes
/// partitions ahead, applies the retention.
#[cfg(feature = "postgres")]
pub fn run_maintenance(
    client: &mut postgres::Client,
    audit_schema: &str,
) -> Result<MaintenanceReport, MaintenanceError> {
    let parent = format!("{audit_schema}.activity");
    let probe = client
        .query_opt(PROBE, &[&parent, &audit_schema, &"activity_default"])
        .map_err(database)?
        .ok_or(MaintenanceError::NotInstalled)?;
    let (partman, default, zone): (String, Option<i64>, String) =
        (probe.get(0), probe.get(1), probe.get(2));
    if default.is_none() {
        return Err(MaintenanceError::NotPartitioned { table: parent });
    }
    let moved: i64 = client
        .query_one(&count_default(audit_schema), &[])
        .map_err(database)?
        .get(0);
    let result = steps(&partman, &parent)
        .iter()
        .try_for_each(|step| client.batch_execute(step));
    let restored = client.batch_execute(&restore_time_zone(&zone));
    result.and(restored).map_err(database)?;
    Ok(MaintenanceReport {
        moved_from_default: moved,
    })
}

/// `run_maintenance` for `tokio_postgres`.
#[cfg(feature = "tokio-postgres")]
pub async fn run_maintenance_async(
    client: &tokio_postgres::Client,
    audit_schema: &str,
) -> Result<MaintenanceReport, MaintenanceError> {
    let parent = format!("{audit_schema}.activity");
    let probe = client
        .query_opt(PROBE, &[&parent, &audit_schema, &"activity_default"])
        .await
        .map_err(database)?
        .ok_or(MaintenanceError::NotInstalled)?;
    let (partman, default, zone): (String, Option<i64>, String) =
        (probe.get(0), probe.get(1), probe.get(2));
    if default.is_none() {
        return Err(MaintenanceError::NotPartitioned { table: parent });
    }
    let moved: i64 = client
        .query_one(&count_default(audit_schema), &[])
        .await
        .map_err(database)?
        .get(0);
    let mut result = Ok(());
    for step in &steps(&partman, &parent) {
        result = client.batch_execute(step).await;
        if result.is_err() {
            break;
        }
    }
    let restored = client.batch_execute(&restore_time_zone(&zone)).await;
    result.and(restored).map_err(database)?;
    Ok(MaintenanceReport {
        moved_from_default: moved,
    })
}
