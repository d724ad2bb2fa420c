//! One extra pass with `track_functions` on, reading `pg_stat_user_functions`: where the
//! time of the trigger functions goes. Kept apart from the timed rounds because timing
//! every function call slows them down.

use crate::database::{Database, db_err};
use crate::install::{generic, ours};
use crate::model::{FunctionStat, Variant, Verb};
use crate::options::Options;
use crate::pgbench::{self, Job, Length};
use std::time::Duration;

/// Runs each audited variant's single-row workload (1 client, with and without a
/// context) and one bulk statement of each verb, then returns the function statistics.
pub fn run(
    db: &mut Database,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<Vec<FunctionStat>, String> {
    let name = db.name().to_owned();
    // Database-level, so pgbench's new connections pick it up; the database is ours.
    db.client()
        .batch_execute(&format!(
            "ALTER DATABASE {name} SET track_functions = 'all'; SELECT pg_stat_reset();"
        ))
        .map_err(db_err)?;
    let length = match options.pgbench_length() {
        Length::Time(d) => Length::Time(d.min(Duration::from_secs(1))),
        short => short,
    };
    for variant in db.available(&[Variant::Ours, Variant::Generic]) {
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
                })?;
            }
        }
    }
    // The bulk statements run on a fresh connection that is closed afterwards, so its
    // statistics are flushed when its backend exits.
    let mut bulk = audit_tests::connect(db.url());
    for variant in db.available(&[Variant::Ours, Variant::Generic]) {
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
    std::thread::sleep(Duration::from_millis(500));
    let client = db.client();
    client
        .batch_execute(&format!(
            "ALTER DATABASE {name} RESET track_functions; SELECT pg_stat_clear_snapshot();"
        ))
        .map_err(db_err)?;
    let rows = client
        .query(
            "SELECT schemaname::text, funcname::text, calls, total_time, self_time
               FROM pg_catalog.pg_stat_user_functions
              WHERE schemaname = ANY($1)
              ORDER BY self_time DESC, schemaname, funcname",
            &[&vec![ours::SCHEMA.to_owned(), generic::SCHEMA.to_owned()]],
        )
        .map_err(db_err)?;
    if rows.is_empty() {
        notes.push("pg_stat_user_functions recorded no audit function calls".to_owned());
    }
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
