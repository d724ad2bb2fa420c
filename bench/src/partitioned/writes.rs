//! The write path into a partitioned activity table against one table: the suite's own
//! single-row pgbench scripts and bulk statements of ours, run side by side on
//! `bench_ours` (activity in one table) and `bench_part` (activity partitioned by month),
//! interleaved round by round.

use super::install::{self, Activity, WRITE_SCHEMA, WRITE_TABLE};
use super::{Layout, WriteCell};
use crate::database::{Database, db_err};
use crate::fixture::{EXCLUDED_COLUMN, SEED_TABLE, table_of};
use crate::model::{Protocol, Variant, Verb};
use crate::options::Options;
use crate::pgbench::{self, Job};
use crate::workload::{bulk_statement, pgbench_script};
use std::time::Instant;

/// Creates `bench_part` (a copy of the benchmark table) and installs its auditing from
/// the migrations generated for a manifest with `[activity] partition = "month"`.
pub fn install(db: &mut Database) -> Result<(), String> {
    db.client()
        .batch_execute(&format!(
            "CREATE TABLE {WRITE_TABLE} (LIKE {SEED_TABLE} INCLUDING ALL)"
        ))
        .map_err(db_err)?;
    let manifest = install::manifest_text(
        WRITE_SCHEMA,
        WRITE_TABLE.trim_start_matches("public."),
        &[EXCLUDED_COLUMN],
        Activity {
            partition: Some("month"),
            retention: None,
        },
    );
    install::apply(db.client(), &manifest, &install::Generated::default())?;
    Ok(())
}

/// The statement of ours, retargeted at the partitioned copy: same text, other table
/// and audit schema.
fn retarget(text: &str) -> String {
    text.replace(table_of(Variant::Ours), WRITE_TABLE).replace(
        &format!("{}.set_context(", crate::install::ours::SCHEMA),
        &format!("{WRITE_SCHEMA}.set_context("),
    )
}

/// The single-row cells (every verb, client count, without and with a context) and the
/// bulk cells (every verb, fresh connection).
pub fn run(
    db: &mut Database,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<(Vec<WriteCell>, Vec<WriteCell>), String> {
    let rounds = super::write_rounds(options);
    let mut single = Vec::new();
    for verb in Verb::ALL {
        for &clients in &options.clients {
            for context in [false, true] {
                let mut cell = WriteCell {
                    verb,
                    clients: Some(clients),
                    context,
                    one: Vec::new(),
                    partitioned: Vec::new(),
                };
                for round in 0..rounds {
                    for i in 0..2 {
                        let layout = Layout::BOTH[(i + round) % 2];
                        let tps = single_row(db, options, &cell, layout, round, notes)?;
                        cell.values_mut(layout).push(tps);
                    }
                    eprintln!(
                        "partitioned single-row {verb} clients={clients} context={} round {}: \
                         one table {:.0}, partitioned {:.0}",
                        if context { "yes" } else { "no" },
                        round + 1,
                        cell.one.last().copied().unwrap_or(0.0),
                        cell.partitioned.last().copied().unwrap_or(0.0)
                    );
                }
                single.push(cell);
            }
        }
    }
    let mut bulk = Vec::new();
    for verb in Verb::ALL {
        let mut cell = WriteCell {
            verb,
            clients: None,
            context: false,
            one: Vec::new(),
            partitioned: Vec::new(),
        };
        for round in 0..rounds {
            for i in 0..2 {
                let layout = Layout::BOTH[(i + round) % 2];
                let ms = bulk_statement_ms(db, options, verb, layout, notes)?;
                cell.values_mut(layout).push(ms);
            }
            eprintln!(
                "partitioned bulk {verb} {} rows round {}: one table {:.0} ms, partitioned {:.0} ms",
                options.bulk_rows,
                round + 1,
                cell.one.last().copied().unwrap_or(0.0),
                cell.partitioned.last().copied().unwrap_or(0.0)
            );
        }
        bulk.push(cell);
    }
    Ok((single, bulk))
}

/// Refills the layout's table from the seed and empties its audit tables, as
/// [`Database::reset`] does for ours.
pub(super) fn reset(db: &mut Database, options: &Options, layout: Layout) -> Result<(), String> {
    match layout {
        Layout::One => db.reset(Variant::Ours),
        Layout::Partitioned => {
            let rows = options.table_rows;
            let client = db.client();
            client
                .batch_execute(&format!(
                    "SET session_replication_role = replica;
                     TRUNCATE {WRITE_TABLE}, {WRITE_SCHEMA}.activity, {WRITE_SCHEMA}.transaction;
                     INSERT INTO {WRITE_TABLE} OVERRIDING SYSTEM VALUE SELECT * FROM {SEED_TABLE};
                     SELECT setval(pg_get_serial_sequence('{WRITE_TABLE}', 'id'), {rows});
                     RESET session_replication_role;"
                ))
                .map_err(db_err)?;
            client
                .batch_execute(&format!("VACUUM ANALYZE {WRITE_TABLE}"))
                .map_err(db_err)?;
            if !options.quick {
                client.batch_execute("CHECKPOINT").map_err(db_err)?;
            }
            Ok(())
        }
    }
}

/// Activity rows recorded since the reset, and how many are linked to a transaction.
fn recorded(db: &mut Database, layout: Layout) -> Result<(i64, i64), String> {
    let schema = match layout {
        Layout::One => crate::install::ours::SCHEMA,
        Layout::Partitioned => WRITE_SCHEMA,
    };
    let row = db
        .client()
        .query_one(
            &format!("SELECT count(*), count(transaction_id) FROM {schema}.activity"),
            &[],
        )
        .map_err(db_err)?;
    Ok((row.get(0), row.get(1)))
}

/// One pgbench run on freshly reset data; returns its TPS.
fn single_row(
    db: &mut Database,
    options: &Options,
    cell: &WriteCell,
    layout: Layout,
    round: usize,
    notes: &mut Vec<String>,
) -> Result<f64, String> {
    reset(db, options, layout)?;
    let clients = cell.clients.unwrap_or(1);
    let script = pgbench_script(cell.verb, Variant::Ours, cell.context, options.table_rows);
    let script = match layout {
        Layout::One => script,
        Layout::Partitioned => retarget(&script),
    };
    let run = pgbench::run(&Job {
        url: db.url(),
        script: &script,
        clients,
        length: options.pgbench_length(),
        seed: round as u64 + 1,
        protocol: Protocol::Simple,
    })?;
    let (rows, linked) = recorded(db, layout)?;
    let what = format!(
        "partitioned single-row {} clients={clients} context={} {}",
        cell.verb,
        cell.context,
        layout.label()
    );
    if (rows - run.transactions as i64).abs() > i64::from(clients) {
        notes.push(format!(
            "{what}: {} transactions recorded {rows} activity rows",
            run.transactions
        ));
    }
    if cell.context && linked != rows {
        notes.push(format!(
            "{what}: only {linked} of {rows} activity rows are linked to a transaction row"
        ));
    }
    Ok(run.tps)
}

/// One bulk statement and its commit on a fresh connection, on freshly reset data; ms.
fn bulk_statement_ms(
    db: &mut Database,
    options: &Options,
    verb: Verb,
    layout: Layout,
    notes: &mut Vec<String>,
) -> Result<f64, String> {
    reset(db, options, layout)?;
    let sql = bulk_statement(verb, Variant::Ours, options.bulk_rows, options.table_rows);
    let sql = match layout {
        Layout::One => sql,
        Layout::Partitioned => retarget(&sql),
    };
    let mut client = audit_tests::connect(db.url());
    let started = Instant::now();
    client
        .batch_execute(&format!("BEGIN;\n{sql};\nCOMMIT;"))
        .map_err(db_err)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let (rows, _) = recorded(db, layout)?;
    if rows != options.bulk_rows as i64 {
        notes.push(format!(
            "partitioned bulk {verb} {}: {} rows changed, {rows} activity rows recorded",
            layout.label(),
            options.bulk_rows
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_retargeted() {
        let script = retarget(&pgbench_script(Verb::Update, Variant::Ours, true, 100));
        assert!(script.contains("audit_part.set_context("), "{script}");
        assert!(script.contains("UPDATE public.bench_part SET"), "{script}");
        assert!(!script.contains("bench_ours") && !script.contains(" audit.set_context"));
        let bulk = retarget(&bulk_statement(Verb::Insert, Variant::Ours, 10, 100));
        assert!(bulk.contains("INSERT INTO public.bench_part"), "{bulk}");
    }
}
