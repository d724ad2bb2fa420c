//! The markdown report: medians, ratios and targets, the machine, the function profile
//! and every round's raw value.

use crate::model::{Connection, History, Report, Variant, Verb};
use crate::stats::median_ms;
use crate::targets::{self, mark};
use std::fmt::Write;

/// Renders the whole report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    machine(&mut out, report);
    target_table(&mut out, report);
    single_row(&mut out, report);
    bulk(&mut out, report);
    crate::partitioned::report::render(&mut out, report);
    codegen(&mut out, report);
    compile_time(&mut out, report);
    generated_compile(&mut out, report);
    profile(&mut out, report);
    raw(&mut out, report);
    notes(&mut out, report);
    out
}

fn header(out: &mut String, report: &Report) {
    let _ = writeln!(out, "# Benchmarks\n");
    if report.quick {
        let _ = writeln!(
            out,
            "> **Quick smoke run** (`--quick`): tiny tables, one round of very short measurements; \
             these figures only show that the harness works.\n"
        );
    }
    let _ = writeln!(
        out,
        "Produced by the `audit-bench` suite ([bench/README.md](bench/README.md)) with \
         `{}` on {} UTC; the run took {}.\n\n{}\n",
        report.command,
        report.started,
        minutes(report.elapsed.as_secs()),
        report.settings
    );
    let _ = writeln!(
        out,
        "Variants: **no audit** (plain table); **ours** (the migrations `audit_codegen` \
         generates, applied unchanged); **generic (row, jsonb)** (a classic generic trigger \
         written as the baseline: one plpgsql function for every table fired for each row, \
         `to_jsonb(NEW)`, a SQL `jsonb - jsonb` diff, excluded columns from `TG_ARGV`, \
         transaction row by `INSERT … ON CONFLICT` on the xid); **hstore (row)** (the \
         classic row-level hstore audit trigger, written from its technique: `hstore(NEW) \
         - hstore(OLD)`, one row per change into an indexed log table that also keeps the \
         session user, the client, three timestamps and the query text; it records no \
         application actor, so with a context it gets the same `set_config` stand-in as no \
         audit); **generic (statement)** (a generic statement-level trigger over the \
         statement's transition tables, one per verb: `to_jsonb` of every row, updates \
         paired on the key and diffed with a `jsonb - jsonb` function, every activity \
         linked to a transaction row found or created by xid, its own `set_context`; its \
         activity table has two indexes, the key and the transaction link); **floor** (no \
         trigger: the same statement also writes the same activity rows by hand, i.e. the \
         cost of storing them at all; single-row without a context only). Medians of the \
         rounds; variants interleaved within each round.\n"
    );
}

fn minutes(secs: u64) -> String {
    format!("{} min {:02} s", secs / 60, secs % 60)
}

fn machine(out: &mut String, report: &Report) {
    let m = &report.machine;
    let _ = writeln!(out, "## Machine\n");
    let _ = writeln!(
        out,
        "- CPU: {} × {}",
        m.cpus,
        m.cpu_model.as_deref().unwrap_or("unknown model")
    );
    if let Some(mib) = m.memory_mib {
        let _ = writeln!(out, "- Memory: {:.1} GiB", mib as f64 / 1024.0);
    }
    let _ = writeln!(out, "- Server: {}", m.postgres);
    let settings: Vec<String> = m
        .settings
        .iter()
        .map(|(k, v)| format!("`{k}={v}`"))
        .collect();
    let _ = writeln!(out, "- Settings: {}\n", settings.join(", "));
}

fn target_table(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(out, "| target | measured | met |\n|---|---|:-:|");
    for outcome in targets::evaluate(report) {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            outcome.target,
            outcome.measured,
            mark(outcome.met)
        );
    }
    let _ = writeln!(out);
}

fn single_row(out: &mut String, report: &Report) {
    if report.single_row.is_empty() {
        let _ = writeln!(out, "## Single-row write path\n\nNot run (`--no-db`).\n");
        return;
    }
    let rounds = report.single_row.first().map_or(0, |c| c.tps.len());
    let _ = writeln!(
        out,
        "## Single-row write path (pgbench, TPS, median of {rounds})\n\n\
         One statement per transaction; with a context, each transaction is `BEGIN`, the \
         variant's `set_context(actor, addr, context)` (no audit: a `set_config` standing \
         in for it, so the round trips are the same), the statement, `COMMIT`. UPDATE sets \
         one or two columns of a random row; DELETE removes a distinct existing row each \
         time. The floor (without a context only) is the same statement writing its \
         activity row by hand: *floor / no audit* is the most any trigger storing those \
         rows could reach. With a context the cells run from an empty transaction table \
         and again from a populated one (rows of earlier transactions, analyzed). Every \
         cell runs with pgbench `-M simple` (each statement parsed and planned every time) \
         and `-M prepared` (prepared once per connection). *ours / x* is the TPS of ours \
         over that of x.\n"
    );
    let _ = writeln!(
        out,
        "| statement | clients | context | protocol | no audit | ours | {} | {} | {} | floor \
         | ours / no audit | | floor / no audit | ours / floor | ours / generic | | \
         ours / hstore | | ours / statement | |\n\
         |---|--:|---|---|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|--:|:-:|--:|:-:|--:|:-:|",
        Variant::Generic.label(),
        Variant::Hstore.label(),
        Variant::Statement.label(),
    );
    for at in targets::single_rows(report) {
        let context = at.context;
        let tps = |v| targets::tps(report, at, v);
        let vs = |v| targets::single_ratio(report, at, v);
        let vs_none = vs(Variant::None);
        let vs_generic = vs(Variant::Generic);
        let vs_hstore = vs(Variant::Hstore);
        let vs_statement = vs(Variant::Statement);
        let ceiling = targets::floor_ratio(report, at);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} \
             | {} | {} | {} | {} |",
            at.verb,
            at.clients,
            context_label(at.context, at.history, report),
            at.protocol.label(),
            fmt(tps(Variant::None), 0),
            fmt(tps(Variant::Ours), 0),
            fmt(tps(Variant::Generic), 0),
            fmt(tps(Variant::Hstore), 0),
            fmt(tps(Variant::Statement), 0),
            floor_only(context, fmt(tps(Variant::Floor), 0)),
            ratio(vs_none),
            check_at_least(vs_none, Some(targets::min_vs_none(context))),
            floor_only(context, ratio(ceiling)),
            floor_only(context, ratio(vs(Variant::Floor))),
            ratio(vs_generic),
            check_at_least(vs_generic, targets::min_vs_generic(at.verb)),
            ratio(vs_hstore),
            check_at_least(vs_hstore, Some(targets::MIN_VS_HSTORE)),
            ratio(vs_statement),
            check_at_least(vs_statement, Some(targets::MIN_VS_STATEMENT)),
        );
    }
    let _ = writeln!(out);
}

/// The context column of a single-row cell: no, yes, or yes with a populated history.
fn context_label(context: bool, history: History, report: &Report) -> String {
    match (context, history) {
        (false, _) => "no".to_owned(),
        (true, History::Empty) => "yes".to_owned(),
        (true, History::Populated) => format!(
            "yes, {} transaction rows",
            if report.quick {
                "10,000".to_owned()
            } else {
                "1,000,000".to_owned()
            }
        ),
    }
}

/// A floor figure of a single-row cell: the floor is measured without a context only.
fn floor_only(context: bool, figure: String) -> String {
    if context { "–".to_owned() } else { figure }
}

fn bulk(out: &mut String, report: &Report) {
    if report.bulk.is_empty() {
        let _ = writeln!(out, "## Bulk statements\n\nNot run (`--no-db`).\n");
        return;
    }
    let rounds = report.bulk.first().map_or(0, |c| c.times.len());
    let _ = writeln!(
        out,
        "## Bulk statements ({} rows, one transaction each, ms, median of {rounds})\n\n\
         Timed from the client: the statement and its `COMMIT`, one round trip. *Fresh*: \
         on a new connection. *Pooled*: on a long-lived connection that ran single-row \
         INSERT, UPDATE and DELETE statements on the same table just before, so every \
         plan the audit functions keep was made for one row, as on a pooled connection. \
         *x / ours* is the time of x over that of ours: how many times faster ours is. \
         A statement still running after {} s is cancelled and its time shown as \
         *≥* that (a lower bound; the Notes list it).\n",
        report.bulk_rows,
        report.bulk_timeout.as_secs()
    );
    let _ = writeln!(
        out,
        "| statement | connection | no audit | ours | {} | {} | {} | floor | ours / no audit \
         | ours / floor | | generic / ours | | hstore / ours | statement / ours | |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|--:|:-:|--:|--:|:-:|",
        Variant::Generic.label(),
        Variant::Hstore.label(),
        Variant::Statement.label(),
    );
    for verb in Verb::ALL {
        for connection in Connection::ALL {
            let ms = |v| targets::bulk_ms(report, verb, connection, v);
            // A median that includes a cancelled round is a lower bound.
            let speedup = |v| targets::bulk_speedup(report, verb, connection, v);
            let cancelled = |v| {
                report
                    .bulk_cell(verb, connection, v)
                    .is_some_and(|c| c.cancelled > 0)
            };
            let time = |v| format!("{}{}", if cancelled(v) { "≥ " } else { "" }, fmt(ms(v), 1));
            // x / ours, marked as a bound when either time is one.
            let over_ours = |v| {
                let bound = match (cancelled(v), cancelled(Variant::Ours)) {
                    (true, false) => "≥ ",
                    (false, true) => "≤ ",
                    _ => "",
                };
                format!("{bound}{}", ratio(speedup(v)))
            };
            let div = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
            let vs_floor = div(ms(Variant::Ours), ms(Variant::Floor));
            let vs_generic = speedup(Variant::Generic);
            let vs_statement = speedup(Variant::Statement);
            let _ = writeln!(
                out,
                "| {verb} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} \
                 | {} |",
                connection.label(),
                time(Variant::None),
                time(Variant::Ours),
                time(Variant::Generic),
                time(Variant::Hstore),
                time(Variant::Statement),
                time(Variant::Floor),
                ratio(div(ms(Variant::Ours), ms(Variant::None))),
                ratio(vs_floor),
                check_at_most(vs_floor, Some(targets::MAX_BULK_VS_FLOOR)),
                over_ours(Variant::Generic),
                check_at_least(
                    vs_generic,
                    (verb == Verb::Update).then_some(targets::MIN_BULK_UPDATE_SPEEDUP)
                ),
                over_ours(Variant::Hstore),
                over_ours(Variant::Statement),
                check_at_least(
                    vs_statement,
                    (verb != Verb::Update).then_some(targets::MIN_BULK_SPEEDUP_VS_STATEMENT)
                ),
            );
        }
    }
    let _ = writeln!(out);
}

fn codegen(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "## Code generation (dev profile, as build scripts run)\n\n\
         The generator and the crates it spends its time in (syn, proc-macro2, quote, \
         prettyplease) at `opt-level = 3`, as this workspace's Cargo.toml sets and \
         audit-codegen's docs recommend for applications; everything else unoptimized.\n"
    );
    match &report.codegen {
        None => {
            let _ = writeln!(out, "Not run (`--no-codegen`).\n");
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "Failed: {e}\n");
        }
        Some(Ok(c)) => {
            let _ = writeln!(
                out,
                "Synthetic schema: {} tables × {} columns of mixed types, every tenth with a \
                 composite key, every third with an excluded column; the manifest audits \
                 every table. Timed: {}.\n",
                c.tables, c.columns, c.pipeline
            );
            let first = median_ms(&c.first);
            let noop = median_ms(&c.noop);
            let _ = writeln!(
                out,
                "| run | time (median of {}) | target | |\n|---|--:|--:|:-:|\n\
                 | first run ({} files, {:.1} MiB written) | {} ms | < {:.0} ms | {} |\n\
                 | no-op rerun | {} ms | < {:.0} ms | {} |\n",
                c.first.len(),
                c.files,
                c.bytes as f64 / (1024.0 * 1024.0),
                fmt(first, 0),
                targets::MAX_CODEGEN_MS,
                mark(first.map(|ms| ms < targets::MAX_CODEGEN_MS)),
                fmt(noop, 1),
                targets::MAX_NOOP_MS,
                mark(noop.map(|ms| ms < targets::MAX_NOOP_MS)),
            );
            for (run, phases) in [
                ("first run", &c.first_phases),
                ("no-op rerun", &c.noop_phases),
            ] {
                if phases.is_empty() {
                    continue;
                }
                let steps: Vec<String> = phases
                    .iter()
                    .map(|(name, d)| format!("{name} {:.0} ms", d.as_secs_f64() * 1000.0))
                    .collect();
                let _ = writeln!(out, "- Steps of the last {run}: {}.", steps.join(", "));
            }
            let _ = writeln!(out);
        }
    }
}

fn compile_time(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Compile time of the build-dependencies\n");
    match &report.compile_time {
        None => {
            let _ = writeln!(
                out,
                "Not measured in this run (`--no-compile-time` or `--quick`).\n"
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "Failed: {e}\n");
        }
        Some(Ok(c)) => {
            let _ = writeln!(
                out,
                "Clean `cargo build` (debug) of a new crate with `audit-codegen` (default \
                 features) as its only build-dependency and the same `opt-level = 3` for the \
                 generator's crates, own target directory, {} jobs: \
                 **{:.1} s**, {} crates compiled.\n",
                report.machine.cpus,
                c.wall.as_secs_f64(),
                c.crates
            );
        }
    }
}

fn generated_compile(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Compile time of the generated code\n");
    let generated = match &report.generated_compile {
        None => {
            let _ = writeln!(
                out,
                "Not measured in this run (`--no-generated-compile` or `--quick`).\n"
            );
            return;
        }
        Some(Err(e)) => {
            let _ = writeln!(out, "Failed: {e}\n");
            return;
        }
        Some(Ok(g)) => g,
    };
    let _ = writeln!(
        out,
        "The typed Rust generated for the synthetic schema ({} columns per table, as in the \
         code generation timing) included in a library crate whose only dependency is \
         `audit-runtime` (already built), clean `cargo build` in the debug profile with \
         `CARGO_INCREMENTAL=0`, {} jobs; median of the rounds.\n",
        generated.columns, report.machine.cpus
    );
    let _ = writeln!(
        out,
        "| tables | lines | lines per table | KiB | build (wall) | per table | target | | \
         CPU time | CPU per table |\n|--:|--:|--:|--:|--:|--:|--:|:-:|--:|--:|"
    );
    for size in &generated.sizes {
        let tables = size.tables.max(1) as f64;
        let (build, per_table, met) = match size.wall_ms() {
            Some(ms) => {
                let per = ms / tables;
                (
                    format!("{:.1} s", ms / 1000.0),
                    format!("{per:.1} ms"),
                    mark(Some(per <= targets::MAX_COMPILE_MS_PER_TABLE)),
                )
            }
            None => ("–".to_owned(), "–".to_owned(), mark(None)),
        };
        let (cpu, cpu_per_table) = match size.cpu_ms() {
            Some(ms) => (
                format!("{:.1} s", ms / 1000.0),
                format!("{:.1} ms", ms / tables),
            ),
            None => ("–".to_owned(), "–".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {build} | {per_table} | ≤ {:.0} ms | {met} | {cpu} | \
             {cpu_per_table} |",
            size.tables,
            size.lines,
            size.lines / size.tables.max(1),
            size.bytes as f64 / 1024.0,
            targets::MAX_COMPILE_MS_PER_TABLE,
        );
    }
    if let Some(incremental) = generated.incremental {
        let cpu = incremental
            .cpu
            .map(|c| format!(", {:.1} s CPU", c.as_secs_f64()))
            .unwrap_or_default();
        // Against the clean build of as many tables: what share of the work a one-table
        // change still costs.
        let share = generated
            .sizes
            .iter()
            .find(|s| s.tables == generated.incremental_tables)
            .and_then(|s| s.wall_ms())
            .map(|clean| {
                format!(
                    " ({:.2}× the clean build's wall time)",
                    incremental.wall.as_secs_f64() * 1000.0 / clean
                )
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\nIncremental rebuild (dev profile, incremental compilation on) of the {}-table \
             module after one column is added to `{}` and the code is generated again: \
             **{:.1} s**{cpu}{share}.",
            generated.incremental_tables,
            generated.changed_table,
            incremental.wall.as_secs_f64()
        );
    }
    let _ = writeln!(
        out,
        "\nCPU time is that of the compiler processes (user and system); on a machine \
         shared with other work it moves much less than the wall time."
    );
    let _ = writeln!(out);
}

fn profile(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "## Function profile (`pg_stat_user_functions`)\n\n\
         Extra passes with `track_functions = all`, not part of the timed rounds.\n"
    );
    if report.profile.is_empty() {
        let _ = writeln!(out, "No data.\n");
        return;
    }
    for pass in &report.profile {
        let _ = writeln!(
            out,
            "{}:\n\n| function | calls | total ms | self ms | self µs / call |\n\
             |---|--:|--:|--:|--:|",
            capitalised(&pass.title)
        );
        for f in &pass.functions {
            let per_call = if f.calls > 0 {
                f.self_ms * 1000.0 / f.calls as f64
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "| `{}.{}` | {} | {:.1} | {:.1} | {:.1} |",
                f.schema, f.name, f.calls, f.total_ms, f.self_ms, per_call
            );
        }
        let _ = writeln!(out);
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn raw(out: &mut String, report: &Report) {
    let _ = writeln!(out, "## Every round\n");
    let _ = writeln!(out, "| measurement | variant | rounds |\n|---|---|---|");
    for c in &report.single_row {
        let values: Vec<String> = c.tps.iter().map(|t| format!("{t:.0}")).collect();
        let _ = writeln!(
            out,
            "| {} {} client{} {} context={} (TPS) | {} | {} |",
            c.verb,
            c.clients,
            if c.clients == 1 { "" } else { "s" },
            c.protocol.label(),
            context_label(c.context, c.history, report),
            c.variant.label(),
            values.join(", ")
        );
    }
    for c in &report.bulk {
        let values: Vec<String> = c
            .times
            .iter()
            .map(|t| format!("{:.1}", t.as_secs_f64() * 1000.0))
            .collect();
        let _ = writeln!(
            out,
            "| bulk {} {} connection (ms) | {} | {} |",
            c.verb,
            c.connection.label(),
            c.variant.label(),
            values.join(", ")
        );
    }
    if let Some(Ok(generated)) = &report.generated_compile {
        for size in &generated.sizes {
            let values: Vec<String> = size
                .clean
                .iter()
                .map(|t| match t.cpu {
                    Some(cpu) => {
                        format!("{:.1} ({:.1} CPU)", t.wall.as_secs_f64(), cpu.as_secs_f64())
                    }
                    None => format!("{:.1}", t.wall.as_secs_f64()),
                })
                .collect();
            let _ = writeln!(
                out,
                "| clean build of the generated code, {} tables (s) | ours | {} |",
                size.tables,
                values.join(", ")
            );
        }
    }
    let _ = writeln!(out);
}

fn notes(out: &mut String, report: &Report) {
    if report.notes.is_empty() {
        return;
    }
    let _ = writeln!(out, "## Notes\n");
    for note in &report.notes {
        let _ = writeln!(out, "- {note}");
    }
    let _ = writeln!(out);
}

fn fmt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.decimals$}"))
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}×"))
}

fn check_at_least(value: Option<f64>, min: Option<f64>) -> String {
    match min {
        Some(min) => format!("{} ≥ {min:.2}", mark(value.map(|v| v >= min))),
        None => String::new(),
    }
}

fn check_at_most(value: Option<f64>, max: Option<f64>) -> String {
    match max {
        Some(max) => format!("{} ≤ {max:.2}", mark(value.map(|v| v <= max))),
        None => String::new(),
    }
}
