//! Command-line options of `audit-bench`.
//!
//! Hand-parsed: the suite has a handful of flags, and a CLI crate would add compile time
//! to every workspace build for no gain.

use std::path::PathBuf;
use std::time::Duration;

/// What to run and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Where the markdown report is written.
    pub out: PathBuf,
    /// Seconds of each pgbench measurement.
    pub duration: Duration,
    /// Transactions per client instead of a duration (quick mode), if set.
    pub transactions: Option<u64>,
    /// Rounds of every measurement; the report shows the median of the rounds.
    pub rounds: usize,
    /// Rows of the benchmark table before each measurement.
    pub table_rows: u64,
    /// Rows touched by each bulk statement.
    pub bulk_rows: u64,
    /// Client counts of the single-row measurements.
    pub clients: Vec<u32>,
    /// Tables of the synthetic schema of the code generation measurement.
    pub codegen_tables: usize,
    /// Columns per table of the synthetic schema.
    pub codegen_columns: usize,
    /// Whether the database measurements run (single-row, bulk, profile).
    pub database: bool,
    /// Whether the code generation timing runs (it builds a debug binary first).
    pub codegen: bool,
    /// Whether the clean compile time of the build-dependencies is measured (minutes).
    pub compile_time: bool,
    /// Table counts of the clean builds of the generated code (empty: not measured).
    pub generated_tables: Vec<usize>,
    /// Whether the benchmark database keeps the server's `synchronous_commit`; by default
    /// it is turned off there, so single-row figures measure the work of auditing rather
    /// than the disk's flush latency (which would hide it, and which other disk users make
    /// noisy).
    pub synchronous_commit: bool,
    /// Whether this is the quick smoke mode (printed in the report).
    pub quick: bool,
    /// Whether partitioned activity is measured against one table (when the server has
    /// pg_partman).
    pub partitioned: bool,
    /// Whether only the partitioned activity measurements run (of the database ones).
    pub partitioned_only: bool,
    /// Activity rows of the partitioned history the questions are asked of.
    pub history_rows: u64,
    /// Activity rows of the one-table history they are compared with.
    pub history_compare_rows: u64,
    /// Activity rows of the month expired by retention and by DELETE.
    pub retention_rows: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            out: workspace_root().join("BENCHMARKS.md"),
            duration: Duration::from_secs(2),
            transactions: None,
            rounds: 3,
            table_rows: 100_000,
            bulk_rows: 20_000,
            clients: vec![1, 4],
            codegen_tables: 500,
            codegen_columns: 20,
            database: true,
            codegen: true,
            compile_time: true,
            generated_tables: vec![100, 500],
            synchronous_commit: false,
            quick: false,
            partitioned: true,
            partitioned_only: false,
            history_rows: 10_000_000,
            history_compare_rows: 1_000_000,
            retention_rows: 1_000_000,
        }
    }
}

impl Options {
    /// The quick smoke mode: every measurement once, briefly, on small data.
    pub fn quick() -> Self {
        Self {
            duration: Duration::from_secs(1),
            transactions: Some(100),
            rounds: 1,
            table_rows: 5_000,
            bulk_rows: 1_000,
            codegen_tables: 50,
            compile_time: false,
            generated_tables: Vec::new(),
            quick: true,
            history_rows: 100_000,
            history_compare_rows: 20_000,
            retention_rows: 20_000,
            ..Self::default()
        }
    }

    /// Parses the arguments after the program name.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Self, String> {
        let args: Vec<String> = args.into_iter().collect();
        // --quick sets the baseline the other flags then adjust, wherever it stands.
        let mut options = if args.iter().any(|a| a == "--quick") {
            Self::quick()
        } else {
            Self::default()
        };
        let mut iter = args.into_iter();
        while let Some(arg) = iter.next() {
            let mut value = |name: &str| iter.next().ok_or_else(|| format!("{name} needs a value"));
            match arg.as_str() {
                "--quick" => {}
                "--compile-time" => options.compile_time = true,
                "--no-compile-time" => options.compile_time = false,
                "--synchronous-commit" => options.synchronous_commit = true,
                "--no-codegen" => options.codegen = false,
                "--no-generated-compile" => options.generated_tables.clear(),
                "--generated-tables" => {
                    options.generated_tables = value("--generated-tables")?
                        .split(',')
                        .map(|c| number(c).map(|n| n as usize))
                        .collect::<Result<_, _>>()?
                }
                "--no-db" => options.database = false,
                "--no-partitioned" => options.partitioned = false,
                "--partitioned-only" => options.partitioned_only = true,
                "--history-rows" => options.history_rows = number(&value("--history-rows")?)?,
                "--history-compare-rows" => {
                    options.history_compare_rows = number(&value("--history-compare-rows")?)?
                }
                "--retention-rows" => options.retention_rows = number(&value("--retention-rows")?)?,
                "--out" => options.out = PathBuf::from(value("--out")?),
                "--duration" => {
                    options.duration = Duration::from_secs(number(&value("--duration")?)?);
                    options.transactions = None;
                }
                "--transactions" => options.transactions = Some(number(&value("--transactions")?)?),
                "--rounds" => options.rounds = number(&value("--rounds")?)?.max(1) as usize,
                "--rows" => options.table_rows = number(&value("--rows")?)?,
                "--bulk-rows" => options.bulk_rows = number(&value("--bulk-rows")?)?,
                "--clients" => {
                    options.clients = value("--clients")?
                        .split(',')
                        .map(|c| number(c).map(|n| n as u32))
                        .collect::<Result<_, _>>()?
                }
                "--codegen-tables" => {
                    options.codegen_tables = number(&value("--codegen-tables")?)? as usize
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
            }
        }
        if options.bulk_rows > options.table_rows {
            return Err("--bulk-rows cannot exceed --rows".to_owned());
        }
        Ok(options)
    }
}

impl Options {
    /// The pgbench run length of one measurement.
    pub fn pgbench_length(&self) -> crate::pgbench::Length {
        match self.transactions {
            Some(n) => crate::pgbench::Length::Transactions(n),
            None => crate::pgbench::Length::Time(self.duration),
        }
    }
}

fn number(text: &str) -> Result<u64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))
}

/// The workspace root, where the report goes by default.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// The help text.
pub const USAGE: &str = "\
usage: cargo run --release -p audit-bench -- [options]

  --out FILE            report file (default: BENCHMARKS.md at the workspace root)
  --quick               smoke mode: 1 round, 100 transactions per client, small tables
  --duration SECS       seconds per pgbench measurement (default 2)
  --transactions N      run N transactions per pgbench client instead of a duration
  --rounds N            rounds of every measurement, medians reported (default 3)
  --rows N              rows of the benchmark table (default 100000)
  --bulk-rows N         rows per bulk statement (default 20000)
  --clients LIST        pgbench client counts (default 1,4)
  --codegen-tables N    tables of the synthetic code generation schema (default 500)
  --no-codegen          skip the code generation timing
  --generated-tables LIST
                        table counts of the clean debug builds of the generated code,
                        and the largest for the incremental rebuild after a schema
                        change (default 100,500; off with --quick)
  --no-generated-compile
                        skip the compile time of the generated code
  --no-db               skip the database measurements (single-row, bulk, profile)
  --no-partitioned      skip partitioned activity against one table (skipped with a note
                        when the server has no pg_partman 4.x)
  --partitioned-only    of the database measurements, run only partitioned activity
  --history-rows N      activity rows of the partitioned history the questions are asked of
                        (default 10000000, over 13 monthly partitions)
  --history-compare-rows N
                        activity rows of the one-table history (default 1000000)
  --retention-rows N    activity rows of the month expired by retention and by DELETE
                        (default 1000000)
  --synchronous-commit  keep the server's synchronous_commit in the benchmark database
                        (default: off there, so the figures show the cost of auditing
                        rather than the disk's flush latency)
  --compile-time        time a clean build of audit-codegen as a build-dependency
                        (on by default, off with --quick)
  --no-compile-time     skip it
                        (several minutes on 2 cores)

The database server is DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres when a
server answers there, else a private cluster started from the installed PostgreSQL (with
fsync off, so not comparable with a real server); a throw-away database is created on it
and dropped at the end.";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn quick_is_a_baseline_other_flags_adjust() {
        let options = parse(&["--rounds", "2", "--quick"]).unwrap();
        assert!(options.quick);
        assert_eq!(options.rounds, 2);
        assert_eq!(options.transactions, Some(100));
        let timed = parse(&["--quick", "--duration", "2"]).unwrap();
        assert_eq!(
            timed.pgbench_length(),
            crate::pgbench::Length::Time(Duration::from_secs(2))
        );
    }

    #[test]
    fn clients_and_errors() {
        assert_eq!(parse(&["--clients", "1,2,8"]).unwrap().clients, [1, 2, 8]);
        assert!(parse(&["--rounds"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert_eq!(
            parse(&["--generated-tables", "10,20"])
                .unwrap()
                .generated_tables,
            [10, 20]
        );
        assert!(
            parse(&["--no-generated-compile"])
                .unwrap()
                .generated_tables
                .is_empty()
        );
        assert!(parse(&["--rows", "10", "--bulk-rows", "20"]).is_err());
    }
}
