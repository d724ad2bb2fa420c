//! Partitioned activity (`[activity] partition = "month"`, managed by pg_partman) against
//! activity in one table, side by side in one run:
//!
//! 1. the write path ([`writes`]): the suite's single-row pgbench scripts and bulk
//!    statements of ours, on a copy of the benchmark table audited into a second audit
//!    schema generated with `partition = "month"`, interleaved with ours;
//! 2. the three questions and `as_of` ([`history`]) on 10,000,000 activity rows over 13
//!    populated monthly partitions, and on 1,000,000 rows in one table;
//! 3. expiring a month of 1,000,000 rows ([`retention`]): pg_partman's retention against
//!    `DELETE`, time and WAL.
//!
//! Every audit schema is installed from the migrations `audit_codegen` generates for a
//! manifest (no hand-written DDL). Skipped, with the reason in the report, when the
//! server has no pg_partman 4.x; off with `--no-partitioned`.

pub mod cpu;
pub mod history;
pub mod install;
pub mod report;
pub mod retention;
pub mod writes;

use crate::database::Database;
use crate::model::{Report, Verb};
use crate::options::Options;
use crate::stats::median;
use crate::targets::Outcome;
use std::time::Duration;

/// Single-row and bulk writes into partitioned activity relative to one table: at least.
pub const MIN_WRITE_RATIO: f64 = 0.95;
/// p50 of each question on the large partitioned history, in ms: below.
pub const MAX_QUERY_P50_MS: f64 = 2.0;
/// Populated partitions the large history must span for the query target to count.
pub const MIN_POPULATED_PARTITIONS: i64 = 12;

/// Where the activity rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One table (the default, ours).
    One,
    /// Partitioned by month.
    Partitioned,
}

impl Layout {
    /// Both, in interleaving order.
    pub const BOTH: [Layout; 2] = [Layout::One, Layout::Partitioned];

    /// The report's label.
    pub fn label(self) -> &'static str {
        match self {
            Layout::One => "one table",
            Layout::Partitioned => "partitioned by month",
        }
    }
}

/// One write cell: single-row (TPS per round) or bulk (ms per round), both layouts.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteCell {
    /// The statement.
    pub verb: Verb,
    /// pgbench clients (single-row), `None` for a bulk statement.
    pub clients: Option<u32>,
    /// Whether every transaction sets an actor context first (single-row).
    pub context: bool,
    /// Each round's figure with activity in one table.
    pub one: Vec<f64>,
    /// Each round's figure with activity partitioned by month.
    pub partitioned: Vec<f64>,
}

impl WriteCell {
    pub(crate) fn values_mut(&mut self, layout: Layout) -> &mut Vec<f64> {
        match layout {
            Layout::One => &mut self.one,
            Layout::Partitioned => &mut self.partitioned,
        }
    }

    /// Partitioned relative to one table, as throughput (> 1: partitioned is faster):
    /// TPS ratio for single-row, inverse time ratio for bulk; the median of the rounds'
    /// ratios (see [`paired_ratio`]).
    pub fn ratio(&self) -> Option<f64> {
        match self.clients {
            Some(_) => paired_ratio(&self.partitioned, &self.one),
            None => paired_ratio(&self.one, &self.partitioned),
        }
    }

    /// The cell in words.
    pub fn describe(&self) -> String {
        match self.clients {
            Some(c) => format!(
                "single-row {} {c} client{}, {}",
                self.verb,
                if c == 1 { "" } else { "s" },
                if self.context {
                    "context"
                } else {
                    "no context"
                }
            ),
            None => format!("bulk {}", self.verb),
        }
    }
}

/// Rounds of each write cell: at least five outside `--quick`, since a 5% target is
/// within the spread of three rounds on a shared machine.
pub fn write_rounds(options: &Options) -> usize {
    if options.quick {
        options.rounds
    } else {
        options.rounds.max(5)
    }
}

/// The median over rounds of `numerator[i] / denominator[i]`. Both layouts run back to
/// back in each round, so a round's ratio compares them under the same conditions; the
/// speed of this machine drifts by more between rounds (20% seen) than the difference
/// measured, which a ratio of the two medians would mix in.
pub fn paired_ratio(numerator: &[f64], denominator: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = numerator
        .iter()
        .zip(denominator)
        .filter(|(_, d)| **d > 0.0)
        .map(|(n, d)| n / d)
        .collect();
    median(&ratios)
}

/// Server CPU time per single-row transaction, both layouts.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuCell {
    /// The statement.
    pub verb: Verb,
    /// Whether every transaction sets an actor context first.
    pub context: bool,
    /// Transactions per round.
    pub transactions: u64,
    /// Each round's µs per transaction with activity in one table.
    pub one: Vec<f64>,
    /// Each round's µs per transaction with activity partitioned by month.
    pub partitioned: Vec<f64>,
}

impl CpuCell {
    pub(crate) fn values_mut(&mut self, layout: Layout) -> &mut Vec<f64> {
        match layout {
            Layout::One => &mut self.one,
            Layout::Partitioned => &mut self.partitioned,
        }
    }

    /// One table's CPU time over partitioned's (> 1: partitioned costs less), the median
    /// of the rounds' ratios (see [`paired_ratio`]).
    pub fn ratio(&self) -> Option<f64> {
        paired_ratio(&self.one, &self.partitioned)
    }

    /// The cell in words.
    pub fn describe(&self) -> String {
        format!(
            "{}, {}",
            self.verb,
            if self.context {
                "context"
            } else {
                "no context"
            }
        )
    }
}

/// Latency of one question.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryFigures {
    /// The question.
    pub question: String,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Mean entries returned.
    pub entries: f64,
    /// Measured runs.
    pub runs: usize,
}

/// The questions on both histories.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryFigures {
    /// Activity rows of the partitioned history.
    pub partitioned_rows: i64,
    /// Activity rows of the one-table history.
    pub one_rows: i64,
    /// Months of history.
    pub months: u32,
    /// Partitions of the partitioned history (default partition and those made ahead
    /// included).
    pub partitions: i64,
    /// Those holding rows.
    pub populated: i64,
    /// Filling the partitioned history (before its conversion).
    pub partitioned_fill: Duration,
    /// Filling the one-table history.
    pub one_fill: Duration,
    /// Applying the conversion migration to the filled history.
    pub conversion: Duration,
    /// The migrations the conversion applied.
    pub conversion_migrations: Vec<String>,
    /// Each question on the partitioned history.
    pub partitioned: Vec<QueryFigures>,
    /// Each question on the one-table history.
    pub one: Vec<QueryFigures>,
}

/// Time and WAL of one way of expiring rows.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Step {
    /// Wall time.
    pub time: Duration,
    /// WAL written meanwhile (by the whole server).
    pub wal_bytes: i64,
}

/// Expiring a month of history both ways.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RetentionFigures {
    /// Activity rows of the expired month.
    pub rows: i64,
    /// `DELETE` of the month's rows from one table, with its commit.
    pub delete: Step,
    /// The `VACUUM` after it.
    pub vacuum: Step,
    /// `run_maintenance` with the retention expiring the month.
    pub drop: Step,
    /// Partitions the retention dropped.
    pub partitions_dropped: i64,
}

/// Everything this part of the suite measured.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Results {
    /// Single-row cells.
    pub single: Vec<WriteCell>,
    /// Bulk cells (fresh connection).
    pub bulk: Vec<WriteCell>,
    /// Rows per bulk statement.
    pub bulk_rows: u64,
    /// Server CPU time per single-row transaction (`None`: the server's processes cannot
    /// be read from here).
    pub cpu: Option<Vec<CpuCell>>,
    /// The questions.
    pub history: Option<HistoryFigures>,
    /// Retention against DELETE.
    pub retention: Option<RetentionFigures>,
}

/// Runs every measurement; `Err` is why it could not run at all (pg_partman missing),
/// which the report shows. Failures of the checks go to `notes`.
pub fn run(
    db: &mut Database,
    options: &Options,
    notes: &mut Vec<String>,
) -> Result<Result<Results, String>, String> {
    if let Some(missing) = install::partman_missing(db.client())? {
        eprintln!("audit-bench: not measuring partitioned activity: {missing}");
        return Ok(Err(missing));
    }
    install::create_partman(db.client())?;
    writes::install(db)?;
    let (single, bulk) = writes::run(db, options, notes)?;
    let transactions = if options.quick { 5_000 } else { 20_000 };
    let cpu = cpu::run(
        db,
        options,
        transactions,
        &mut |db, layout| writes::reset(db, options, layout),
        notes,
    )?;
    eprintln!(
        "audit-bench: expiring a month of {} activity rows (retention against DELETE)",
        options.retention_rows
    );
    let retention = retention::run(db, options.retention_rows as i64)?;
    eprintln!(
        "audit-bench: the questions on {} partitioned and {} unpartitioned activity rows",
        options.history_rows, options.history_compare_rows
    );
    let runs = if options.quick { 50 } else { 1000 };
    let history = history::run(
        db,
        options.history_rows as i64,
        options.history_compare_rows as i64,
        runs,
    )?;
    Ok(Ok(Results {
        single,
        bulk,
        bulk_rows: options.bulk_rows,
        cpu,
        history: Some(history),
        retention: Some(retention),
    }))
}

/// The targets of this part, for the report's target table.
pub fn targets(report: &Report) -> Vec<Outcome> {
    let Some(Ok(results)) = &report.partitioned else {
        return Vec::new();
    };
    let mut outcomes = Vec::new();
    let worst = |cells: &[WriteCell]| {
        cells
            .iter()
            .filter_map(|c| c.ratio().map(|r| (r, c.describe())))
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    for (cells, what) in [
        (
            &results.single,
            "single-row INSERT/UPDATE/DELETE TPS".to_owned(),
        ),
        (
            &results.bulk,
            format!("bulk {}-row INSERT/UPDATE/DELETE speed", results.bulk_rows),
        ),
    ] {
        let target =
            format!("{what} with activity partitioned by month ≥ {MIN_WRITE_RATIO:.2}× one table");
        outcomes.push(match worst(cells) {
            Some((ratio, cell)) => Outcome {
                target,
                measured: format!("worst {ratio:.2}× ({cell})"),
                met: Some(ratio >= MIN_WRITE_RATIO),
            },
            None => Outcome {
                target,
                measured: "not measured".to_owned(),
                met: None,
            },
        });
    }
    if let Some(cpu) = &results.cpu {
        let worst = cpu
            .iter()
            .filter_map(|c| c.ratio().map(|r| (r, c.describe())))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((ratio, cell)) = worst {
            outcomes.push(Outcome {
                target: format!(
                    "server CPU time per single-row transaction, one table's over \
                     partitioned's ≥ {MIN_WRITE_RATIO:.2}×"
                ),
                measured: format!("worst {ratio:.2}× ({cell})"),
                met: Some(ratio >= MIN_WRITE_RATIO),
            });
        }
    }
    if let Some(h) = &results.history {
        let worst = h
            .partitioned
            .iter()
            .max_by(|a, b| a.p50_ms.total_cmp(&b.p50_ms));
        if let Some(worst) = worst {
            outcomes.push(Outcome {
                target: format!(
                    "p50 of the three questions and as_of < {MAX_QUERY_P50_MS:.0} ms on \
                     {} activity rows over ≥ {MIN_POPULATED_PARTITIONS} monthly partitions",
                    thousands(h.partitioned_rows)
                ),
                measured: format!(
                    "worst {:.2} ms ({}; {} populated partitions)",
                    worst.p50_ms, worst.question, h.populated
                ),
                met: Some(
                    worst.p50_ms < MAX_QUERY_P50_MS && h.populated >= MIN_POPULATED_PARTITIONS,
                ),
            });
        }
    }
    outcomes
}

/// `10000000` as `10,000,000`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_throughput() {
        let single = WriteCell {
            verb: Verb::Insert,
            clients: Some(1),
            context: false,
            one: vec![1000.0],
            partitioned: vec![900.0],
        };
        assert_eq!(single.ratio(), Some(0.9));
        let bulk = WriteCell {
            clients: None,
            one: vec![90.0],
            partitioned: vec![100.0],
            ..single
        };
        assert_eq!(bulk.ratio(), Some(0.9));
        // The median of the rounds' ratios, not the ratio of the medians.
        assert_eq!(
            paired_ratio(&[100.0, 50.0, 200.0], &[100.0, 100.0, 100.0]),
            Some(1.0)
        );
        assert_eq!(
            paired_ratio(&[90.0, 110.0, 121.0], &[100.0, 100.0, 110.0]),
            Some(1.1)
        );
        assert_eq!(paired_ratio(&[], &[]), None);
        assert_eq!(thousands(10_000_000), "10,000,000");
        assert_eq!(thousands(999), "999");
    }
}
