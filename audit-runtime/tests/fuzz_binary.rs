//! Fuzzing of the binary `FromSql` decoders of the runtime's value types, starting from
//! real values: every column of the round-trip fixture is read from the server in binary
//! form, then the bytes are mutated (bits flipped, cut, extended, 4-byte words set to
//! extreme lengths and counts) and decoded again. Errors are expected; a panic, a hang or
//! an allocation the data cannot justify is a bug.
//!
//! `AUDIT_FUZZ_CASES=<n>` raises the number of cases.

use audit_runtime::types::{
    Array, Bytea, Date, Float4, Float8, Inet, Interval, MacAddr, MacAddr8, Money, Numeric, TimeTz,
    Timestamp, Timestamptz, Uuid,
};
use audit_tests::{TestDb, fixture, fuzz};
use postgres_types::{FromSql, Type};
use proptest::prelude::*;
use std::sync::OnceLock;

/// The raw binary form of a value, whatever its type.
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// One real value: its column type and bytes.
#[derive(Debug)]
struct Seed {
    ty: Type,
    bytes: Vec<u8>,
}

/// Every non-NULL value of the fixture's columns whose type the runtime decodes.
fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let schema = std::fs::read_to_string(fixture("roundtrip/schema.sql")).unwrap();
        let db = TestDb::with_sql("fuzz_binary", &schema);
        let mut client = db.client();
        client
            .batch_execute(&std::fs::read_to_string(fixture("roundtrip/inserts.sql")).unwrap())
            .unwrap();
        let rows = client
            .query(
                "SELECT f4, f8, num, num2, cash, bin, uid, d, ttz, ts, tstz, iv, ip, net, mac,
                        mac8, ints, words, stamps FROM everything",
                &[],
            )
            .unwrap();
        let mut seeds = Vec::new();
        for row in &rows {
            for (i, column) in row.columns().iter().enumerate() {
                if let Some(Raw(bytes)) = row.get::<_, Option<Raw>>(i) {
                    seeds.push(Seed {
                        ty: column.type_().clone(),
                        bytes,
                    });
                }
            }
        }
        assert!(seeds.len() > 50, "{} seeds", seeds.len());
        seeds
    })
}

/// Decodes `bytes` as the runtime type for `ty`; errors are fine.
fn decode(ty: &Type, bytes: &[u8]) {
    fn go<'a, T: FromSql<'a> + serde::Serialize + std::fmt::Debug>(ty: &Type, bytes: &'a [u8]) {
        if let Ok(value) = T::from_sql(ty, bytes) {
            let _ = format!("{value:?}");
            let _ = serde_json::to_string(&value);
        }
    }
    match *ty {
        Type::FLOAT4 => go::<Float4>(ty, bytes),
        Type::FLOAT8 => go::<Float8>(ty, bytes),
        Type::NUMERIC => go::<Numeric>(ty, bytes),
        Type::MONEY => go::<Money>(ty, bytes),
        Type::BYTEA => go::<Bytea>(ty, bytes),
        Type::UUID => go::<Uuid>(ty, bytes),
        Type::DATE => go::<Date>(ty, bytes),
        Type::TIMETZ => go::<TimeTz>(ty, bytes),
        Type::TIMESTAMP => go::<Timestamp>(ty, bytes),
        Type::TIMESTAMPTZ => go::<Timestamptz>(ty, bytes),
        Type::INTERVAL => go::<Interval>(ty, bytes),
        Type::INET | Type::CIDR => go::<Inet>(ty, bytes),
        Type::MACADDR => go::<MacAddr>(ty, bytes),
        Type::MACADDR8 => go::<MacAddr8>(ty, bytes),
        Type::INT4_ARRAY => go::<Array<i32>>(ty, bytes),
        Type::TEXT_ARRAY => go::<Array<String>>(ty, bytes),
        Type::TIMESTAMPTZ_ARRAY => go::<Array<Timestamptz>>(ty, bytes),
        ref other => panic!("no decoder chosen for {other}"),
    }
}

/// One edit of a binary value.
#[derive(Debug, Clone)]
enum ByteEdit {
    Flip(usize, u8),
    Cut(usize),
    Append(Vec<u8>),
    /// Overwrite the 4-byte word at a position (lengths, counts, dimensions).
    Word(usize, i32),
    /// Overwrite the 2-byte word at a position (numeric digit counts, weights, scales).
    Short(usize, u16),
}

fn byte_edit() -> impl Strategy<Value = ByteEdit> {
    let extreme = prop_oneof![
        Just(i32::MAX),
        Just(i32::MIN),
        Just(-1),
        Just(0),
        Just(1),
        Just(7),
        Just(65_536),
        any::<i32>(),
    ];
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| ByteEdit::Flip(at, bit)),
        any::<usize>().prop_map(ByteEdit::Cut),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(ByteEdit::Append),
        (any::<usize>(), extreme).prop_map(|(at, v)| ByteEdit::Word(at, v)),
        (any::<usize>(), any::<u16>()).prop_map(|(at, v)| ByteEdit::Short(at, v)),
    ]
}

fn apply(bytes: &[u8], edits: &[ByteEdit]) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    for edit in edits {
        let len = bytes.len().max(1);
        match edit {
            ByteEdit::Flip(at, bit) if !bytes.is_empty() => bytes[at % len] ^= 1 << bit,
            ByteEdit::Cut(at) => bytes.truncate(at % len),
            ByteEdit::Append(more) => bytes.extend(more),
            ByteEdit::Word(at, v) if bytes.len() >= 4 => {
                let at = at % (bytes.len() - 3);
                bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
            ByteEdit::Short(at, v) if bytes.len() >= 2 => {
                let at = at % (bytes.len() - 1);
                bytes[at..at + 2].copy_from_slice(&v.to_be_bytes());
            }
            _ => {}
        }
    }
    bytes
}

#[test]
fn mutated_real_binary_values() {
    for seed in seeds() {
        decode(&seed.ty, &seed.bytes);
    }
    let strategy = (0..seeds().len(), prop::collection::vec(byte_edit(), 1..5));
    fuzz::run(
        "binary values, mutated",
        10_000,
        strategy,
        |(seed, edits)| {
            let seed = &seeds()[*seed];
            decode(&seed.ty, &apply(&seed.bytes, edits));
        },
    );
}

/// Every type [`decode`] has a decoder for.
fn decoded_types() -> [Type; 17] {
    [
        Type::FLOAT4,
        Type::FLOAT8,
        Type::NUMERIC,
        Type::MONEY,
        Type::BYTEA,
        Type::UUID,
        Type::DATE,
        Type::TIMETZ,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::INET,
        Type::MACADDR,
        Type::MACADDR8,
        Type::INT4_ARRAY,
        Type::TEXT_ARRAY,
        Type::TIMESTAMPTZ_ARRAY,
    ]
}

#[test]
fn arbitrary_bytes_for_every_type() {
    let strategy = (
        0..decoded_types().len(),
        prop::collection::vec(any::<u8>(), 0..64),
    );
    fuzz::run(
        "binary values, arbitrary bytes",
        10_000,
        strategy,
        |(ty, bytes)| {
            decode(&decoded_types()[*ty], bytes);
        },
    );
}
