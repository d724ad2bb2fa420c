//! The performance targets of issues 7 and 17 and their evaluation against a report.

use crate::model::{Connection, History, Protocol, Report, Variant, Verb};
use crate::stats::{median, median_ms};

/// Single-row TPS of ours relative to no auditing, without a context.
pub const MIN_VS_NONE: f64 = 0.75;
/// Single-row TPS of ours relative to no auditing, with a context set.
pub const MIN_VS_NONE_CONTEXT: f64 = 0.65;
/// Single-row UPDATE TPS of ours relative to the generic row-level jsonb trigger.
pub const MIN_UPDATE_VS_GENERIC: f64 = 1.5;
/// Single-row INSERT TPS of ours relative to the generic row-level jsonb trigger.
pub const MIN_INSERT_VS_GENERIC: f64 = 1.3;
/// Bulk time of ours relative to the floor.
pub const MAX_BULK_VS_FLOOR: f64 = 1.3;
/// Bulk UPDATE speed-up of ours over the generic row-level jsonb trigger.
pub const MIN_BULK_UPDATE_SPEEDUP: f64 = 2.5;
/// Single-row TPS of ours relative to the row-level hstore trigger (issue 17).
pub const MIN_VS_HSTORE: f64 = 1.15;
/// Single-row TPS of ours relative to the generic statement-level trigger (issue 17).
pub const MIN_VS_STATEMENT: f64 = 1.15;
/// The pgbench clients of the per-protocol context target (issue 17).
pub const CONTEXT_TARGET_CLIENTS: u32 = 1;
/// Bulk INSERT and DELETE speed-up of ours over the statement-level trigger (issue 17).
pub const MIN_BULK_SPEEDUP_VS_STATEMENT: f64 = 1.3;
/// Code generation for the synthetic schema, first run, in ms.
pub const MAX_CODEGEN_MS: f64 = 2000.0;
/// Code generation rerun with nothing to do, in ms.
pub const MAX_NOOP_MS: f64 = 300.0;
/// Clean debug compile time of the generated code per table of the synthetic schema, in ms.
pub const MAX_COMPILE_MS_PER_TABLE: f64 = 50.0;

/// One target with what was measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The target in words.
    pub target: String,
    /// The measured value (the worst cell where a target covers several).
    pub measured: String,
    /// Met, missed, or not measured.
    pub met: Option<bool>,
}

/// The coordinates of a single-row cell, but for the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SingleRow {
    /// The statement.
    pub verb: Verb,
    /// pgbench clients.
    pub clients: u32,
    /// The protocol pgbench speaks.
    pub protocol: Protocol,
    /// Whether a context is set in every transaction.
    pub context: bool,
    /// What the audit tables hold at the start.
    pub history: History,
}

/// The median TPS of a single-row cell.
pub fn tps(report: &Report, at: SingleRow, variant: Variant) -> Option<f64> {
    median(
        &report
            .single(
                at.verb,
                at.clients,
                at.protocol,
                at.context,
                at.history,
                variant,
            )?
            .tps,
    )
}

/// The median time of a bulk cell in ms.
pub fn bulk_ms(
    report: &Report,
    verb: Verb,
    connection: Connection,
    variant: Variant,
) -> Option<f64> {
    median_ms(&report.bulk_cell(verb, connection, variant)?.times)
}

/// `ours / other` single-row TPS.
pub fn single_ratio(report: &Report, at: SingleRow, other: Variant) -> Option<f64> {
    Some(tps(report, at, Variant::Ours)? / tps(report, at, other)?)
}

/// `ours / other` bulk speed: the other variant's time over ours.
pub fn bulk_speedup(
    report: &Report,
    verb: Verb,
    connection: Connection,
    other: Variant,
) -> Option<f64> {
    Some(
        bulk_ms(report, verb, connection, other)?
            / bulk_ms(report, verb, connection, Variant::Ours)?,
    )
}

/// `floor / no audit` single-row TPS: the most a trigger storing the same rows could reach.
pub fn floor_ratio(report: &Report, at: SingleRow) -> Option<f64> {
    Some(tps(report, at, Variant::Floor)? / tps(report, at, Variant::None)?)
}

/// The single-row coordinates measured in a report, in report order.
pub fn single_rows(report: &Report) -> Vec<SingleRow> {
    let mut clients: Vec<u32> = report.single_row.iter().map(|c| c.clients).collect();
    clients.sort_unstable();
    clients.dedup();
    let mut rows = Vec::new();
    for verb in Verb::ALL {
        for &clients in &clients {
            for (context, history) in [
                (false, History::Empty),
                (true, History::Empty),
                (true, History::Populated),
            ] {
                for protocol in Protocol::ALL {
                    let at = SingleRow {
                        verb,
                        clients,
                        protocol,
                        context,
                        history,
                    };
                    if report.single_row.iter().any(|c| {
                        c.verb == verb
                            && c.clients == clients
                            && c.protocol == protocol
                            && c.context == context
                            && c.history == history
                    }) {
                        rows.push(at);
                    }
                }
            }
        }
    }
    rows
}

impl SingleRow {
    /// How the cell is described in target lines.
    pub fn describe(self) -> String {
        let n = self.clients;
        format!(
            "{}, {n} client{}, {}{}",
            self.verb,
            plural(n),
            self.protocol.label(),
            if self.history == History::Populated {
                ", populated transaction table"
            } else {
                ""
            }
        )
    }
}

/// The minimum TPS ratio ours/no-audit a single-row cell must reach.
pub fn min_vs_none(context: bool) -> f64 {
    if context {
        MIN_VS_NONE_CONTEXT
    } else {
        MIN_VS_NONE
    }
}

/// The minimum TPS ratio ours/generic for a verb, if it has one.
pub fn min_vs_generic(verb: Verb) -> Option<f64> {
    match verb {
        Verb::Insert => Some(MIN_INSERT_VS_GENERIC),
        Verb::Update => Some(MIN_UPDATE_VS_GENERIC),
        Verb::Delete => None,
    }
}

/// Every target, evaluated.
pub fn evaluate(report: &Report) -> Vec<Outcome> {
    let rows = single_rows(report);
    let mut outcomes = Vec::new();
    for context in [false, true] {
        let cells = rows.iter().filter(|at| at.context == context).map(|&at| {
            // Where measured, the floor of the same cell says how much of the gap is
            // storing the rows at all.
            let ceiling = floor_ratio(report, at)
                .map(|f| format!("; the floor reaches {f:.2}× there"))
                .unwrap_or_default();
            (
                single_ratio(report, at, Variant::None),
                format!("{}{ceiling}", at.describe()),
            )
        });
        outcomes.push(worst_at_least(
            format!(
                "single-row INSERT/UPDATE/DELETE TPS ≥ {:.2}× no auditing, {}",
                min_vs_none(context),
                if context {
                    "context set (empty and populated transaction table)"
                } else {
                    "no context"
                }
            ),
            min_vs_none(context),
            cells.collect(),
        ));
    }
    for verb in [Verb::Update, Verb::Insert] {
        let min = min_vs_generic(verb).unwrap_or(1.0);
        let cells = rows
            .iter()
            .filter(|at| at.verb == verb)
            .map(|&at| {
                (
                    single_ratio(report, at, Variant::Generic),
                    format!("{}, {}", at.describe(), context_words(at.context)),
                )
            })
            .collect();
        outcomes.push(worst_at_least(
            format!("single-row {verb} TPS ≥ {min:.1}× the generic row-level jsonb trigger"),
            min,
            cells,
        ));
    }
    for protocol in Protocol::ALL {
        for (baseline, min, name) in [
            (
                Variant::Hstore,
                MIN_VS_HSTORE,
                "the row-level hstore trigger",
            ),
            (
                Variant::Statement,
                MIN_VS_STATEMENT,
                "the generic statement-level trigger",
            ),
        ] {
            let cells = rows
                .iter()
                .filter(|at| at.protocol == protocol)
                .map(|&at| {
                    (
                        single_ratio(report, at, baseline),
                        format!("{}, {}", at.describe(), context_words(at.context)),
                    )
                })
                .collect();
            outcomes.push(worst_at_least(
                format!(
                    "single-row INSERT/UPDATE/DELETE TPS ≥ {min:.2}× {name}, {} protocol",
                    protocol.label()
                ),
                min,
                cells,
            ));
        }
    }
    for protocol in Protocol::ALL {
        let cells = rows
            .iter()
            .filter(|at| {
                at.context && at.clients == CONTEXT_TARGET_CLIENTS && at.protocol == protocol
            })
            .map(|&at| (single_ratio(report, at, Variant::None), at.describe()))
            .collect();
        outcomes.push(worst_at_least(
            format!(
                "single-row TPS ≥ {MIN_VS_NONE_CONTEXT:.2}× no auditing, context set, \
                 {CONTEXT_TARGET_CLIENTS} client{}, {} protocol, empty and populated \
                 transaction table",
                plural(CONTEXT_TARGET_CLIENTS),
                protocol.label()
            ),
            MIN_VS_NONE_CONTEXT,
            cells,
        ));
    }
    let floor_cells: Vec<(Option<f64>, String)> = Verb::ALL
        .iter()
        .flat_map(|&verb| {
            Connection::ALL.map(|connection| {
                let ratio = bulk_ms(report, verb, connection, Variant::Ours)
                    .zip(bulk_ms(report, verb, connection, Variant::Floor))
                    .map(|(ours, floor)| ours / floor);
                (ratio, format!("{verb}, {} connection", connection.label()))
            })
        })
        .collect();
    outcomes.push(worst_at_most(
        format!(
            "bulk {}-row INSERT/UPDATE/DELETE ≤ {MAX_BULK_VS_FLOOR:.1}× the floor's time, \
             fresh and pooled connection",
            report.bulk_rows
        ),
        MAX_BULK_VS_FLOOR,
        floor_cells,
    ));
    let speedups = Connection::ALL
        .map(|connection| {
            let speedup = bulk_speedup(report, Verb::Update, connection, Variant::Generic);
            (
                speedup,
                format!("UPDATE, {} connection", connection.label()),
            )
        })
        .to_vec();
    outcomes.push(worst_at_least(
        format!("bulk UPDATE ≥ {MIN_BULK_UPDATE_SPEEDUP:.1}× faster than the generic row-level jsonb trigger"),
        MIN_BULK_UPDATE_SPEEDUP,
        speedups,
    ));
    let speedups = [Verb::Insert, Verb::Delete]
        .iter()
        .flat_map(|&verb| {
            Connection::ALL.map(|connection| {
                (
                    bulk_speedup(report, verb, connection, Variant::Statement),
                    format!("{verb}, {} connection", connection.label()),
                )
            })
        })
        .collect();
    outcomes.push(worst_at_least(
        format!(
            "bulk {}-row INSERT and DELETE ≥ {MIN_BULK_SPEEDUP_VS_STATEMENT:.1}× faster than \
             the generic statement-level trigger, fresh and pooled connection",
            report.bulk_rows
        ),
        MIN_BULK_SPEEDUP_VS_STATEMENT,
        speedups,
    ));
    let codegen = report.codegen.as_ref().and_then(|c| c.as_ref().ok());
    let first = codegen.and_then(|c| median_ms(&c.first));
    let noop = codegen.and_then(|c| median_ms(&c.noop));
    let schema = codegen.map_or_else(
        || "of the synthetic schema".to_owned(),
        |c| format!("{} tables × {} columns", c.tables, c.columns),
    );
    outcomes.push(time_target(
        format!("codegen {schema} < {:.0} s", MAX_CODEGEN_MS / 1000.0),
        first,
        MAX_CODEGEN_MS,
    ));
    outcomes.push(time_target(
        format!("codegen no-op rerun < {:.1} s", MAX_NOOP_MS / 1000.0),
        noop,
        MAX_NOOP_MS,
    ));
    if let Some(Ok(generated)) = &report.generated_compile {
        for size in &generated.sizes {
            let per_table = size.wall_ms().map(|ms| ms / size.tables.max(1) as f64);
            outcomes.push(match per_table {
                Some(ms) => Outcome {
                    target: format!(
                        "clean debug build of the generated code ≤ {MAX_COMPILE_MS_PER_TABLE:.0} ms \
                         per {}-column table ({} tables)",
                        generated.columns, size.tables
                    ),
                    measured: format!("{ms:.1} ms per table"),
                    met: Some(ms <= MAX_COMPILE_MS_PER_TABLE),
                },
                None => not_measured(format!("generated code, {} tables", size.tables)),
            });
        }
    }
    outcomes.extend(crate::partitioned::targets(report));
    outcomes
}

fn context_words(context: bool) -> &'static str {
    if context { "context" } else { "no context" }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A "≥ min" target over several cells: the lowest ratio decides.
fn worst_at_least(target: String, min: f64, cells: Vec<(Option<f64>, String)>) -> Outcome {
    let worst = cells
        .into_iter()
        .filter_map(|(r, what)| r.map(|r| (r, what)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    match worst {
        Some((ratio, what)) => Outcome {
            target,
            measured: format!("worst {ratio:.2}× ({what})"),
            met: Some(ratio >= min),
        },
        None => not_measured(target),
    }
}

/// A "≤ max" target over several cells: the highest ratio decides.
fn worst_at_most(target: String, max: f64, cells: Vec<(Option<f64>, String)>) -> Outcome {
    let worst = cells
        .into_iter()
        .filter_map(|(r, what)| r.map(|r| (r, what)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match worst {
        Some((ratio, what)) => Outcome {
            target,
            measured: format!("worst {ratio:.2}× ({what})"),
            met: Some(ratio <= max),
        },
        None => not_measured(target),
    }
}

fn time_target(target: String, ms: Option<f64>, max: f64) -> Outcome {
    match ms {
        Some(ms) => Outcome {
            target,
            measured: format!("{ms:.0} ms"),
            met: Some(ms < max),
        },
        None => not_measured(target),
    }
}

fn not_measured(target: String) -> Outcome {
    Outcome {
        target,
        measured: "not measured".into(),
        met: None,
    }
}

/// ✓, ✗, or – for a target not measured.
pub fn mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "✓",
        Some(false) => "✗",
        None => "–",
    }
}
