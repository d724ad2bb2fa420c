//! The single-row write path: pgbench transactions of one INSERT, UPDATE or DELETE,
//! with and without an actor context, over the simple and the prepared protocol, for
//! every variant, interleaved round by round.

use crate::database::Database;
use crate::model::{History, Protocol, SingleRowCell, Variant, Verb};
use crate::options::Options;
use crate::pgbench::{self, Job};
use crate::targets::SingleRow;

/// Runs every single-row cell `options.rounds` times; problems that do not stop the
/// run (a variant recording fewer rows than it should) are added to `notes`.
///
/// Every cell starts from empty audit tables; then the cells with a context run again
/// with [`History::POPULATED_TRANSACTIONS`] rows of earlier transactions in every
/// transaction table (fewer in quick mode), the state of an installation that has run
/// for a while.
pub fn run(
    db: &mut Database,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<Vec<SingleRowCell>, String> {
    let mut cells = run_history(db, options, History::Empty, notes)?;
    let populated = if options.quick {
        10_000
    } else {
        History::POPULATED_TRANSACTIONS
    };
    eprintln!("single-row: populating the transaction tables with {populated} rows");
    db.populate_history(populated)?;
    cells.extend(run_history(db, options, History::Populated, notes)?);
    db.forget_history()?;
    Ok(cells)
}

/// The cells of one history state (populated: those with a context only).
fn run_history(
    db: &mut Database,
    options: &Options,
    history: History,
    notes: &mut Vec<String>,
) -> Result<Vec<SingleRowCell>, String> {
    let variants = db.available(&Variant::SINGLE_ROW);
    let contexts: &[bool] = match history {
        History::Empty => &[false, true],
        History::Populated => &[true],
    };
    let mut cells = Vec::new();
    for verb in Verb::ALL {
        for &clients in &options.clients {
            for &context in contexts {
                for protocol in Protocol::ALL {
                    let at = SingleRow {
                        verb,
                        clients,
                        protocol,
                        context,
                        history,
                    };
                    cells.extend(run_scenario(db, options, &variants, at, notes)?);
                }
            }
        }
    }
    Ok(cells)
}

/// Every round of one scenario (the cells that differ only in the variant), the variants
/// interleaved within each round.
fn run_scenario(
    db: &mut Database,
    options: &Options,
    variants: &[Variant],
    at: SingleRow,
    notes: &mut Vec<String>,
) -> Result<Vec<SingleRowCell>, String> {
    let SingleRow {
        verb,
        clients,
        protocol,
        context,
        history,
    } = at;
    // The floor stands for storing the rows at all; with a context that would mean a
    // hand-written transaction row too, which it leaves out.
    let mut scenario: Vec<SingleRowCell> = variants
        .iter()
        .filter(|&&v| !(context && v == Variant::Floor))
        .map(|&variant| SingleRowCell {
            verb,
            clients,
            protocol,
            context,
            history,
            variant,
            tps: Vec::new(),
        })
        .collect();
    for round in 0..options.rounds {
        // A B C, then B C A, …: no variant always runs first or last.
        for i in 0..scenario.len() {
            let count = scenario.len();
            let cell = &mut scenario[(i + round) % count];
            let tps = measure(db, options, cell, round, notes)?;
            cell.tps.push(tps);
        }
        eprintln!(
            "single-row {verb} clients={clients} {} context={}{} round {}: {}",
            protocol.label(),
            if context { "yes" } else { "no" },
            if history == History::Populated {
                " (populated)"
            } else {
                ""
            },
            round + 1,
            scenario
                .iter()
                .map(|c| format!(
                    "{} {:.0}",
                    c.variant.label(),
                    c.tps.last().copied().unwrap_or(0.0)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(scenario)
}

/// One pgbench run of a cell on freshly reset data; returns its TPS.
fn measure(
    db: &mut Database,
    options: &Options,
    cell: &SingleRowCell,
    round: usize,
    notes: &mut Vec<String>,
) -> Result<f64, String> {
    db.reset(cell.variant)?;
    let script =
        crate::workload::pgbench_script(cell.verb, cell.variant, cell.context, options.table_rows);
    let run = pgbench::run(&Job {
        url: db.url(),
        script: &script,
        clients: cell.clients,
        length: options.pgbench_length(),
        seed: round as u64 + 1,
        protocol: cell.protocol,
    })?;
    if let Some((rows, linked)) = db.recorded(cell.variant)? {
        check(cell, run.transactions, rows, linked, notes);
    }
    Ok(run.tps)
}

/// Every transaction changes one row, so it must leave one activity row, linked to a
/// transaction row when a context was set (by the variants that record one). pgbench may stop with a few transactions in
/// flight, hence the tolerance of one per client.
fn check(cell: &SingleRowCell, transactions: u64, rows: i64, linked: i64, notes: &mut Vec<String>) {
    let slack = i64::from(cell.clients);
    let expected = transactions as i64;
    let what = format!(
        "single-row {} clients={} {} context={}{} {}",
        cell.verb,
        cell.clients,
        cell.protocol.label(),
        cell.context,
        if cell.history == History::Populated {
            " (populated)"
        } else {
            ""
        },
        cell.variant.label()
    );
    if (rows - expected).abs() > slack {
        notes.push(format!(
            "{what}: {transactions} transactions recorded {rows} activity rows"
        ));
    }
    if cell.context && cell.variant.links_transactions() && (linked - rows).abs() > 0 {
        notes.push(format!(
            "{what}: only {linked} of {rows} activity rows are linked to a transaction row"
        ));
    }
}
