//! Support for generated code. Not a public API: it changes with the generator.
//!
//! Generated code only names paths below `::audit_runtime`, so a user crate that depends
//! on `audit-runtime` alone compiles it. Decoding is serde's derive straight from the
//! JSON text; only when that fails is the text looked at again, column by column, to
//! say precisely which column and value are wrong.
#![doc(hidden)]

pub use chrono;
pub use serde;
pub use serde_json;
#[cfg(feature = "time")]
pub use time;

use crate::error::{DataPart, DecodeError, snippet};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// What generated code knows about one column, for error reports.
#[derive(Debug, Clone, Copy)]
pub struct ColumnInfo {
    /// The column name (the JSON key).
    pub name: &'static str,
    /// The expected type, e.g. `integer (i32)`.
    pub expected: &'static str,
    /// Whether a full row must contain the key (`NOT NULL` columns).
    pub required: bool,
    /// Checks one JSON value against the field type.
    pub check: fn(&str) -> Result<(), serde_json::Error>,
}

/// Where a decode happens, for error reports.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The activity id, if known.
    pub activity_id: Option<i64>,
    /// The table, `schema.name`.
    pub table: &'a str,
}

/// Checks that `raw` deserialises as `T`.
pub fn check<T: DeserializeOwned>(raw: &str) -> Result<(), serde_json::Error> {
    serde_json::from_str::<T>(raw).map(drop)
}

/// Decodes a full row (`full = true`, missing required keys are errors) or a patch.
pub fn decode<T: DeserializeOwned>(
    ctx: Context<'_>,
    part: DataPart,
    text: &str,
    columns: &[ColumnInfo],
    full: bool,
) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|e| diagnose(ctx, part, text, columns, full, e))
}

/// Finds the column behind a failed decode; falls back to the parser's message.
#[cold]
fn diagnose(
    ctx: Context<'_>,
    part: DataPart,
    text: &str,
    columns: &[ColumnInfo],
    full: bool,
    error: serde_json::Error,
) -> DecodeError {
    let invalid_json = |message: String| DecodeError::InvalidJson {
        activity_id: ctx.activity_id,
        table: ctx.table.to_owned(),
        part,
        found: snippet(text),
        message: message.into(),
    };
    let Ok(object) = serde_json::from_str::<BTreeMap<String, &RawValue>>(text) else {
        return invalid_json(error.to_string());
    };
    for column in columns {
        match object.get(column.name) {
            None if full && column.required => {
                return DecodeError::MissingColumn {
                    activity_id: ctx.activity_id,
                    table: ctx.table.to_owned(),
                    part,
                    column: column.name,
                    expected: column.expected,
                };
            }
            None => {}
            Some(raw) => {
                if let Err(e) = (column.check)(raw.get()) {
                    return DecodeError::InvalidValue {
                        activity_id: ctx.activity_id,
                        table: ctx.table.to_owned(),
                        part,
                        column: column.name,
                        expected: column.expected,
                        found: snippet(raw.get()),
                        message: e.to_string().into(),
                    };
                }
            }
        }
    }
    invalid_json(error.to_string())
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

/// Patch field of a nullable column: present `null` is `Some(None)` (set to NULL), an
/// absent key is `None` through `#[serde(default)]` (unchanged).
pub fn nullable_patch<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Patch field of a `NOT NULL` column: present values must not be `null` (plain
/// `Option<T>` would read `null` as "unchanged" and hide the inconsistency).
pub fn required_patch<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
