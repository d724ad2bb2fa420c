//! Server CPU time per single-row transaction, partitioned activity against one table.
//!
//! TPS on a loaded machine moves by more than the few microseconds partition routing
//! costs; the CPU time of the backend that runs the work does not depend on what else
//! runs. A server-side loop commits one single-row INSERT, UPDATE or DELETE (after a
//! `set_context` with a context) per iteration (`DO` with `COMMIT`), on its own
//! connection; the backend's user and system time (`/proc/<pid>/stat`) before and after,
//! divided by the transactions. Needs the server on this machine, readable `/proc`;
//! otherwise not measured. Leaves out the client and the protocol, which are the same
//! for both.

use super::install::WRITE_SCHEMA;
use super::{CpuCell, Layout};
use crate::database::{Database, db_err};
use crate::fixture::table_of;
use crate::model::{Variant, Verb};
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// User plus system time of process `pid`, if it is a PostgreSQL backend this process
/// can see.
fn cpu_of(pid: i32, ticks: u64) -> Option<Duration> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    if !String::from_utf8_lossy(&cmdline).starts_with("postgres") {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is field 3, utime 14.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_micros((user + system) * 1_000_000 / ticks))
}

/// The loop of `transactions` single-row transactions on `table`.
fn loop_sql(verb: Verb, table: &str, schema: &str, context: bool, table_rows: u64) -> String {
    // 7919 is prime: `1 + i * 7919 % rows` visits distinct rows for i < rows (unless
    // rows is a multiple of 7919), spread over the table.
    let key = format!("1 + (i::bigint * 7919) % {table_rows}");
    let dml = match verb {
        Verb::Insert => format!(
            "INSERT INTO {table} (title, sku, quantity, price, in_stock, created_at, attributes, internal_note)
             VALUES ('Product ' || i, 'SKU-' || i, i % 500, 19.99, true, now(),
                     '{{\"color\": \"red\", \"size\": 3}}', 'internal note')"
        ),
        Verb::Update => {
            format!("UPDATE {table} SET price = price + 0.01, updated_at = now() WHERE id = {key}")
        }
        Verb::Delete => format!("DELETE FROM {table} WHERE id = {key}"),
    };
    let set_context = if context {
        format!(
            "PERFORM {schema}.set_context('actor-' || (i % 1000), '192.0.2.10'::inet, \
             '{{\"request_id\": \"bench\"}}'::jsonb);"
        )
    } else {
        String::new()
    };
    format!(
        "DO $bench$ BEGIN FOR i IN 1..{{n}} LOOP {set_context} {dml}; COMMIT; END LOOP; END $bench$"
    )
}

/// Measures every verb with and without a context, both layouts interleaved, `rounds`
/// times; `None` when the backend's CPU time cannot be read here.
pub fn run(
    db: &mut Database,
    options: &crate::options::Options,
    transactions: u64,
    reset: &mut dyn FnMut(&mut Database, Layout) -> Result<(), String>,
    notes: &mut Vec<String>,
) -> Result<Option<Vec<CpuCell>>, String> {
    let ticks = ticks_per_second();
    let transactions = transactions.min(options.table_rows);
    let mut cells = Vec::new();
    for verb in Verb::ALL {
        for context in [false, true] {
            let mut cell = CpuCell {
                verb,
                context,
                transactions,
                one: Vec::new(),
                partitioned: Vec::new(),
            };
            for round in 0..super::write_rounds(options) {
                for i in 0..2 {
                    let layout = Layout::BOTH[(i + round) % 2];
                    reset(db, layout)?;
                    let (table, schema) = match layout {
                        Layout::One => (table_of(Variant::Ours), crate::install::ours::SCHEMA),
                        Layout::Partitioned => (super::install::WRITE_TABLE, WRITE_SCHEMA),
                    };
                    let sql = loop_sql(verb, table, schema, context, options.table_rows)
                        .replace("{n}", &transactions.to_string());
                    let mut client = audit_tests::connect(db.url());
                    let pid: i32 = client
                        .query_one("SELECT pg_catalog.pg_backend_pid()", &[])
                        .map_err(db_err)?
                        .get(0);
                    let Some(before) = cpu_of(pid, ticks) else {
                        return Ok(None);
                    };
                    client.batch_execute(&sql).map_err(db_err)?;
                    let Some(after) = cpu_of(pid, ticks) else {
                        return Ok(None);
                    };
                    let per_transaction =
                        (after - before).as_secs_f64() * 1e6 / transactions as f64;
                    cell.values_mut(layout).push(per_transaction);
                    let recorded: i64 = client
                        .query_one(&format!("SELECT count(*) FROM {schema}.activity"), &[])
                        .map_err(db_err)?
                        .get(0);
                    if recorded != transactions as i64 {
                        notes.push(format!(
                            "partitioned CPU {verb} context={context} {}: {transactions} \
                             transactions recorded {recorded} activity rows",
                            layout.label()
                        ));
                    }
                }
                eprintln!(
                    "partitioned CPU per {verb} transaction, context={}, round {}: \
                     one table {:.1} µs, partitioned {:.1} µs",
                    if context { "yes" } else { "no" },
                    round + 1,
                    cell.one.last().copied().unwrap_or(0.0),
                    cell.partitioned.last().copied().unwrap_or(0.0)
                );
            }
            cells.push(cell);
        }
    }
    Ok(Some(cells))
}
