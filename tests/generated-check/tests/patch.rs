//! Property: for random old and new rows, decoding the update the audit trail would
//! record (old row, changed columns) and applying the patch to the old row gives the
//! new row.

use audit_generated_check::roundtrip::{Address, Everything, EverythingChange, Mood};
use audit_runtime::types::{Array, Bytea, Date, Finite, Float8, Interval, Numeric, Timestamptz};
use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

fn blank(id: i32, rating: i32) -> Everything {
    Everything {
        id,
        i2: None,
        i4: None,
        i8: None,
        f4: None,
        f8: None,
        num: None,
        num2: None,
        cash: None,
        txt: None,
        vc: None,
        ch: None,
        flag: None,
        bin: None,
        uid: None,
        d: None,
        t: None,
        ttz: None,
        ts: None,
        tstz: None,
        iv: None,
        ip: None,
        net: None,
        mac: None,
        mac8: None,
        js: None,
        jsb: None,
        ints: None,
        words: None,
        stamps: None,
        moods: None,
        feeling: None,
        mail: None,
        rating,
        home: None,
        homes: None,
    }
}

fn float8() -> impl Strategy<Value = Float8> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
    ]
    .prop_map(audit_runtime::types::Float)
}

fn numeric() -> impl Strategy<Value = Numeric> {
    prop_oneof![
        "-?[1-9][0-9]{0,40}(\\.[0-9]{1,20})?",
        Just("0".to_owned()),
        Just("NaN".to_owned()),
        Just("-Infinity".to_owned()),
    ]
    .prop_map(|s| s.parse().unwrap())
}

fn timestamptz() -> impl Strategy<Value = Timestamptz> {
    prop_oneof![
        (-8_000_000_000_000i64..8_000_000_000_000)
            .prop_map(|us| { Finite::Value(DateTime::from_timestamp_micros(us).unwrap()) }),
        Just(Finite::Infinity),
        Just(Finite::NegInfinity),
    ]
}

fn date() -> impl Strategy<Value = Date> {
    (-700_000i32..700_000)
        .prop_map(|d| Finite::Value(NaiveDate::from_num_days_from_ce_opt(d).unwrap()))
}

fn ints() -> impl Strategy<Value = Array<i32>> {
    prop_oneof![
        prop::collection::vec(prop::option::of(any::<i32>()), 0..5).prop_map(Array::from),
        (1usize..3, 1usize..3).prop_flat_map(|(a, b)| {
            prop::collection::vec(prop::option::of(any::<i32>()), a * b)
                .prop_map(move |e| Array::new(vec![a, b], e).unwrap())
        }),
    ]
}

fn mood() -> impl Strategy<Value = Mood> {
    prop_oneof![
        Just(Mood::Sad),
        Just(Mood::ItSComplicated),
        "[a-z ]{1,6}".prop_map(|l| Mood::from_label(&l)),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    (
        prop::option::of(".{0,6}"),
        prop::option::of(timestamptz()),
        prop::option::of(prop::collection::vec(prop::option::of("[a-z]{0,3}"), 0..3)),
    )
        .prop_map(|(street, since, tags)| Address {
            street,
            city: None,
            zip: None,
            tags: tags.map(Array::from),
            since,
        })
}

fn row() -> impl Strategy<Value = Everything> {
    (
        (
            prop::option::of(any::<i16>()),
            prop::option::of(any::<i64>()),
            prop::option::of(float8()),
            prop::option::of(numeric()),
            prop::option::of("\\PC{0,8}"),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::collection::vec(any::<u8>(), 0..6)),
        ),
        (
            prop::option::of(date()),
            prop::option::of(timestamptz()),
            prop::option::of((any::<i32>(), any::<i32>(), any::<i64>())),
            prop::option::of(ints()),
            prop::option::of(mood()),
            prop::option::of(address()),
            1..100i32,
        ),
    )
        .prop_map(
            |((i2, i8, f8, num, txt, flag, bin), (d, tstz, iv, ints, feeling, home, rating))| {
                let mut row = blank(1, rating);
                row.i2 = i2;
                row.i8 = i8;
                row.f8 = f8;
                row.num = num;
                row.txt = txt;
                row.flag = flag;
                row.bin = bin.map(Bytea);
                row.d = d;
                row.tstz = tstz;
                row.iv = iv.map(|(months, days, microseconds)| Interval {
                    months,
                    days,
                    microseconds,
                });
                row.ints = ints;
                row.feeling = feeling;
                row.home = home;
                row
            },
        )
}

/// The update activity the data contract prescribes: the full old row, and the
/// columns whose JSON differs with their new values. Compared as raw JSON text, never
/// through `serde_json::Value`, which would round numerics through `f64`.
fn update_parts(old: &Everything, new: &Everything) -> (String, String) {
    type RawMap = BTreeMap<String, Box<RawValue>>;
    let old_text = serde_json::to_string(old).unwrap();
    let new_text = serde_json::to_string(new).unwrap();
    let old_map: RawMap = serde_json::from_str(&old_text).unwrap();
    let new_map: RawMap = serde_json::from_str(&new_text).unwrap();
    let changed: Vec<String> = new_map
        .iter()
        .filter(|(k, v)| old_map.get(*k).map(|o| o.get()) != Some(v.get()))
        .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), v.get()))
        .collect();
    (old_text, format!("{{{}}}", changed.join(", ")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_patch_to_the_old_row_gives_the_new_row(old in row(), new in row()) {
        let (old_text, changed_text) = update_parts(&old, &new);
        let change = EverythingChange::decode(Some(1), "update", Some(&old_text), Some(&changed_text))
            .unwrap_or_else(|e| panic!("{e}\nold: {old_text}\nchanged: {changed_text}"));
        let EverythingChange::Update { old: decoded_old, changed } = &change else {
            panic!("not an update");
        };
        prop_assert_eq!(decoded_old, &old);
        let mut patched = old.clone();
        changed.apply(&mut patched);
        prop_assert_eq!(&patched, &new);
        prop_assert_eq!(change.new_row(), Some(new));
    }
}
