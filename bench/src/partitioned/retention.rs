//! Expiring a month of history: pg_partman's retention dropping the month's partition
//! (through `audit_runtime::maintenance::run_maintenance`, as applications call it)
//! against a `DELETE` of the same rows from one table (and the `VACUUM` that makes their
//! space reusable). Time, and WAL written (the server's insert position before and
//! after: it counts every database's writes in that time, so it is an upper bound).

use super::history::{Shape, create_table, drop_secondary_indexes, fill, month_start};
use super::install::{self, Activity, Generated, wal_position};
use super::{RetentionFigures, Step};
use crate::database::{Database, db_err};
use postgres::Client;
use std::time::Instant;

/// The audit schema whose activity is partitioned, with a retention.
pub const PARTITIONED_SCHEMA: &str = "ret_part";
/// The audit schema whose activity is one table.
pub const ONE_SCHEMA: &str = "ret_one";
/// How far back the expired month is (months before the current one).
const EXPIRED_MONTH: u32 = 14;
/// The retention: the expired month is older, the kept month is not.
const RETENTION: &str = "12 months";

/// Fills both schemas with `rows` activities in the month `EXPIRED_MONTH` months back
/// and a quarter as many in the last month, converts the partitioned one with a
/// retention of `RETENTION`, then expires the old month from each and measures it.
pub fn run(db: &mut Database, rows: i64) -> Result<RetentionFigures, String> {
    let old = Shape {
        rows,
        start: month_start(EXPIRED_MONTH),
        days: (month_start(EXPIRED_MONTH - 1) - month_start(EXPIRED_MONTH)).num_days(),
        first_transaction: 0,
    };
    let recent = Shape {
        rows: (rows / 4).max(10),
        start: month_start(1),
        days: (month_start(0) - month_start(1)).num_days(),
        first_transaction: old.transactions(),
    };
    for (schema, table) in [
        (ONE_SCHEMA, "bench_retention_one"),
        (PARTITIONED_SCHEMA, "bench_retention_part"),
    ] {
        create_table(db.client(), table)?;
        let manifest = install::manifest_text(schema, table, &[], Activity::default());
        let (generated, _) = install::apply(db.client(), &manifest, &Generated::default())?;
        if schema == PARTITIONED_SCHEMA {
            // Rebuilt by the conversion (see `history::run`).
            drop_secondary_indexes(db.client(), schema)?;
        }
        fill(db.client(), schema, table, &old)?;
        fill(db.client(), schema, table, &recent)?;
        if schema == PARTITIONED_SCHEMA {
            let manifest = install::manifest_text(
                schema,
                table,
                &[],
                Activity {
                    partition: Some("month"),
                    retention: Some(RETENTION),
                },
            );
            install::apply(db.client(), &manifest, &generated)?;
        }
    }
    let (partitions_before, _) = install::partitions(db.client(), PARTITIONED_SCHEMA)?;
    let (from, to) = (old.start, month_start(EXPIRED_MONTH - 1));
    let expired = |client: &mut Client, schema: &str| -> Result<i64, String> {
        client
            .query_one(
                &format!(
                    "SELECT count(*) FROM {schema}.activity WHERE issued_at >= $1 AND issued_at < $2"
                ),
                &[&from, &to],
            )
            .map(|r| r.get(0))
            .map_err(db_err)
    };
    let rows_before = expired(db.client(), PARTITIONED_SCHEMA)?;
    eprintln!("partitioned: retention of a month of {rows_before} activity rows");

    // DELETE, then the VACUUM that makes the space reusable.
    let delete = format!(
        "BEGIN; DELETE FROM {ONE_SCHEMA}.activity
                 WHERE issued_at >= '{}' AND issued_at < '{}'; COMMIT;",
        from.to_rfc3339(),
        to.to_rfc3339()
    );
    let delete_step = step(db.client(), |c| c.batch_execute(&delete).map_err(db_err))?;
    let vacuum = format!("VACUUM {ONE_SCHEMA}.activity");
    let vacuum_step = step(db.client(), |c| c.batch_execute(&vacuum).map_err(db_err))?;
    // Retention: the application's maintenance call.
    let mut client = audit_tests::connect(db.url());
    let drop_step = step(&mut client, |c| {
        audit_runtime::maintenance::run_maintenance(c, PARTITIONED_SCHEMA)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let (partitions_after, _) = install::partitions(db.client(), PARTITIONED_SCHEMA)?;
    let left = (
        expired(db.client(), ONE_SCHEMA)?,
        expired(db.client(), PARTITIONED_SCHEMA)?,
    );
    if left != (0, 0) {
        return Err(format!(
            "expiring the month left {} rows in one table and {} partitioned",
            left.0, left.1
        ));
    }
    let kept = |client: &mut Client, schema: &str| -> Result<i64, String> {
        client
            .query_one(&format!("SELECT count(*) FROM {schema}.activity"), &[])
            .map(|r| r.get(0))
            .map_err(db_err)
    };
    let kept = (
        kept(db.client(), ONE_SCHEMA)?,
        kept(db.client(), PARTITIONED_SCHEMA)?,
    );
    if kept.0 != recent.rows || kept.1 != recent.rows {
        return Err(format!(
            "expiring the month kept {} and {} rows of the {} recent ones",
            kept.0, kept.1, recent.rows
        ));
    }
    Ok(RetentionFigures {
        rows: rows_before,
        delete: delete_step,
        vacuum: vacuum_step,
        drop: drop_step,
        partitions_dropped: partitions_before - partitions_after,
    })
}

/// Runs `work` after a checkpoint (so both ways start from the same state: the first
/// change of a page after it writes the whole page to WAL); its time and WAL.
fn step(
    client: &mut Client,
    work: impl FnOnce(&mut Client) -> Result<(), String>,
) -> Result<Step, String> {
    client.batch_execute("CHECKPOINT").map_err(db_err)?;
    let before = wal_position(client)?;
    let started = Instant::now();
    work(client)?;
    let time = started.elapsed();
    let wal_bytes = wal_position(client)? - before;
    Ok(Step { time, wal_bytes })
}
