//! Bulk statements: one INSERT … SELECT, UPDATE or DELETE of many rows in its own
//! transaction, timed from the client (statement and commit), interleaved by round,
//! each on a fresh connection and on a pooled one that ran single-row statements first.

use crate::database::{Database, db_err};
use crate::model::{BulkCell, Connection, Variant, Verb};
use crate::options::Options;
use crate::workload::{bulk_statement, warm_up_statements};
use audit_tests::connect;
use postgres::error::SqlState;
use std::time::{Duration, Instant};

/// Runs every bulk cell `options.rounds` times (at least three: they are short).
pub fn run(
    db: &mut Database,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<Vec<BulkCell>, String> {
    let variants = db.available(&Variant::BULK);
    let rounds = if options.quick {
        options.rounds
    } else {
        options.rounds.max(3)
    };
    let mut cells = Vec::new();
    for verb in Verb::ALL {
        for connection in Connection::ALL {
            let mut scenario: Vec<BulkCell> = variants
                .iter()
                .map(|&variant| BulkCell {
                    verb,
                    connection,
                    variant,
                    times: Vec::new(),
                    cancelled: 0,
                })
                .collect();
            for round in 0..rounds {
                for i in 0..scenario.len() {
                    let cell = &mut scenario[(i + round) % variants.len()];
                    let time = match measure(db, options, cell, notes)? {
                        Some(time) => time,
                        None => {
                            cell.cancelled += 1;
                            timeout(options)
                        }
                    };
                    cell.times.push(time);
                }
                eprintln!(
                    "bulk {verb} {} rows {} connection round {}: {}",
                    options.bulk_rows,
                    connection.label(),
                    round + 1,
                    scenario
                        .iter()
                        .map(|c| format!(
                            "{} {:.0} ms",
                            c.variant.label(),
                            c.times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            cells.extend(scenario);
        }
    }
    Ok(cells)
}

/// How long a bulk statement may run before it is cancelled (`statement_timeout`):
/// a plan made for one row can make a statement quadratic in its rows, and a run must
/// not wait hours for it. The legitimate statements take well under a second.
pub fn timeout(options: &Options) -> Duration {
    Duration::from_secs(if options.quick { 5 } else { 30 })
}

/// Times one bulk statement with its commit on freshly reset data; `None` when the
/// statement timeout ([`timeout`]) cancelled it (a note says so).
///
/// Fresh: on a new connection. Pooled: on the harness's long-lived connection, right
/// after single-row statements of every kind on the same table; the reset before them
/// (a TRUNCATE of the audit tables) invalidated its plans, so the audit functions are
/// planned for one row, as on a pooled connection whose first statements were small.
pub fn measure(
    db: &mut Database,
    options: &Options,
    cell: &BulkCell,
    notes: &mut Vec<String>,
) -> Result<Option<Duration>, String> {
    let (verb, variant) = (cell.verb, cell.variant);
    db.reset(variant)?;
    let sql = bulk_statement(verb, variant, options.bulk_rows, options.table_rows);
    let mut fresh;
    let client = match cell.connection {
        Connection::Fresh => {
            fresh = connect(db.url());
            &mut fresh
        }
        Connection::Pooled => {
            for statement in warm_up_statements(variant) {
                db.client().batch_execute(&statement).map_err(db_err)?;
            }
            db.client()
        }
    };
    let before = activity_rows(crate::database::recorded(client, variant)?);
    // One simple-protocol message: the statement and the commit, no extra round trip
    // (the timeout is set for this transaction only, in the same message).
    let timeout = timeout(options);
    let started = Instant::now();
    let result = client.batch_execute(&format!(
        "BEGIN;\nSET LOCAL statement_timeout = {};\n{sql};\nCOMMIT;",
        timeout.as_millis()
    ));
    let elapsed = started.elapsed();
    match result {
        Ok(()) => {}
        Err(e) if e.code() == Some(&SqlState::QUERY_CANCELED) => {
            client.batch_execute("ROLLBACK").map_err(db_err)?;
            notes.push(format!(
                "bulk {verb} {} ({} connection): cancelled by the statement timeout after \
                 {} s; its time is reported as the timeout, a lower bound",
                variant.label(),
                cell.connection.label(),
                timeout.as_secs()
            ));
            return Ok(None);
        }
        Err(e) => return Err(db_err(e)),
    }
    if let Some(rows) = crate::database::recorded(client, variant)?.map(|(rows, _)| rows - before)
        && rows != options.bulk_rows as i64
    {
        notes.push(format!(
            "bulk {verb} {} ({} connection): {} rows changed, {rows} activity rows recorded",
            variant.label(),
            cell.connection.label(),
            options.bulk_rows
        ));
    }
    Ok(Some(elapsed))
}

/// Activity rows of a variant (0 without auditing).
fn activity_rows(recorded: Option<(i64, i64)>) -> i64 {
    recorded.map_or(0, |(rows, _)| rows)
}
