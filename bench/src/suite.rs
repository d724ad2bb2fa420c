//! The whole run: database measurements, code generation, optional compile time.

use crate::database::{Database, db_err};
use crate::machine::Machine;
use crate::model::Report;
use crate::options::Options;
use crate::{
    bulk, codegen_runner, compile_time, generated_compile, partitioned, profile, single_row,
};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Runs everything `options` asks for and returns the report (not yet written).
pub fn run(options: &Options, command: &str) -> Result<Report, String> {
    let started = Instant::now();
    let mut report = Report {
        command: command.to_owned(),
        quick: options.quick,
        started: utc_now(),
        bulk_rows: options.bulk_rows,
        bulk_timeout: bulk::timeout(options),
        settings: format!(
            "Settings: {} per pgbench run, {} round{} (bulk: at least 3 unless quick), \
             {}-row table reset before every measurement, bulk statements of {} rows, \
             pgbench clients {}, `synchronous_commit` {} in the benchmark database.",
            match options.transactions {
                Some(n) => format!("{n} transactions per client"),
                None => format!("{} s", options.duration.as_secs()),
            },
            options.rounds,
            if options.rounds == 1 { "" } else { "s" },
            options.table_rows,
            options.bulk_rows,
            options
                .clients
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            if options.synchronous_commit {
                "as the server has it"
            } else {
                "off"
            }
        ),
        ..Report::default()
    };
    if options.database {
        database_measurements(options, &mut report)?;
    } else {
        let mut server = audit_tests::connect(&audit_tests::server_url());
        report.machine = Machine::describe(&mut server).map_err(db_err)?;
    }
    if options.codegen {
        eprintln!(
            "audit-bench: code generation timing ({} tables, debug build)",
            options.codegen_tables
        );
        report.codegen = Some(codegen_runner::run(
            options.codegen_tables,
            options.codegen_columns,
            options.rounds.max(3),
        ));
    }
    if options.compile_time {
        eprintln!("audit-bench: clean build of audit-codegen as a build-dependency");
        report.compile_time = Some(compile_time::measure());
    }
    if !options.generated_tables.is_empty() {
        eprintln!(
            "audit-bench: compile time of the generated code ({} tables)",
            options
                .generated_tables
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        report.generated_compile = Some(generated_compile::measure(
            &options.generated_tables,
            options.codegen_columns,
            options.rounds,
        ));
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The measurements on the throw-away database, which is dropped at the end.
fn database_measurements(options: &Options, report: &mut Report) -> Result<(), String> {
    eprintln!(
        "audit-bench: creating the benchmark database ({} rows)",
        options.table_rows
    );
    let mut db = Database::create(
        options.table_rows,
        !options.quick,
        options.synchronous_commit,
    )?;
    report.machine = Machine::describe(db.client()).map_err(db_err)?;
    if let Some(missing) = db.ours_missing() {
        eprintln!("audit-bench: not measuring ours: {missing}");
        report.notes.push(format!("Ours not measured: {missing}."));
    }
    if !options.partitioned_only {
        report.single_row = single_row::run(&mut db, options, &mut report.notes)?;
        report.bulk = bulk::run(&mut db, options, &mut report.notes)?;
    }
    if options.partitioned || options.partitioned_only {
        report.partitioned = Some(partitioned::run(&mut db, options, &mut report.notes)?);
    }
    if !options.partitioned_only {
        eprintln!("audit-bench: profiling passes (track_functions)");
        report.profile = profile::run(&mut db, options, &mut report.notes)?;
    }
    Ok(())
}

/// The current UTC time as `YYYY-MM-DD HH:MM` (no date crate needed for one stamp).
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
