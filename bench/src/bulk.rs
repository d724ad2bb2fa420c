//! Bulk statements: one INSERT … SELECT, UPDATE or DELETE of many rows in its own
//! transaction, timed from the client (statement and commit), interleaved by round.

use crate::database::{Database, db_err};
use crate::model::{BulkCell, Variant, Verb};
use crate::options::Options;
use crate::workload::bulk_statement;
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
        let mut scenario: Vec<BulkCell> = variants
            .iter()
            .map(|&variant| BulkCell {
                verb,
                variant,
                times: Vec::new(),
            })
            .collect();
        for round in 0..rounds {
            for i in 0..scenario.len() {
                let cell = &mut scenario[(i + round) % variants.len()];
                let time = measure(db, options, cell.verb, cell.variant, notes)?;
                cell.times.push(time);
            }
            eprintln!(
                "bulk {verb} {} rows round {}: {}",
                options.bulk_rows,
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
    Ok(cells)
}

/// Times one bulk statement with its commit on freshly reset data.
pub fn measure(
    db: &mut Database,
    options: &Options,
    verb: Verb,
    variant: Variant,
    notes: &mut Vec<String>,
) -> Result<Duration, String> {
    db.reset(variant)?;
    let sql = bulk_statement(verb, variant, options.bulk_rows, options.table_rows);
    // One simple-protocol message: the statement and the commit, no extra round trip.
    let started = Instant::now();
    db.client()
        .batch_execute(&format!("BEGIN;\n{sql};\nCOMMIT;"))
        .map_err(db_err)?;
    let elapsed = started.elapsed();
    if let Some((rows, _)) = db.recorded(variant)?
        && rows != options.bulk_rows as i64
    {
        notes.push(format!(
            "bulk {verb} {}: {} rows changed, {rows} activity rows recorded",
            variant.label(),
            options.bulk_rows
        ));
    }
    Ok(elapsed)
}
