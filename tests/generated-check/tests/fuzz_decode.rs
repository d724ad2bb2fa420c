//! Fuzzing of typed decoding, starting from real activity: the round-trip fixture's rows
//! (every type of the type table, edge values, several session settings) are written,
//! updated, deleted and truncated under the generated triggers, and the recorded
//! activity is mutated: JSON values replaced with values of other types and tricky
//! strings, keys removed, values wrapped in arrays up to 100,000 deep, verbs and tables
//! swapped, parts dropped, and the text edited blindly. Decoding must give a value or a
//! `DecodeError`, never a panic, a hang or a stack overflow; a value that decodes must
//! serialise and deserialise back to itself.
//!
//! `AUDIT_FUZZ_CASES=<n>` raises the number of cases.

#[path = "../spec.rs"]
mod spec;

use audit_generated_check::roundtrip::{
    Change, EverythingChange, EverythingKey, PairChange, PairKey,
};
use audit_runtime::{Activity, Verb, Xid8};
use audit_tests::{TestDb, fixture, fuzz, install_audit};
use proptest::prelude::*;
use serde_json::Value;
use serde_json::value::RawValue;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many mutated activities still decoded (and were checked to round-trip).
static DECODED: AtomicU64 = AtomicU64::new(0);

/// One recorded activity, as text.
#[derive(Debug, Clone)]
struct Recorded {
    table: String,
    verb: String,
    object_id: Option<String>,
    old: Option<String>,
    changed: Option<String>,
}

/// The activity the generated triggers record for the round-trip fixture.
fn seeds() -> &'static [Recorded] {
    static SEEDS: OnceLock<Vec<Recorded>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let schema_sql = std::fs::read_to_string(fixture("roundtrip/schema.sql")).unwrap();
        let db = TestDb::with_sql("fuzz_decode", &schema_sql);
        let model = audit_codegen::source::live::introspect(&mut db.client()).unwrap();
        install_audit(&db, &spec::roundtrip(model));
        let mut client = db.client();
        for file in ["roundtrip/inserts.sql", "roundtrip/updates.sql"] {
            client
                .batch_execute(&std::fs::read_to_string(fixture(file)).unwrap())
                .unwrap();
        }
        client
            .batch_execute("DELETE FROM everything; DELETE FROM pair WHERE a <> 1; TRUNCATE pair;")
            .unwrap();
        let seeds: Vec<Recorded> = client
            .query(
                "SELECT table_name, verb, object_id::text, old_data::text, changed_data::text
                   FROM audit.activity ORDER BY id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| Recorded {
                table: r.get(0),
                verb: r.get(1),
                object_id: r.get(2),
                old: r.get(3),
                changed: r.get(4),
            })
            .collect();
        // Every seed decodes before it is mutated.
        for s in &seeds {
            Change::decode(
                None,
                "public",
                &s.table,
                &s.verb,
                s.old.as_deref(),
                s.changed.as_deref(),
            )
            .unwrap_or_else(|e| panic!("seed {s:?}: {e}"));
        }
        assert!(seeds.len() > 20, "{} seeds", seeds.len());
        seeds
    })
}

/// Which text of an activity an edit applies to.
#[derive(Debug, Clone, Copy)]
enum Part {
    ObjectId,
    Old,
    Changed,
}

/// One edit of an activity.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the n-th JSON node (pre-order) with a value.
    Replace(Part, usize, Value),
    /// Remove one key of the n-th JSON object.
    RemoveKey(Part, usize, usize),
    /// Wrap the n-th JSON node in this many arrays.
    Nest(Part, usize, usize),
    /// Edit the text blindly.
    Text(Part, Vec<fuzz::Edit>),
    /// Drop the part (NULL).
    Drop(Part),
    /// Exchange `old_data` and `changed_data`.
    Swap,
    /// Another verb.
    Verb(&'static str),
    /// Another table.
    Table(&'static str),
}

const VERBS: &[&str] = &[
    "insert", "update", "delete", "truncate", "merge", "INSERT", "",
];
const TABLES: &[&str] = &["everything", "pair", "other", "Everything", ""];
const COLUMNS: &[&str] = &[
    "id", "i2", "i4", "i8", "f4", "f8", "num", "num2", "cash", "txt", "vc", "ch", "flag", "bin",
    "uid", "d", "t", "ttz", "ts", "tstz", "iv", "ip", "net", "mac", "mac8", "js", "jsb", "ints",
    "words", "stamps", "moods", "feeling", "mail", "rating", "home", "homes", "secret", "a", "b",
    "v", "street", "tags", "since",
];
/// Strings that are almost values of the fixture's types.
const TRICKY: &[&str] = &[
    "NaN",
    "Infinity",
    "-Infinity",
    "infinity",
    "-infinity",
    "1e400",
    "-0",
    "9223372036854775808",
    "\\x",
    "\\x0",
    "\\xzz",
    "\\000\\377\\\\",
    "\\",
    "1 day",
    "-178000000 years",
    "P1Y2M3DT4H5M6.7S",
    "PT",
    "@ 1 day ago",
    "24:00:00",
    "23:59:60",
    "10:00:00+25",
    "2024-02-30",
    "0000-01-01",
    "5874898-01-01",
    "0044-03-15 BC",
    "2024-05-01T10:00:00",
    "2024-05-01T10:00:00+02:00",
    "1999-12-31T24:00:00",
    "275760-09-13T00:00:00",
    "192.168.0.1/33",
    "::1/129",
    "10.0.0.0/8",
    "08:00:2b:01:02",
    "08:00:2b:01:02:03:04:05:06",
    "$1,234.50",
    "-$92,233,720,368,547,758.09",
    "($5.00)",
    "00000000-0000-0000-0000-00000000000g",
    "it's complicated",
    "happy",
    "",
    "\u{0}",
    "\u{feff}",
];

fn value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        prop::sample::select(TRICKY).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    scalar.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(COLUMNS), inner), 0..4).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

const JSON_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "null",
    "true",
    "-",
    "0",
    "1e400",
    "\\u0000",
    "\\ud800",
    "\\\"",
    "[[[[[[[[",
    "]]]]]]]]",
    "\"id\": ",
    "\"ints\": ",
    "\"home\": ",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let part = prop_oneof![Just(Part::ObjectId), Just(Part::Old), Just(Part::Changed)];
    prop_oneof![
        4 => (part.clone(), any::<usize>(), value()).prop_map(|(p, n, v)| Mutation::Replace(p, n, v)),
        2 => (part.clone(), any::<usize>(), any::<usize>())
            .prop_map(|(p, n, k)| Mutation::RemoveKey(p, n, k)),
        1 => (part.clone(), any::<usize>(), prop_oneof![1usize..10, 100usize..200, 99_000usize..100_000])
            .prop_map(|(p, n, d)| Mutation::Nest(p, n, d)),
        2 => (part.clone(), prop::collection::vec(fuzz::edit(JSON_FRAGMENTS), 1..4))
            .prop_map(|(p, e)| Mutation::Text(p, e)),
        1 => part.prop_map(Mutation::Drop),
        1 => Just(Mutation::Swap),
        1 => prop::sample::select(VERBS).prop_map(Mutation::Verb),
        1 => prop::sample::select(TABLES).prop_map(Mutation::Table),
    ]
}

/// Calls `f` on the n-th node (pre-order, modulo the node count) of `value`.
fn at_node(value: &mut Value, n: usize, f: &mut dyn FnMut(&mut Value)) {
    fn count(v: &Value) -> usize {
        1 + match v {
            Value::Array(a) => a.iter().map(count).sum(),
            Value::Object(o) => o.values().map(count).sum(),
            _ => 0,
        }
    }
    fn walk(v: &mut Value, n: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
        if *n == 0 {
            f(v);
            return true;
        }
        *n -= 1;
        match v {
            Value::Array(a) => a.iter_mut().any(|c| walk(c, n, f)),
            Value::Object(o) => o.values_mut().any(|c| walk(c, n, f)),
            _ => false,
        }
    }
    let mut n = n % count(value);
    walk(value, &mut n, f);
}

/// Removes one key (the k-th, modulo) of the n-th object node (pre-order, modulo).
fn remove_key(value: &mut Value, n: usize, k: usize) {
    fn objects(v: &Value) -> usize {
        usize::from(v.is_object())
            + match v {
                Value::Array(a) => a.iter().map(objects).sum(),
                Value::Object(o) => o.values().map(objects).sum(),
                _ => 0,
            }
    }
    fn walk(v: &mut Value, n: &mut usize, k: usize) -> bool {
        if let Value::Object(o) = v {
            if *n == 0 {
                if let Some(key) = o.keys().nth(k % o.len().max(1)).cloned() {
                    o.remove(&key);
                }
                return true;
            }
            *n -= 1;
        }
        match v {
            Value::Array(a) => a.iter_mut().any(|c| walk(c, n, k)),
            Value::Object(o) => o.values_mut().any(|c| walk(c, n, k)),
            _ => false,
        }
    }
    let total = objects(value);
    if total > 0 {
        walk(value, &mut (n % total), k);
    }
}

impl Recorded {
    fn part(&mut self, part: Part) -> &mut Option<String> {
        match part {
            Part::ObjectId => &mut self.object_id,
            Part::Old => &mut self.old,
            Part::Changed => &mut self.changed,
        }
    }

    /// Rewrites a part that is valid JSON through `f`.
    fn edit_json(&mut self, part: Part, f: impl FnOnce(&mut Value) -> String) {
        let text = self.part(part);
        if let Some(t) = text.as_ref()
            && let Ok(mut v) = serde_json::from_str::<Value>(t)
        {
            *text = Some(f(&mut v));
        }
    }
}

fn apply(seed: &Recorded, mutations: &[Mutation]) -> Recorded {
    let mut r = seed.clone();
    for m in mutations {
        match m {
            Mutation::Replace(p, n, value) => r.edit_json(*p, |v| {
                at_node(v, *n, &mut |node| *node = value.clone());
                v.to_string()
            }),
            Mutation::RemoveKey(p, n, k) => r.edit_json(*p, |v| {
                remove_key(v, *n, *k);
                v.to_string()
            }),
            Mutation::Nest(p, n, depth) => r.edit_json(*p, |v| {
                // Built as text: a Value this deep would itself recurse as deep.
                const MARK: &str = "\u{1}nest\u{1}";
                let mut inner = String::new();
                at_node(v, *n, &mut |node| {
                    inner = node.to_string();
                    *node = Value::from(MARK);
                });
                v.to_string().replacen(
                    &Value::from(MARK).to_string(),
                    &format!("{}{inner}{}", "[".repeat(*depth), "]".repeat(*depth)),
                    1,
                )
            }),
            Mutation::Text(p, edits) => {
                if let Some(t) = r.part(*p) {
                    *t = fuzz::apply(t, edits);
                }
            }
            Mutation::Drop(p) => *r.part(*p) = None,
            Mutation::Swap => std::mem::swap(&mut r.old, &mut r.changed),
            Mutation::Verb(v) => r.verb = (*v).to_owned(),
            Mutation::Table(t) => r.table = (*t).to_owned(),
        }
    }
    r
}

/// Decodes `r` every way the runtime offers; a decoded change must round-trip.
fn decode(r: &Recorded) {
    let (old, changed) = (r.old.as_deref(), r.changed.as_deref());
    let _ = EverythingChange::decode(Some(1), &r.verb, old, changed).map_err(|e| e.to_string());
    let _ = PairChange::decode(Some(1), &r.verb, old, changed).map_err(|e| e.to_string());
    if let Ok(change) = Change::decode(Some(1), "public", &r.table, &r.verb, old, changed) {
        DECODED.fetch_add(1, Ordering::Relaxed);
        let text = serde_json::to_string(&change).expect("a decoded change serialises");
        let back: Change = match serde_json::from_str(&text) {
            Ok(back) => back,
            // A json/jsonb value nested just under serde_json's limit of 128 levels
            // decodes from the activity, but the change wraps it in three more levels.
            Err(e) if e.to_string().starts_with("recursion limit exceeded") => return,
            Err(e) => panic!("a decoded change deserialises: {e}: {text}"),
        };
        if back != change {
            // Numbers inside json/jsonb values are serde_json's best-effort f64
            // (documented in audit_runtime::types): there, and only there, a last-bit
            // difference is not a failure.
            let (a, b) = (
                serde_json::to_value(&back).unwrap(),
                serde_json::to_value(&change).unwrap(),
            );
            assert!(
                same(&a, &b, false),
                "round trip through {text}:\n{back:?}\n{change:?}"
            );
        }
        if let Change::Everything(c) = &change {
            let _ = (c.old_row(), c.new_row());
        }
        if let Change::Pair(c) = &change {
            let _ = (c.old_row(), c.new_row());
        }
    }
    if let Some(id) = r.object_id.as_deref() {
        let _ = EverythingKey::decode(None, id).map_err(|e| e.to_string());
        let _ = PairKey::decode(None, id).map_err(|e| e.to_string());
    }
    let raw = |t: Option<&str>| t.and_then(|t| RawValue::from_string(t.to_owned()).ok());
    let activity = Activity {
        id: 7,
        schema_name: "public".to_owned(),
        table_name: r.table.clone(),
        relid: 1,
        issued_at: chrono::DateTime::UNIX_EPOCH,
        native_transaction_id: Xid8(1),
        verb: r.verb.parse().unwrap_or(Verb::Update),
        object_id: raw(r.object_id.as_deref()),
        old_data: raw(old),
        changed_data: raw(changed),
        transaction_id: None,
    };
    let _ = Change::try_from(&activity).map_err(|e| e.to_string());
    let _ = EverythingKey::try_from(&activity).map_err(|e| e.to_string());
    let _ = PairKey::try_from(&activity).map_err(|e| e.to_string());
}

/// Equality of two JSON values, except that floats inside the `js` / `jsb` columns
/// may differ in their last bit (`in_json`).
fn same(a: &Value, b: &Value, in_json: bool) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.get(k)
                        .is_some_and(|w| same(v, w, in_json || k == "js" || k == "jsb"))
                })
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w, in_json))
        }
        (Value::Number(x), Value::Number(y)) if in_json && x.is_f64() && y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x.to_bits().abs_diff(y.to_bits()) <= 1
        }
        _ => a == b,
    }
}

#[test]
fn mutated_real_activity_decodes_or_errs_without_panicking() {
    let strategy = (0..seeds().len(), prop::collection::vec(mutation(), 1..5));
    let runs = fuzz::run(
        "decoder, mutated real activity",
        2000,
        strategy,
        |(seed, mutations)| {
            decode(&apply(&seeds()[*seed], mutations));
        },
    );
    let decoded = DECODED.load(Ordering::Relaxed);
    println!("  {decoded} of {runs} mutated activities still decoded and round-tripped");
    assert!(decoded > 0);
}
