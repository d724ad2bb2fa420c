//! Decoding 100,000 activity rows into typed change enums, against parsing the same JSON
//! into `serde_json::Value`. Prints both times and their ratio (target: typed ≤ 1.2×).
//!
//! Run with `cargo bench -p audit-generated-check`.

use audit_generated_check::roundtrip::{Address, Change, Everything, Mood};
use audit_runtime::types::{Array, Bytea, Finite, Float, Interval, Numeric};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ROWS: usize = 100_000;

/// A row with most columns set, varied by `i`.
fn row(i: usize) -> Everything {
    let n = i as i64;
    let stamp =
        chrono::DateTime::from_timestamp(1_700_000_000 + n * 37, (i as u32 % 1000) * 1000).unwrap();
    Everything {
        id: i as i32,
        i2: Some((i % 30_000) as i16),
        i4: Some(i as i32 * 7),
        i8: Some(n * 1_000_003),
        f4: Some(Float(i as f32 / 3.0)),
        f8: Some(Float(n as f64 * 1.25)),
        num: Some(
            format!("{}.{:04}", n * 991, i % 10_000)
                .parse::<Numeric>()
                .unwrap(),
        ),
        num2: Some(format!("{}.{:02}", n % 100_000, i % 100).parse().unwrap()),
        cash: Some(audit_runtime::types::Money(n * 100 + 99)),
        txt: Some(format!(
            "description of item number {i} with some words in it"
        )),
        vc: Some(format!("v{}", i % 1000)),
        ch: Some("abc".to_owned()),
        flag: Some(i.is_multiple_of(2)),
        bin: Some(Bytea(vec![(i % 256) as u8; 8])),
        uid: Some(audit_runtime::types::Uuid([(i % 256) as u8; 16])),
        d: Some(Finite::Value(stamp.date_naive())),
        t: Some(stamp.time()),
        ttz: None,
        ts: Some(Finite::Value(stamp.naive_utc())),
        tstz: Some(Finite::Value(stamp)),
        iv: Some(Interval {
            months: (i % 13) as i32,
            days: (i % 31) as i32,
            microseconds: n * 1_000_000,
        }),
        ip: Some(
            format!("10.0.{}.{}", i % 256, (i / 256) % 256)
                .parse()
                .unwrap(),
        ),
        net: None,
        mac: None,
        mac8: None,
        js: Some(serde_json::json!({"source": "bench", "n": i})),
        jsb: None,
        ints: Some(Array::from(vec![Some(1), Some(i as i32), None])),
        words: Some(Array::from(vec![
            Some("alpha".to_owned()),
            Some("beta".to_owned()),
        ])),
        stamps: None,
        moods: None,
        feeling: Some(if i.is_multiple_of(3) {
            Mood::Happy
        } else {
            Mood::Sad
        }),
        mail: Some(format!("user{i}@example.com")),
        rating: (i % 100) as i32 + 1,
        home: i.is_multiple_of(4).then(|| Address {
            street: Some("Main St".to_owned()),
            city: Some("Springfield".to_owned()),
            zip: Some("12345".to_owned()),
            tags: None,
            since: None,
        }),
        homes: None,
    }
}

/// (verb, old_data, changed_data) as the audit trail stores them: inserts, updates
/// changing three columns, deletes.
fn activities() -> Vec<(&'static str, Option<String>, Option<String>)> {
    (0..ROWS)
        .map(|i| {
            let full = serde_json::to_string(&row(i)).unwrap();
            match i % 3 {
                0 => ("insert", None, Some(full)),
                1 => {
                    let changed = format!(
                        r#"{{"i4": {}, "txt": "updated {i}", "tstz": "2024-05-01T10:00:00.{:06}"}}"#,
                        i * 3,
                        i % 1_000_000
                    );
                    ("update", Some(full), Some(changed))
                }
                _ => ("delete", Some(full), None),
            }
        })
        .collect()
}

/// Best of `ROUNDS` runs of each, alternating, after one warm-up run of each: the
/// machine is shared, and alternating keeps a change of load from favouring one side.
fn race(mut a: impl FnMut(), mut b: impl FnMut()) -> (Duration, Duration) {
    const ROUNDS: usize = 7;
    let run = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    run(&mut a);
    run(&mut b);
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    for _ in 0..ROUNDS {
        best_a = best_a.min(run(&mut a));
        best_b = best_b.min(run(&mut b));
    }
    (best_a, best_b)
}

fn main() {
    let data = activities();
    let bytes: usize = data
        .iter()
        .map(|(_, o, c)| o.as_ref().map_or(0, String::len) + c.as_ref().map_or(0, String::len))
        .sum();
    let typed = || {
        for (verb, old, changed) in &data {
            let change = Change::decode(
                None,
                "public",
                "everything",
                verb,
                old.as_deref(),
                changed.as_deref(),
            )
            .unwrap();
            black_box(change);
        }
    };
    let untyped = || {
        for (_, old, changed) in &data {
            let old: Option<serde_json::Value> =
                old.as_deref().map(|t| serde_json::from_str(t).unwrap());
            let changed: Option<serde_json::Value> =
                changed.as_deref().map(|t| serde_json::from_str(t).unwrap());
            black_box((old, changed));
        }
    };
    let (typed, untyped) = race(typed, untyped);
    let mb = bytes as f64 / 1e6;
    println!("decoding {ROWS} activity rows ({mb:.1} MB of JSON), best of 7, alternating:");
    println!(
        "  typed Change::decode         {:>8.1} ms  ({:.0} MB/s)",
        typed.as_secs_f64() * 1e3,
        mb / typed.as_secs_f64()
    );
    println!(
        "  serde_json::Value            {:>8.1} ms  ({:.0} MB/s)",
        untyped.as_secs_f64() * 1e3,
        mb / untyped.as_secs_f64()
    );
    println!(
        "  ratio typed / untyped        {:>8.2}x  (target <= 1.2x)",
        typed.as_secs_f64() / untyped.as_secs_f64()
    );
}
