//! The report's section on partitioned activity.

use super::{Layout, Results, thousands};
use crate::model::Report;
use crate::stats::median;
use std::fmt::Write;

/// Renders the section (nothing when it was not requested).
pub fn render(out: &mut String, report: &Report) {
    let Some(partitioned) = &report.partitioned else {
        return;
    };
    let _ = writeln!(out, "## Partitioned activity\n");
    let results = match partitioned {
        Ok(results) => results,
        Err(why) => {
            let _ = writeln!(out, "Not measured: {why}.\n");
            return;
        }
    };
    let _ = writeln!(
        out,
        "Activity partitioned by month (`[activity] partition = \"month\"`, pg_partman) \
         against activity in one table; every audit schema installed from the migrations \
         `audit_codegen` generates.\n"
    );
    writes(out, results);
    cpu(out, results);
    history(out, results);
    retention(out, results);
}

fn writes(out: &mut String, results: &Results) {
    if results.single.is_empty() && results.bulk.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**Write path.** Ours on `bench_ours` (activity in one table) and on `bench_part` \
         (the same table, audited into a second audit schema generated with `partition = \
         \"month\"`), the same pgbench scripts and bulk statements as above, interleaved \
         round by round, each after a reset; bulk statements on a fresh connection. \
         Single-row in TPS, bulk in ms (medians); the ratio is partitioned throughput over \
         one table's, the median of the rounds' ratios (the two layouts run back to back in \
         a round).\n"
    );
    let _ = writeln!(
        out,
        "| measurement | {} | {} | ratio |\n|---|--:|--:|--:|",
        Layout::One.label(),
        Layout::Partitioned.label()
    );
    for cell in results.single.iter().chain(&results.bulk) {
        let unit = if cell.clients.is_some() { 0 } else { 1 };
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} |",
            cell.describe(),
            if cell.clients.is_none() {
                format!(" {} rows (ms)", thousands(results.bulk_rows as i64))
            } else {
                " (TPS)".to_owned()
            },
            fmt(median(&cell.one), unit),
            fmt(median(&cell.partitioned), unit),
            fmt(cell.ratio(), 2) + "×"
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Every round: {}\n",
        results
            .single
            .iter()
            .chain(&results.bulk)
            .map(|c| format!(
                "{}: {} / {}",
                c.describe(),
                join(&c.one),
                join(&c.partitioned)
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

fn cpu(out: &mut String, results: &Results) {
    let Some(cells) = &results.cpu else {
        let _ = writeln!(
            out,
            "**Server CPU per transaction**: not measured (the server's processes cannot be \
             read from this machine).\n"
        );
        return;
    };
    let Some(first) = cells.first() else {
        return;
    };
    let _ = writeln!(
        out,
        "**Server CPU per transaction.** A server-side loop commits {} single-row \
         transactions (`DO` with `COMMIT` per iteration; with a context, `set_context` \
         first), on its own connection after a reset; the backend's user and system time \
         from `/proc`, per transaction. Steadier than TPS on a shared machine; leaves out \
         the client and the protocol, the same for both. The ratio is one table's time over \
         partitioned's, the median of the rounds' ratios.\n",
        thousands(first.transactions as i64)
    );
    let _ = writeln!(
        out,
        "| transaction | {} (µs) | {} (µs) | ratio | rounds (one table / partitioned) |\n|---|--:|--:|--:|---|",
        Layout::One.label(),
        Layout::Partitioned.label()
    );
    for c in cells {
        let _ = writeln!(
            out,
            "| single-row {} | {} | {} | {}× | {} / {} |",
            c.describe(),
            fmt(median(&c.one), 1),
            fmt(median(&c.partitioned), 1),
            fmt(c.ratio(), 2),
            join1(&c.one),
            join1(&c.partitioned)
        );
    }
    let _ = writeln!(out);
}

fn join1(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn history(out: &mut String, results: &Results) {
    let Some(h) = &results.history else {
        return;
    };
    let _ = writeln!(
        out,
        "**The questions.** {} activity rows over the {} months before the current one \
         ({} partitions, {} of them populated, the others made ahead and the default \
         partition) against {} rows over the same months in one table; ten activities per \
         record (an insert, then updates), one actor per 1,000 activities ({} and {}), five \
         activities per transaction. \
         Filled with `INSERT … SELECT generate_series` into the tables of the generated \
         `audit_schema` migration ({:.1} s, without the secondary indexes the conversion \
         rebuilds anyway, and {:.1} s), the partitioned one then converted by the \
         generated `{}` migration ({:.1} s, {:.1} s per million rows: copy, index builds, \
         `ANALYZE`); both histories then vacuumed, as a history kept for months is. Through \
         `audit_runtime::query` on one connection each, alternating run by run; {} runs per \
         question after {} warm-up runs, each a random record, actor, day or time.\n",
        thousands(h.partitioned_rows),
        h.months,
        h.partitions,
        h.populated,
        thousands(h.one_rows),
        thousands(h.partitioned_rows / super::history::ROWS_PER_ACTOR),
        thousands(h.one_rows / super::history::ROWS_PER_ACTOR),
        h.partitioned_fill.as_secs_f64(),
        h.one_fill.as_secs_f64(),
        h.conversion_migrations.join(", "),
        h.conversion.as_secs_f64(),
        h.conversion.as_secs_f64() / (h.partitioned_rows as f64 / 1e6),
        h.partitioned.first().map_or(0, |q| q.runs),
        h.partitioned.first().map_or(0, |q| q.runs / 10),
    );
    let _ = writeln!(
        out,
        "| question | p50 partitioned (ms) | p99 partitioned (ms) | p50 one table (ms) | \
         p99 one table (ms) | entries (partitioned / one table) |\n|---|--:|--:|--:|--:|--:|"
    );
    for (p, o) in h.partitioned.iter().zip(&h.one) {
        let _ = writeln!(
            out,
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} / {:.1} |",
            p.question, p.p50_ms, p.p99_ms, o.p50_ms, o.p99_ms, p.entries, o.entries
        );
    }
    let _ = writeln!(out);
}

fn retention(out: &mut String, results: &Results) {
    let Some(r) = &results.retention else {
        return;
    };
    let _ = writeln!(
        out,
        "**Expiring a month.** {} activity rows of a month 14 months back (and a quarter \
         as many in the last month, which stay), in one table and partitioned by month \
         with `retention = \"12 months\"`; each step after a `CHECKPOINT`. WAL is the \
         server's insert position before and after, so it includes what other databases \
         wrote meanwhile.\n",
        thousands(r.rows)
    );
    let _ = writeln!(out, "| how | time (ms) | WAL |\n|---|--:|--:|");
    for (how, step) in [
        (
            "`DELETE` of the month's rows from one table (and commit)",
            r.delete,
        ),
        ("`VACUUM` of the table after it", r.vacuum),
        (
            &*format!(
                "retention: `run_maintenance` drops the month's partition ({} partition{} dropped)",
                r.partitions_dropped,
                if r.partitions_dropped == 1 { "" } else { "s" }
            ),
            r.drop,
        ),
    ] {
        let _ = writeln!(
            out,
            "| {how} | {:.1} | {} |",
            step.time.as_secs_f64() * 1000.0,
            bytes(step.wal_bytes)
        );
    }
    let _ = writeln!(out);
}

fn bytes(n: i64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n:.0} B")
    }
}

fn fmt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

fn join(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}
