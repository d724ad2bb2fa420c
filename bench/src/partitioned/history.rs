//! The three questions and `as_of` on a large history: activity partitioned by month
//! (10,000,000 rows over 13 populated monthly partitions) against one table (1,000,000
//! rows), through `audit_runtime::query` as applications call them.
//!
//! Each history is bulk-filled with `INSERT … SELECT generate_series` (no triggers) into
//! the unpartitioned tables the generated `audit_schema` migration makes; the partitioned
//! one is then converted by the `audit_activity_partition` migration `audit_codegen`
//! plans when `[activity] partition = "month"` is added to the manifest, as an existing
//! installation is converted.

use super::install::{self, Activity, Generated};
use super::{HistoryFigures, QueryFigures};
use crate::database::{Database, db_err};
use audit_runtime::query::{self, TimeRange};
use audit_runtime::{AuditTrail, AuditedTable, DataPart, DecodeError};
use audit_tests::rng::Rng;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use postgres::Client;
use serde_json::{Map, Value};
use std::time::{Duration as Elapsed, Instant};

/// The audit schema of the partitioned history.
pub const PARTITIONED_SCHEMA: &str = "hist_part";
/// The audit schema of the unpartitioned history.
pub const ONE_SCHEMA: &str = "hist_one";
/// Months of history (the months before the current one).
pub const MONTHS: u32 = 13;
/// Activity rows per actor: the actors grow with the history (1,000 at 1,000,000 rows),
/// so that an actor's week holds as many entries at every size, as when an application
/// grows by its users.
pub const ROWS_PER_ACTOR: i64 = 1000;

/// A synthetic history: `rows` activities of `rows / 10` records (an insert, then
/// updates) evenly spread from `start` over `days`; five consecutive activities per
/// transaction; a transaction in five has no context, the others belong to one of
/// [`Shape::actors`] actors. Ids of transactions start after `first_transaction`.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Activities.
    pub rows: i64,
    /// The first moment of the history.
    pub start: DateTime<Utc>,
    /// Days of history.
    pub days: i64,
    /// Transactions ids (and xids) start after this one.
    pub first_transaction: i64,
}

impl Shape {
    /// Records (ids `0..records`).
    pub fn records(&self) -> i64 {
        (self.rows / 10).max(1)
    }

    /// Actors (`actor-0` …), one per [`ROWS_PER_ACTOR`] activities.
    pub fn actors(&self) -> i64 {
        (self.rows / ROWS_PER_ACTOR).max(10)
    }

    /// Transactions the history spans.
    pub fn transactions(&self) -> i64 {
        (self.rows + 4) / 5
    }
}

/// The first moment of the month `back` months before the current one (UTC).
pub fn month_start(back: u32) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let months = today.year() * 12 + today.month0() as i32 - back as i32;
    let day = NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .expect("a first of the month");
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Inserts the history of `shape` into `schema`'s audit tables as activity of
/// `public.table` and analyzes them.
pub fn fill(client: &mut Client, schema: &str, table: &str, shape: &Shape) -> Result<(), String> {
    let rows = shape.rows;
    let records = shape.records();
    let offset = shape.first_transaction;
    let start = shape.start.to_rfc3339();
    // Seconds between two activities so that `rows` of them span the days.
    let step = (shape.days * 86_400) as f64 / rows as f64;
    client
        .batch_execute(&format!(
            "INSERT INTO {schema}.transaction
                 (id, native_transaction_id, issued_at, client_addr, actor_id, context)
             OVERRIDING SYSTEM VALUE
             SELECT {offset} + t, ({offset} + t)::text::xid8,
                    timestamptz '{start}' + ((t - 1) * 5 * {step}) * interval '1 second',
                    inet '10.0.0.1', 'actor-' || (t % {actors}), NULL
               FROM generate_series(1, {transactions}) AS t
              WHERE t % 5 <> 0;
             SELECT setval(pg_get_serial_sequence('{schema}.transaction', 'id'), {offset} + {transactions});
             INSERT INTO {schema}.activity
                 (schema_name, table_name, relid, issued_at, native_transaction_id, verb,
                  object_id, old_data, changed_data, transaction_id)
             SELECT 'public', '{table}', 'public.{table}'::regclass::oid,
                    timestamptz '{start}' + ((g - 1) * {step}) * interval '1 second',
                    ({offset} + (g - 1) / 5 + 1)::text::xid8,
                    CASE WHEN g <= {records} THEN 'insert' ELSE 'update' END,
                    to_jsonb((g - 1) % {records}),
                    CASE WHEN g <= {records} THEN NULL ELSE jsonb_build_object(
                        'id', (g - 1) % {records}, 'title', 'title ' || (g - {records}),
                        'body', NULL, 'rating', g % 5, 'price', 9.99, 'published_at', NULL) END,
                    CASE WHEN g <= {records}
                         THEN jsonb_build_object(
                             'id', (g - 1) % {records}, 'title', 'title ' || g, 'body', NULL,
                             'rating', g % 5, 'price', 9.99, 'published_at', NULL)
                         ELSE jsonb_build_object('title', 'title ' || g) END,
                    CASE WHEN ((g - 1) / 5 + 1) % 5 = 0 THEN NULL ELSE {offset} + (g - 1) / 5 + 1 END
               FROM generate_series(1, {rows}) AS g;
             ANALYZE {schema}.transaction;
             ANALYZE {schema}.activity;",
            transactions = shape.transactions(),
            actors = shape.actors(),
        ))
        .map_err(|e| format!("filling {schema}: {}", db_err(e)))
}

/// Drops the indexes of `schema.activity` but its primary key.
pub fn drop_secondary_indexes(client: &mut Client, schema: &str) -> Result<(), String> {
    client
        .batch_execute(&format!(
            "DO $drop$
             DECLARE
                 v_index regclass;
             BEGIN
                 FOR v_index IN
                     SELECT indexrelid::regclass FROM pg_catalog.pg_index
                      WHERE indrelid = '{schema}.activity'::regclass AND NOT indisprimary
                 LOOP
                     EXECUTE format('DROP INDEX %s', v_index);
                 END LOOP;
             END
             $drop$"
        ))
        .map_err(db_err)
}

/// The table whose history is filled in: the shape of the history tests' `article`.
pub fn create_table(client: &mut Client, table: &str) -> Result<(), String> {
    client
        .batch_execute(&format!(
            "CREATE TABLE public.{table} (
                 id integer PRIMARY KEY,
                 title text NOT NULL,
                 body text,
                 rating integer,
                 price numeric(10, 2),
                 published_at timestamptz
             )"
        ))
        .map_err(db_err)
}

/// A decoded change of the history table: the row after it (as JSON fields), as the
/// generated types hold it. The queries only need a decoder; this one parses the JSON
/// like the generated code does, without the typed fields.
#[derive(Debug, Clone)]
pub struct Change {
    row: Option<Map<String, Value>>,
}

fn parse(
    part: DataPart,
    text: Option<&str>,
    id: Option<i64>,
    table: &str,
) -> Result<Option<Map<String, Value>>, DecodeError> {
    text.map(|t| {
        serde_json::from_str(t).map_err(|e| DecodeError::InvalidJson {
            activity_id: id,
            table: table.to_owned(),
            part,
            found: t.chars().take(40).collect::<String>().into(),
            message: e.to_string().into(),
        })
    })
    .transpose()
}

fn decode_change(
    id: Option<i64>,
    table: &str,
    verb: &str,
    old: Option<&str>,
    changed: Option<&str>,
) -> Result<Change, DecodeError> {
    let old = parse(DataPart::OldData, old, id, table)?;
    let changed = parse(DataPart::ChangedData, changed, id, table)?;
    let row = match verb {
        "insert" => changed,
        "update" => old.map(|mut row| {
            row.extend(changed.unwrap_or_default());
            row
        }),
        "delete" => None,
        other => {
            return Err(DecodeError::UnexpectedVerb {
                activity_id: id,
                table: table.to_owned(),
                verb: other.to_owned(),
            });
        }
    };
    Ok(Change { row })
}

macro_rules! history_table {
    ($name:ident, $schema:expr, $table:expr) => {
        /// The history table of one audit schema, for the typed queries.
        #[derive(Debug, Clone)]
        pub struct $name(Change);

        impl AuditedTable for $name {
            type Key = i32;
            type Row = Map<String, Value>;
            const AUDIT_SCHEMA: &'static str = $schema;
            const SCHEMA: &'static str = "public";
            const TABLE: &'static str = $table;
            const KEY_COLUMNS: &'static [&'static str] = &["id"];

            fn object_id(key: &i32) -> String {
                key.to_string()
            }

            fn decode(
                activity_id: Option<i64>,
                verb: &str,
                old_data: Option<&str>,
                changed_data: Option<&str>,
            ) -> Result<Self, DecodeError> {
                decode_change(activity_id, $table, verb, old_data, changed_data).map($name)
            }

            fn row_after(&self) -> Option<Self::Row> {
                self.0.row.clone()
            }
        }

        impl AuditTrail for $name {
            const AUDIT_SCHEMA: &'static str = $schema;
            const ACTOR_ID_TYPE: &'static str = "text";
            const TABLES: &'static [(&'static str, &'static str)] = &[("public", $table)];

            fn decode(
                activity_id: Option<i64>,
                _schema: &str,
                _table: &str,
                verb: &str,
                old_data: Option<&str>,
                changed_data: Option<&str>,
            ) -> Result<Self, DecodeError> {
                decode_change(activity_id, $table, verb, old_data, changed_data).map($name)
            }
        }
    };
}

history_table!(PartitionedHistory, "hist_part", "bench_history_part");
history_table!(OneTableHistory, "hist_one", "bench_history_one");

/// One question against one history: a fresh random instance per call, returning the
/// number of entries.
type Question<'a> = Box<dyn FnMut(&mut Client, &mut Rng) -> Result<usize, String> + 'a>;

/// The four questions for history table `T` of `shape`, in report order.
fn questions<'a, T>(shape: &'a Shape) -> Vec<(&'static str, Question<'a>)>
where
    T: AuditedTable<Key = i32> + AuditTrail + 'a,
{
    let err = |e: query::QueryError| e.to_string();
    let records = shape.records();
    let actors = shape.actors();
    let start = shape.start;
    let days = shape.days;
    vec![
        (
            "history of a record",
            Box::new(move |c: &mut Client, rng: &mut Rng| {
                let key = rng.below(records) as i32;
                query::history::<T>(c, &key).map(|h| h.len()).map_err(err)
            }) as Question<'a>,
        ),
        (
            "an actor's activity in 7 days",
            Box::new(move |c: &mut Client, rng: &mut Rng| {
                let actor = format!("actor-{}", rng.below(actors));
                let from = start + Duration::days(rng.below(days - 7));
                let range = TimeRange::new(from, from + Duration::days(7));
                query::actor_activity::<T>(c, &actor, range)
                    .map(|h| h.len())
                    .map_err(err)
            }),
        ),
        (
            "who changed a record on a day",
            Box::new(move |c: &mut Client, rng: &mut Rng| {
                let key = rng.below(records) as i32;
                let day = (start + Duration::days(rng.below(days))).date_naive();
                query::changed_in::<T>(c, &key, TimeRange::utc_day(day))
                    .map(|h| h.len())
                    .map_err(err)
            }),
        ),
        (
            "a record as of a time",
            Box::new(move |c: &mut Client, rng: &mut Rng| {
                let key = rng.below(records) as i32;
                let at = start + Duration::hours(rng.below(days * 24));
                query::as_of::<T>(c, &key, at)
                    .map(|r| usize::from(r.is_some()))
                    .map_err(err)
            }),
        ),
    ]
}

/// Fills both histories, converts the partitioned one, and measures every question
/// `runs` times on each (after a tenth as many warm-up runs), alternating between them.
pub fn run(
    db: &mut Database,
    partitioned_rows: i64,
    one_rows: i64,
    runs: usize,
) -> Result<HistoryFigures, String> {
    let start = month_start(MONTHS);
    let days = (month_start(0) - start).num_days();
    let part_shape = Shape {
        rows: partitioned_rows,
        start,
        days,
        first_transaction: 0,
    };
    let one_shape = Shape {
        rows: one_rows,
        ..part_shape
    };
    let mut figures = HistoryFigures {
        partitioned_rows,
        one_rows,
        months: MONTHS,
        ..HistoryFigures::default()
    };
    // The unpartitioned history.
    let one_table = OneTableHistory::TABLE_NAME;
    create_table(db.client(), one_table)?;
    let manifest = install::manifest_text(ONE_SCHEMA, one_table, &[], Activity::default());
    install::apply(db.client(), &manifest, &Generated::default())?;
    let started = Instant::now();
    fill(db.client(), ONE_SCHEMA, one_table, &one_shape)?;
    figures.one_fill = started.elapsed();
    eprintln!(
        "partitioned: filled {one_rows} activity rows into one table in {:.1} s",
        figures.one_fill.as_secs_f64()
    );
    // The partitioned history: installed unpartitioned, filled, then converted by the
    // migration planned when the manifest turns partitioning on.
    let part_table = PartitionedHistory::TABLE_NAME;
    create_table(db.client(), part_table)?;
    let before = install::manifest_text(PARTITIONED_SCHEMA, part_table, &[], Activity::default());
    let (generated, _) = install::apply(db.client(), &before, &Generated::default())?;
    // The conversion copies the rows into a new table and builds its indexes after the
    // copy; the old table's secondary indexes go with it. Filled without them, which is
    // several times faster (the primary key stays: the conversion frees its name).
    drop_secondary_indexes(db.client(), PARTITIONED_SCHEMA)?;
    let started = Instant::now();
    fill(db.client(), PARTITIONED_SCHEMA, part_table, &part_shape)?;
    figures.partitioned_fill = started.elapsed();
    eprintln!(
        "partitioned: filled {partitioned_rows} activity rows in {:.1} s; converting",
        figures.partitioned_fill.as_secs_f64()
    );
    let after = install::manifest_text(
        PARTITIONED_SCHEMA,
        part_table,
        &[],
        Activity {
            partition: Some("month"),
            retention: None,
        },
    );
    let started = Instant::now();
    let (_, applied) = install::apply(db.client(), &after, &generated)?;
    figures.conversion = started.elapsed();
    figures.conversion_migrations = applied;
    (figures.partitions, figures.populated) = install::partitions(db.client(), PARTITIONED_SCHEMA)?;
    eprintln!(
        "partitioned: converted in {:.1} s: {} partitions, {} populated",
        figures.conversion.as_secs_f64(),
        figures.partitions,
        figures.populated
    );
    // A history kept for months is vacuumed: its pages are all-visible, so index-only
    // scans read no heap. Vacuumed here rather than left to autovacuum, whose pass over
    // the 10,000,000 rows just written would otherwise run during the measurements.
    let started = Instant::now();
    for schema in [ONE_SCHEMA, PARTITIONED_SCHEMA] {
        for table in ["activity", "transaction"] {
            db.client()
                .batch_execute(&format!("VACUUM (ANALYZE) {schema}.{table}"))
                .map_err(db_err)?;
        }
    }
    eprintln!(
        "partitioned: vacuumed both histories in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut part_client = audit_tests::connect(db.url());
    let mut one_client = audit_tests::connect(db.url());
    let mut part_questions = questions::<PartitionedHistory>(&part_shape);
    let mut one_questions = questions::<OneTableHistory>(&one_shape);
    for ((name, part), (_, one)) in part_questions.iter_mut().zip(one_questions.iter_mut()) {
        let mut part_rng = Rng::new();
        let mut one_rng = Rng::new();
        let mut part_times = Vec::with_capacity(runs);
        let mut one_times = Vec::with_capacity(runs);
        let (mut part_entries, mut one_entries) = (0, 0);
        for i in 0..runs / 10 + runs {
            let measured = i >= runs / 10;
            // Alternate which goes first, so neither always follows the other.
            for which in [i % 2, 1 - i % 2] {
                let started = Instant::now();
                let entries = if which == 0 {
                    part(&mut part_client, &mut part_rng)?
                } else {
                    one(&mut one_client, &mut one_rng)?
                };
                let elapsed = started.elapsed();
                if measured {
                    if which == 0 {
                        part_times.push(elapsed);
                        part_entries += entries;
                    } else {
                        one_times.push(elapsed);
                        one_entries += entries;
                    }
                }
            }
        }
        let part_figures = QueryFigures::from_times(name, part_times, part_entries);
        let one_figures = QueryFigures::from_times(name, one_times, one_entries);
        eprintln!(
            "partitioned: {name}: p50 {:.3} ms partitioned, {:.3} ms one table",
            part_figures.p50_ms, one_figures.p50_ms
        );
        figures.partitioned.push(part_figures);
        figures.one.push(one_figures);
    }
    Ok(figures)
}

impl PartitionedHistory {
    const TABLE_NAME: &'static str = "bench_history_part";
}

impl OneTableHistory {
    const TABLE_NAME: &'static str = "bench_history_one";
}

impl QueryFigures {
    /// Percentiles of `times` (any order) and the mean entries per run.
    pub fn from_times(name: &str, mut times: Vec<Elapsed>, entries: usize) -> Self {
        times.sort();
        let at = |p: f64| {
            times
                .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
                .map_or(0.0, |t| t.as_secs_f64() * 1000.0)
        };
        Self {
            question: name.to_owned(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            entries: entries as f64 / times.len().max(1) as f64,
            runs: times.len(),
        }
    }
}
