//! Extra passes with `track_functions` on, reading `pg_stat_user_functions`: where the
//! time of the audit functions goes. Kept apart from the timed rounds because timing
//! every function call slows them down, and split in a single-row and a bulk pass so the
//! per-call figures mean one thing each.

use crate::database::{Database, db_err};
use crate::install::{generic, ours};
use crate::model::{FunctionStat, ProfilePass, Protocol, Variant, Verb};
use crate::options::Options;
use crate::pgbench::{self, Job, Length};
use std::time::Duration;

/// Runs the single-row pass (each audited variant's pgbench workloads, 1 client, with
/// and without a context) and the bulk pass (one bulk statement of each verb), returning
/// the function statistics of each.
pub fn run(
    db: &mut Database,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<Vec<ProfilePass>, String> {
    let name = db.name().to_owned();
    // Database-level, so pgbench's new connections pick it up; the database is ours.
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE {name} SET track_functions = 'all'"
        ))
        .map_err(db_err)?;
    let variants = db.available(&[Variant::Ours, Variant::Generic]);
    let length = match options.pgbench_length() {
        Length::Time(d) => Length::Time(d.min(Duration::from_secs(1))),
        short => short,
    };

    reset_stats(db)?;
    for &variant in &variants {
        for verb in Verb::ALL {
            for context in [false, true] {
                db.reset(variant)?;
                let script =
                    crate::workload::pgbench_script(verb, variant, context, options.table_rows);
                pgbench::run(&Job {
                    url: db.url(),
                    script: &script,
                    clients: 1,
                    length,
                    seed: 1,
                    protocol: Protocol::Prepared,
                })?;
            }
        }
    }
    let single = read_stats(db)?;

    reset_stats(db)?;
    // A fresh connection, closed afterwards: its statistics are flushed when its backend
    // exits (pgbench's backends flush the same way).
    let mut bulk = audit_tests::connect(db.url());
    for &variant in &variants {
        for verb in Verb::ALL {
            db.reset(variant)?;
            let sql = crate::workload::bulk_statement(
                verb,
                variant,
                options.bulk_rows,
                options.table_rows,
            );
            bulk.batch_execute(&format!("BEGIN;\n{sql};\nCOMMIT;"))
                .map_err(db_err)?;
        }
    }
    drop(bulk);
    let bulk = read_stats(db)?;

    db.client()
        .batch_execute(&format!("ALTER DATABASE {name} RESET track_functions"))
        .map_err(db_err)?;
    if single.is_empty() || bulk.is_empty() {
        notes.push("pg_stat_user_functions recorded no audit function calls".to_owned());
    }
    Ok(vec![
        ProfilePass {
            title: "single-row pass: every single-row workload once, 1 client, with and \
                    without a context, prepared protocol"
                .to_owned(),
            functions: single,
        },
        ProfilePass {
            title: format!(
                "bulk pass: one {}-row INSERT, UPDATE and DELETE",
                options.bulk_rows
            ),
            functions: bulk,
        },
    ])
}

/// Zeroes the statistics of this database (only this one).
fn reset_stats(db: &mut Database) -> Result<(), String> {
    db.client()
        .batch_execute("SELECT pg_catalog.pg_stat_reset()")
        .map_err(db_err)
}

/// The audit functions' statistics, once the backends that ran them have exited.
fn read_stats(db: &mut Database) -> Result<Vec<FunctionStat>, String> {
    // Backends flush their statistics on exit, which follows the client's disconnect.
    std::thread::sleep(Duration::from_millis(500));
    let client = db.client();
    client
        .batch_execute("SELECT pg_catalog.pg_stat_clear_snapshot()")
        .map_err(db_err)?;
    let rows = client
        .query(
            "SELECT schemaname::text, funcname::text, calls, total_time, self_time
               FROM pg_catalog.pg_stat_user_functions
              WHERE schemaname = ANY($1) AND calls > 0
              ORDER BY self_time DESC, schemaname, funcname",
            &[&vec![ours::SCHEMA.to_owned(), generic::SCHEMA.to_owned()]],
        )
        .map_err(db_err)?;
    Ok(rows
        .iter()
        .map(|r| FunctionStat {
            schema: r.get(0),
            name: r.get(1),
            calls: r.get(2),
            total_ms: r.get(3),
            self_ms: r.get(4),
        })
        .collect())
}
