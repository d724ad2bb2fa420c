//! Latency of the three questions on 1,000,000 activity rows (p50 / p99 over many
//! random instances): the history of a record, what an actor did in a week, who changed
//! a record on a day; and, for reference, a record's state as of a time.
//!
//! `cargo bench -p audit-history-check --bench queries` (set `BENCH_ROWS` for another
//! size). The history is bulk-inserted with `INSERT … SELECT generate_series`, not
//! through triggers, then analyzed. With `BENCH_PARTITION=day|week|month` the activity
//! table is then partitioned with pg_partman (which must be installed on the server),
//! converting the history as the generated migration does: 100 days of history make
//! 100, 15 or 4 populated partitions.

#[path = "../tests/common/mod.rs"]
mod common;

use audit_history_check::{ArticleChange, ArticleKey, Change};
use audit_runtime::query::{self, TimeRange};
use audit_tests::rng::Rng;
use chrono::{DateTime, Duration, Utc};
use common::bulk::{Shape, fill};
use std::time::{Duration as Elapsed, Instant};

/// Measured runs per question (after as many warm-up runs as a tenth of it).
const RUNS: usize = 2000;

/// Runs `run` with a fresh random instance `RUNS / 10 + RUNS` times; reports the
/// measured runs' percentiles and the mean number of entries returned.
fn measure(name: &str, rng: &mut Rng, mut run: impl FnMut(&mut Rng) -> usize) {
    for _ in 0..RUNS / 10 {
        run(rng);
    }
    let mut times: Vec<Elapsed> = Vec::with_capacity(RUNS);
    let mut entries = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        entries += run(rng);
        times.push(started.elapsed());
    }
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{name:<34} p50 {:>8.3} ms   p99 {:>8.3} ms   ({:.1} entries on average)",
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        entries as f64 / RUNS as f64
    );
}

fn main() {
    let rows: i64 = std::env::var("BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let shape = Shape { rows };
    let db = common::database("history_bench");
    let mut client = db.client();
    let started = Instant::now();
    fill(&mut client, &shape);
    println!(
        "filled {rows} activity rows ({} records, {} actors, {} days) in {:.1} s",
        shape.records(),
        Shape::ACTORS,
        Shape::DAYS,
        started.elapsed().as_secs_f64()
    );
    if let Ok(name) = std::env::var("BENCH_PARTITION") {
        let partition = audit_codegen::spec::Partition::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
            .unwrap_or_else(|| panic!("BENCH_PARTITION={name:?}: day, week or month"));
        let started = Instant::now();
        common::partition(&db, partition, None);
        let partitions: (i64, i64) = {
            let row = client
                .query_one(
                    "SELECT count(*), count(*) FILTER (WHERE c.reltuples > 0)
                       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                      WHERE i.inhparent = 'audit.activity'::regclass",
                    &[],
                )
                .unwrap();
            (row.get(0), row.get(1))
        };
        println!(
            "partitioned by {name} in {:.1} s: {} partitions, {} of them populated",
            started.elapsed().as_secs_f64(),
            partitions.0,
            partitions.1
        );
    }

    let start: DateTime<Utc> = Shape::START.parse().unwrap();
    let records = shape.records();
    let mut rng = Rng::new();
    measure("history of a record", &mut rng, |rng| {
        let key = ArticleKey {
            id: rng.below(records) as i32,
        };
        query::history::<ArticleChange>(&mut client, &key)
            .unwrap()
            .len()
    });
    measure("actor in a 7-day range", &mut rng, |rng| {
        let actor = format!("actor-{}", rng.below(Shape::ACTORS));
        let from = start + Duration::days(rng.below(Shape::DAYS - 7));
        let range = TimeRange::new(from, from + Duration::days(7));
        query::actor_activity::<Change>(&mut client, &actor, range)
            .unwrap()
            .len()
    });
    measure("who changed a record on a day", &mut rng, |rng| {
        let key = ArticleKey {
            id: rng.below(records) as i32,
        };
        let day = (start + Duration::days(rng.below(Shape::DAYS))).date_naive();
        query::changed_in::<ArticleChange>(&mut client, &key, TimeRange::utc_day(day))
            .unwrap()
            .len()
    });
    measure("state of a record as of a time", &mut rng, |rng| {
        let key = ArticleKey {
            id: rng.below(records) as i32,
        };
        let at = start + Duration::hours(rng.below(Shape::DAYS * 24));
        usize::from(
            query::as_of::<ArticleChange>(&mut client, &key, at)
                .unwrap()
                .is_some(),
        )
    });
}
