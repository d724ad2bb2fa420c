//! Value types for PostgreSQL types that have no exact std or chrono equivalent.
//!
//! Each type deserialises from the JSON form PostgreSQL's `to_jsonb` produces (the form
//! stored in `old_data` / `changed_data`), serialises back to that same form, and — with
//! the `postgres` or `tokio-postgres` feature — implements `FromSql`, so a value read from
//! history compares equal to the value read from the table.
//!
//! | PostgreSQL | Rust | JSON form |
//! |---|---|---|
//! | `smallint`, `integer`, `bigint` | `i16`, `i32`, `i64` | number |
//! | `real`, `double precision` | [`Float4`], [`Float8`] | number, `"NaN"`, `"Infinity"`, `"-Infinity"` |
//! | `numeric` | [`Numeric`] (lossless text) | number at full precision, `"NaN"`, `"±Infinity"` |
//! | `money` | [`Money`] (minor units) | `"-$1,234.50"` (locale-formatted) |
//! | `text`, `varchar`, `char(n)`, `"char"`, `citext`, `name`, `bit` | `String` | string |
//! | `boolean` | `bool` | `true` / `false` |
//! | `bytea` | [`Bytea`] | `"\\x00ff"` (hex) or escape format |
//! | `uuid` | [`Uuid`] | `"a0ee…"` |
//! | `date` | [`Date`] | `"2024-05-01"`, `"0044-03-15 BC"`, `"infinity"` |
//! | `time` | `chrono::NaiveTime` | `"10:00:00.5"` |
//! | `timetz` | [`TimeTz`] | `"10:00:00+05:30"` |
//! | `timestamp` | [`Timestamp`] | `"2024-05-01T10:00:00"`, `"infinity"` |
//! | `timestamptz` | [`Timestamptz`] | `"2024-05-01T10:00:00"` (UTC) or with an offset |
//! | `interval` | [`Interval`] | `"1 year 2 mons -3 days +04:05:06.7"` or ISO 8601 `"P1Y2M-3DT4H5M6.7S"` |
//! | `inet`, `cidr` | [`Inet`] | `"10.0.0.1"`, `"10.0.0.0/8"` |
//! | `macaddr`, `macaddr8` | [`MacAddr`], [`MacAddr8`] | `"08:00:2b:01:02:03"` |
//! | `json`, `jsonb` | `serde_json::Value` | the value itself (a JSON `null` value reads as SQL NULL: `to_jsonb` cannot tell them apart; numbers inside follow serde_json's `Value`, i.e. best-effort `f64` unless its `float_roundtrip` or `arbitrary_precision` feature is on) |
//! | `T[]` (any dimensions) | [`Array<T>`] | nested arrays with `null` elements |
//! | enum, composite | generated enum / struct | label string / object |
//! | anything else | `serde_json::Value` ([`Unknown`]) | as `to_jsonb` renders it |

mod array;
mod bytea;
mod datetime;
mod float;
mod interval;
mod money;
mod net;
mod numeric;
#[cfg(feature = "time")]
pub mod time;
mod uuid;

pub use array::Array;
pub use bytea::Bytea;
pub use datetime::{Date, Finite, TimeTz, Timestamp, Timestamptz};
pub use float::{Float, Float4, Float8};
pub use interval::Interval;
pub use money::Money;
pub use net::{Cidr, Inet, Mac, MacAddr, MacAddr8};
pub use numeric::Numeric;
pub use uuid::Uuid;

/// The fallback for types without a dedicated mapping: the JSON value as stored.
pub type Unknown = serde_json::Value;

/// The error of parsing a value type from its PostgreSQL text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} `{text}`")]
pub struct ParseError {
    /// The type being parsed.
    pub kind: &'static str,
    /// The offending text (shortened).
    pub text: String,
}

impl ParseError {
    pub(crate) fn new(kind: &'static str, text: &str) -> Self {
        Self {
            kind,
            text: crate::error::snippet(text).into(),
        }
    }
}

/// Implements `Serialize` via `Display` and `Deserialize` via `FromStr` from a JSON string.
macro_rules! string_serde {
    ($ty:ty, $expecting:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use string_serde;

/// Error type of `FromSql` implementations.
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
pub(crate) type BoxError = Box<dyn std::error::Error + Sync + Send>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Types that read raw JSON tokens also decode from an already parsed `Value`.
    #[test]
    fn decode_from_value_too() {
        let v = serde_json::json!([[1.5, null], ["NaN", 2]]);
        let a: Array<Float8> = serde_json::from_value(v).unwrap();
        assert_eq!(a.dims(), &[2, 2]);
        let n: Numeric = serde_json::from_value(serde_json::json!(12.5)).unwrap();
        assert_eq!(n.as_str(), "12.5");
    }
}
