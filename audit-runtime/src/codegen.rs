//! Support for generated code. Not a public API: it changes with the generator.
//!
//! Generated code only names paths below `::audit_runtime`, so a user crate that depends
//! on `audit-runtime` alone compiles it. Decoding is table-driven: generated code lists
//! a table's columns once ([`Column`]) and builds its row or patch from [`Fields`], which
//! reads the JSON object in one pass and parses each value with the column's type, so
//! the code generated per column is one call and every error names its column.
#![doc(hidden)]

pub use chrono;
pub use serde;
pub use serde_json;
#[cfg(feature = "time")]
pub use time;

use crate::error::{DataPart, DecodeError, snippet};
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::Cell;

/// One column of a generated row, for decoding and error reports.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The column name (the JSON key).
    pub name: &'static str,
    /// The expected type, e.g. `integer NOT NULL (i32)`.
    pub expected: &'static str,
}

/// Where a decode happens, for error reports.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The activity id, if known.
    pub activity_id: Option<i64>,
    /// The table, `schema.name`.
    pub table: &'a str,
}

/// The values of one recorded JSON object, by column: what a generated row or patch is
/// built from.
///
/// Generated code lists a table's columns in the order PostgreSQL's `jsonb` keeps object
/// keys (shorter names first, then bytewise), so looking a key up is one comparison when
/// the text comes from the audit trail; any order decodes.
///
/// Values of `Option` fields ([`Fields::optional`], [`Fields::change`]) do not return
/// errors: the first error is kept and [`Fields::finish`] returns it, so that the code
/// generated per field is a call without a branch. Errors are reported in the order the
/// fields are read.
pub struct Fields<'a> {
    ctx: Context<'a>,
    part: DataPart,
    columns: &'static [Column],
    values: Vec<Option<&'a RawValue>>,
    error: Cell<Option<DecodeError>>,
}

impl<'a> Fields<'a> {
    /// Reads the JSON object `text` (a part of an activity of `ctx`'s table); keys that
    /// are not in `columns` (dropped columns) are skipped.
    pub fn parse(
        ctx: Context<'a>,
        part: DataPart,
        text: &'a str,
        columns: &'static [Column],
    ) -> Result<Self, DecodeError> {
        let mut values = vec![None; columns.len()];
        let mut deserializer = serde_json::Deserializer::from_str(text);
        deserializer
            .deserialize_map(ObjectVisitor {
                columns,
                values: &mut values,
            })
            .and_then(|()| deserializer.end())
            .map_err(|e| DecodeError::InvalidJson {
                activity_id: ctx.activity_id,
                table: ctx.table.to_owned(),
                part,
                found: snippet(text),
                message: e.to_string().into(),
            })?;
        Ok(Self {
            ctx,
            part,
            columns,
            values,
            error: Cell::new(None),
        })
    }

    /// The value of column `index` in a full row. An absent key decodes as `None` for an
    /// `Option` type (a column added after the row was recorded) and is an error
    /// otherwise. The error is the first one of this object: one kept by an earlier
    /// field, if any.
    pub fn value<T: DeserializeOwned>(&self, index: usize) -> Result<T, DecodeError> {
        let result = match self.values[index] {
            Some(raw) => self.parse_value(index, raw),
            None => T::deserialize(Absent).map_err(|_| self.missing(index)),
        };
        result.map_err(|e| self.error.take().unwrap_or(e))
    }

    /// The value of the nullable column `index` in a full row: `None` when the key is
    /// absent or `null`. An invalid value is kept for [`Fields::finish`] (and read as
    /// `None` meanwhile).
    pub fn optional<T: DeserializeOwned>(&self, index: usize) -> Option<T> {
        let raw = self.values[index]?;
        self.keep(self.parse_value::<Option<T>>(index, raw))
            .flatten()
    }

    /// The value of column `index` in a patch: `None` when the key is absent
    /// (unchanged). An invalid value is kept for [`Fields::finish`] (and read as `None`
    /// meanwhile).
    pub fn change<T: DeserializeOwned>(&self, index: usize) -> Option<T> {
        let raw = self.values[index]?;
        self.keep(self.parse_value(index, raw))
    }

    /// `value`, or the first error kept: the result of decoding the object.
    pub fn finish<T>(&self, value: T) -> Result<T, DecodeError> {
        match self.error.take() {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }

    fn keep<T>(&self, result: Result<T, DecodeError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                let first = self.error.take().unwrap_or(error);
                self.error.set(Some(first));
                None
            }
        }
    }

    fn parse_value<T: DeserializeOwned>(
        &self,
        index: usize,
        raw: &RawValue,
    ) -> Result<T, DecodeError> {
        serde_json::from_str(raw.get()).map_err(|e| self.invalid(index, raw, &e))
    }

    #[cold]
    fn invalid(&self, index: usize, raw: &RawValue, error: &serde_json::Error) -> DecodeError {
        let column = self.columns[index];
        DecodeError::InvalidValue {
            activity_id: self.ctx.activity_id,
            table: self.ctx.table.to_owned(),
            part: self.part,
            column: column.name,
            expected: column.expected,
            found: snippet(raw.get()),
            message: error.to_string().into(),
        }
    }

    #[cold]
    fn missing(&self, index: usize) -> DecodeError {
        let column = self.columns[index];
        DecodeError::MissingColumn {
            activity_id: self.ctx.activity_id,
            table: self.ctx.table.to_owned(),
            part: self.part,
            column: column.name,
            expected: column.expected,
        }
    }
}

/// Fills the value slots of the columns from a JSON object.
struct ObjectVisitor<'v, 'de> {
    columns: &'static [Column],
    values: &'v mut [Option<&'de RawValue>],
}

impl<'de> Visitor<'de> for ObjectVisitor<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Where the next key is expected: right after the previous one.
        let mut next = 0;
        let n = self.columns.len();
        while let Some(Key(key)) = map.next_key()? {
            let found = (next..n)
                .chain(0..next.min(n))
                .find(|&i| self.columns[i].name == key);
            match found {
                Some(i) => {
                    if self.values[i].is_some() {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate field `{key}`"
                        )));
                    }
                    self.values[i] = Some(map.next_value()?);
                    next = i + 1;
                }
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An object key, borrowed from the text unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a column name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// What an absent key deserializes from: `None` for an `Option`, an error for anything
/// else (as serde's derive treats a missing field).
struct Absent;

impl<'de> Deserializer<'de> for Absent {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("missing"))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// Decodes a row through its serde `Deserialize` implementation (rows whose columns
/// carry serde attributes from the manifest); when that fails, `precise` (the
/// column-by-column decoder) says which column and value are wrong.
pub fn decode_serde<T: DeserializeOwned>(
    ctx: Context<'_>,
    part: DataPart,
    text: &str,
    precise: fn(Context<'_>, DataPart, &str) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|e| match precise(ctx, part, text) {
        Err(precise) => precise,
        Ok(_) => DecodeError::InvalidJson {
            activity_id: ctx.activity_id,
            table: ctx.table.to_owned(),
            part,
            found: snippet(text),
            message: e.to_string().into(),
        },
    })
}

/// The JSON text of a record key (or a tuple of its parts) as `object_id` records it.
/// Key types always serialise; should one not, `null` matches no activity.
pub fn object_id<T: serde::Serialize + ?Sized>(key: &T) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| "null".to_owned())
}

/// Decodes a record key from `object_id`.
pub fn decode_key<T: DeserializeOwned>(
    ctx: Context<'_>,
    text: &str,
    expected: &'static str,
) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|e| DecodeError::InvalidValue {
        activity_id: ctx.activity_id,
        table: ctx.table.to_owned(),
        part: DataPart::ObjectId,
        column: "object_id",
        expected,
        found: snippet(text),
        message: e.to_string().into(),
    })
}

/// The text of a part the verb requires.
pub fn required<'a>(
    ctx: Context<'_>,
    verb: &str,
    part: DataPart,
    text: Option<&'a str>,
) -> Result<&'a str, DecodeError> {
    text.ok_or_else(|| DecodeError::MissingData {
        activity_id: ctx.activity_id,
        table: ctx.table.to_owned(),
        verb: verb.to_owned(),
        part,
    })
}

/// The error for a verb the table does not record.
pub fn unexpected_verb(ctx: Context<'_>, verb: &str) -> DecodeError {
    DecodeError::UnexpectedVerb {
        activity_id: ctx.activity_id,
        table: ctx.table.to_owned(),
        verb: verb.to_owned(),
    }
}

/// Checks that an activity belongs to one of `tables` (`(schema, name)`): the audited
/// table first, then its partitions, whose row triggers record the partition's name.
pub fn check_table(activity: &crate::Activity, tables: &[(&str, &str)]) -> Result<(), DecodeError> {
    if tables
        .iter()
        .any(|(s, n)| activity.schema_name == *s && activity.table_name == *n)
    {
        return Ok(());
    }
    let (schema, name) = tables.first().copied().unwrap_or_default();
    Err(DecodeError::WrongTable {
        activity_id: Some(activity.id),
        expected: format!("{schema}.{name}"),
        found: activity.qualified_table(),
    })
}

/// The error for an activity of a table the code was not generated for.
pub fn unknown_table(activity_id: Option<i64>, schema: &str, name: &str) -> DecodeError {
    DecodeError::UnknownTable {
        activity_id,
        table: format!("{schema}.{name}"),
    }
}

/// Patch field of a nullable column, with `[rust] serde = true`: present `null` is
/// `Some(None)` (set to NULL), an absent key is `None` through `#[serde(default)]`
/// (unchanged).
pub fn nullable_patch<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Patch field of a `NOT NULL` column, with `[rust] serde = true`: present values must
/// not be `null` (plain `Option<T>` would read `null` as "unchanged" and hide the
/// inconsistency).
pub fn required_patch<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            name: "id",
            expected: "integer NOT NULL (i32)",
        },
        Column {
            name: "note",
            expected: "text (String)",
        },
        Column {
            name: "count",
            expected: "integer (i32)",
        },
    ];

    fn fields(text: &str) -> Result<Fields<'_>, DecodeError> {
        let ctx = Context {
            activity_id: Some(7),
            table: "public.t",
        };
        Fields::parse(ctx, DataPart::OldData, text, COLUMNS)
    }

    #[test]
    fn keys_in_any_order_and_unknown_keys() {
        let f =
            fields(r#"{"count": 3, "dropped": [1, {"a": 2}], "id": 1, "n\u006fte": "x"}"#).unwrap();
        assert_eq!(f.value::<i32>(0), Ok(1));
        assert_eq!(f.optional::<String>(1), Some("x".to_owned()));
        assert_eq!(f.change::<Option<i32>>(2), Some(Some(3)));
        assert!(f.finish(()).is_ok());
    }

    #[test]
    fn absent_keys() {
        let f = fields(r#"{"note": null}"#).unwrap();
        assert_eq!(f.optional::<String>(1), None);
        assert_eq!(f.optional::<i32>(2), None);
        assert_eq!(f.change::<i32>(2), None);
        assert_eq!(f.value::<Option<i32>>(2), Ok(None));
        assert!(matches!(
            f.value::<i32>(0),
            Err(DecodeError::MissingColumn { column: "id", .. })
        ));
    }

    #[test]
    fn the_first_error_in_reading_order_is_reported() {
        let f = fields(r#"{"id": "one", "note": 5, "count": "x"}"#).unwrap();
        assert_eq!(f.optional::<String>(1), None);
        assert_eq!(f.optional::<i32>(2), None);
        // A later failing NOT NULL column reports the earlier kept error.
        match f.value::<i32>(0) {
            Err(DecodeError::InvalidValue {
                activity_id: Some(7),
                column: "note",
                expected: "text (String)",
                found,
                ..
            }) => assert_eq!(&*found, "5"),
            other => panic!("{other:?}"),
        }
        let f = fields(r#"{"count": "x"}"#).unwrap();
        assert_eq!(f.change::<i32>(2), None);
        assert!(matches!(
            f.finish(()),
            Err(DecodeError::InvalidValue {
                column: "count",
                ..
            })
        ));
    }

    #[test]
    fn malformed_objects() {
        for text in [
            r#"[1]"#,
            r#"{"id": 1"#,
            r#"{"id": 1} x"#,
            r#"{"id": 1, "id": 2}"#,
        ] {
            assert!(
                matches!(fields(text), Err(DecodeError::InvalidJson { .. })),
                "{text}"
            );
        }
    }
}
