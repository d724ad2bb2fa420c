//! Support for generated code. Not a public API: it changes with the generator.
//!
//! Generated code only names paths below `::audit_runtime`, so a user crate that depends
//! on `audit-runtime` alone compiles it. Decoding is table-driven: generated code lists
//! a table's columns once ([`Column`]) and hands [`decode_object`] one typed [`Slot`] per
//! column, the fields of the table's patch (a row is decoded into a patch too, then moved
//! out of it); it reads the JSON object in one pass, parsing each value straight into its
//! slot, so the code generated per column is a field and every error names its column.
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

/// A typed place a column's value is decoded into: `Option<T>`, `None` until the value is
/// read. Generated code passes one slot per column to [`decode_object`] as
/// `&mut dyn Slot`, so the parse code is generic over the column's type only (shared by
/// every table of the crate), not generated per table or column.
pub trait Slot {
    /// Parses the JSON value at the start of `text` into the slot and returns how many
    /// bytes it took; `Err(None)` when the slot is already filled (a duplicate key).
    fn fill(&mut self, text: &str) -> Result<usize, Option<serde_json::Error>>;

    /// Fills the slot for an absent key, when the type has a value for that (`None` of
    /// an `Option`); `false` when it has not.
    fn fill_absent(&mut self) -> bool;

    /// Whether the slot holds a value.
    fn is_filled(&self) -> bool;
}

impl<T: DeserializeOwned> Slot for Option<T> {
    fn fill(&mut self, text: &str) -> Result<usize, Option<serde_json::Error>> {
        if self.is_some() {
            return Err(None);
        }
        let mut values = serde_json::Deserializer::from_str(text).into_iter::<T>();
        match values.next() {
            Some(Ok(value)) => {
                *self = Some(value);
                Ok(values.byte_offset())
            }
            Some(Err(error)) => Err(Some(error)),
            None => Err(None),
        }
    }

    fn fill_absent(&mut self) -> bool {
        match T::deserialize(Absent) {
            Ok(value) => {
                *self = Some(value);
                true
            }
            Err(_) => false,
        }
    }

    fn is_filled(&self) -> bool {
        self.is_some()
    }
}

/// Instantiates, in this crate, the slot and patch code of the column types of the type
/// table ([`crate::types`]). A debug build shares generic instances with the crates that
/// depend on it, so a crate that includes generated code links these instead of
/// compiling copies of its own. Never called: referring to the code is what makes it.
#[doc(hidden)]
pub fn instantiate_column_types(slot: &mut dyn FnMut(&mut dyn Slot)) {
    use crate::types::*;
    macro_rules! column_types {
        ($($t:ty),* $(,)?) => {$(
            // A NOT NULL column's slot, and a nullable one's.
            slot(&mut None::<$t>);
            slot(&mut None::<Option<$t>>);
            // A function pointer that is only bound is optimised away before
            // instantiation; one that escapes is not.
            core::hint::black_box(apply::<$t> as fn(&mut $t, &Option<$t>));
            core::hint::black_box(apply::<Option<$t>> as fn(&mut Option<$t>, &Option<Option<$t>>));
        )*};
    }
    column_types!(
        bool,
        i16,
        i32,
        i64,
        String,
        Float4,
        Float8,
        Numeric,
        Money,
        Bytea,
        Uuid,
        Date,
        chrono::NaiveTime,
        TimeTz,
        Timestamp,
        Timestamptz,
        Interval,
        Inet,
        MacAddr,
        MacAddr8,
        serde_json::Value,
        Array<String>,
        Array<i32>,
        Array<i64>,
    );
}

/// Reached when a slot [`decode_row`] returned `Ok` for is empty, which it rules out.
///
/// # Panics
///
/// Always: it is a bug of `decode_row` to get here.
#[cold]
#[inline(never)]
pub fn unfilled() -> ! {
    unreachable!("decode_row fills every slot or fails")
}

/// Writes a patch's new value of a column, if it has one, into the row's field.
pub fn apply<T: Clone>(field: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        field.clone_from(value);
    }
}

/// Decodes the JSON object `text`, a full row (a part of an activity of `ctx`'s table),
/// into `slots`, one per entry of `columns` and in its order: in one pass over the text,
/// each value parsed straight into its slot. Keys that are not in `columns` (dropped
/// columns) are skipped. An absent key fills its slot with `None` for an `Option` type
/// (a column added after the row was recorded) and is a [`DecodeError::MissingColumn`]
/// otherwise. On `Ok`, every slot is filled.
///
/// `columns` lists the columns in the order PostgreSQL's `jsonb` keeps object keys
/// (shorter names first, then bytewise), so that looking a key up is one comparison when
/// the text comes from the audit trail; any order decodes.
pub fn decode_row(
    ctx: Context<'_>,
    part: DataPart,
    text: &str,
    columns: &'static [Column],
    slots: &mut [&mut dyn Slot],
) -> Result<(), DecodeError> {
    decode_patch(ctx, part, text, columns, slots)?;
    for (column, slot) in columns.iter().zip(slots.iter_mut()) {
        if !slot.is_filled() && !slot.fill_absent() {
            return Err(DecodeError::MissingColumn {
                activity_id: ctx.activity_id,
                table: ctx.table.to_owned(),
                part,
                column: column.name,
                expected: column.expected,
            });
        }
    }
    Ok(())
}

/// What an object of an activity holds, for [`decode_object`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// A whole row: decoded by [`decode_row`].
    Row,
    /// The changed columns of an update: decoded by [`decode_patch`].
    Patch,
}

/// Decodes the JSON object `text` into `slots` as [`decode_row`] or [`decode_patch`]
/// does, by what it holds. Generated code decodes rows and patches with one function per
/// table, into the patch's fields, so the choice is a value rather than a second function.
pub fn decode_object(
    ctx: Context<'_>,
    part: DataPart,
    text: &str,
    columns: &'static [Column],
    slots: &mut [&mut dyn Slot],
    object: Object,
) -> Result<(), DecodeError> {
    match object {
        Object::Row => decode_row(ctx, part, text, columns, slots),
        Object::Patch => decode_patch(ctx, part, text, columns, slots),
    }
}

/// Decodes the JSON object `text`, the changed columns of an update, into `slots` as
/// [`decode_row`] does; an absent key leaves its slot empty (unchanged).
pub fn decode_patch(
    ctx: Context<'_>,
    part: DataPart,
    text: &str,
    columns: &'static [Column],
    slots: &mut [&mut dyn Slot],
) -> Result<(), DecodeError> {
    debug_assert_eq!(columns.len(), slots.len());
    match read_object(text, columns, slots) {
        Ok(()) => Ok(()),
        Err(failure) => Err(failure.error(ctx, part, text, columns)),
    }
}

/// Why [`read_object`] stopped.
enum Failure {
    /// The text is not a JSON object of distinct keys (the cold path says why).
    Syntax,
    /// The value of column `index`, at byte `at` of the text, did not parse.
    Value {
        index: usize,
        at: usize,
        error: serde_json::Error,
    },
}

impl Failure {
    /// The error to report. The text is checked as a whole first, so that JSON that is
    /// not valid is reported as such, as a parse of the whole object would.
    #[cold]
    #[inline(never)]
    fn error(
        self,
        ctx: Context<'_>,
        part: DataPart,
        text: &str,
        columns: &'static [Column],
    ) -> DecodeError {
        let invalid_json = |message: String| DecodeError::InvalidJson {
            activity_id: ctx.activity_id,
            table: ctx.table.to_owned(),
            part,
            found: snippet(text),
            message: message.into(),
        };
        if let Err(error) = validate(text, columns) {
            return invalid_json(error.to_string());
        }
        match self {
            Failure::Value { index, at, error } => {
                let rest = &text[at..];
                let found = serde_json::Deserializer::from_str(rest)
                    .into_iter::<&RawValue>()
                    .next()
                    .and_then(Result::ok)
                    .map_or(rest, RawValue::get);
                let column = columns[index];
                DecodeError::InvalidValue {
                    activity_id: ctx.activity_id,
                    table: ctx.table.to_owned(),
                    part,
                    column: column.name,
                    expected: column.expected,
                    found: snippet(found),
                    message: error.to_string().into(),
                }
            }
            // Not reached: what the fast reader refuses, `validate` refuses too.
            Failure::Syntax => invalid_json("not a JSON object".to_owned()),
        }
    }
}

/// JSON whitespace.
fn skip_whitespace(bytes: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = bytes.get(pos) {
        pos += 1;
    }
    pos
}

/// Reads the JSON object `text`, parsing each value of a column into its slot.
fn read_object(
    text: &str,
    columns: &'static [Column],
    slots: &mut [&mut dyn Slot],
) -> Result<(), Failure> {
    let bytes = text.as_bytes();
    let mut pos = skip_whitespace(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        return Err(Failure::Syntax);
    }
    pos = skip_whitespace(bytes, pos + 1);
    // Where the next key is expected: right after the previous one.
    let mut next = 0;
    let n = columns.len();
    if bytes.get(pos) == Some(&b'}') {
        pos += 1;
    } else {
        loop {
            let (key, after) = read_key(text, pos)?;
            pos = skip_whitespace(bytes, after);
            if bytes.get(pos) != Some(&b':') {
                return Err(Failure::Syntax);
            }
            pos = skip_whitespace(bytes, pos + 1);
            let found = (next..n)
                .chain(0..next.min(n))
                .find(|&i| columns[i].name == key);
            let rest = &text[pos..];
            pos += match found {
                Some(index) => {
                    next = index + 1;
                    slots[index].fill(rest).map_err(|error| match error {
                        Some(error) => Failure::Value {
                            index,
                            at: pos,
                            error,
                        },
                        None => Failure::Syntax,
                    })?
                }
                None => skip_value(rest)?,
            };
            pos = skip_whitespace(bytes, pos);
            match bytes.get(pos) {
                Some(b',') => pos = skip_whitespace(bytes, pos + 1),
                Some(b'}') => {
                    pos += 1;
                    break;
                }
                _ => return Err(Failure::Syntax),
            }
        }
    }
    if skip_whitespace(bytes, pos) == bytes.len() {
        Ok(())
    } else {
        Err(Failure::Syntax)
    }
}

/// The object key starting at byte `pos` (its opening quote) and the position after its
/// closing quote; borrowed from the text unless it has escapes.
fn read_key(text: &str, pos: usize) -> Result<(Cow<'_, str>, usize), Failure> {
    let bytes = text.as_bytes();
    if bytes.get(pos) != Some(&b'"') {
        return Err(Failure::Syntax);
    }
    let start = pos + 1;
    let mut end = start;
    while let Some(&b) = bytes.get(end) {
        match b {
            b'"' => return Ok((Cow::Borrowed(&text[start..end]), end + 1)),
            b'\\' | 0..=0x1f => break,
            _ => end += 1,
        }
    }
    // Escapes (or an error): serde_json reads the string.
    let mut keys = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<String>();
    match keys.next() {
        Some(Ok(key)) => Ok((Cow::Owned(key), pos + keys.byte_offset())),
        _ => Err(Failure::Syntax),
    }
}

/// The length of the JSON value at the start of `text`, which is skipped.
fn skip_value(text: &str) -> Result<usize, Failure> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<serde::de::IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => Ok(values.byte_offset()),
        _ => Err(Failure::Syntax),
    }
}

/// Checks that `text` is a JSON object in which no column's key appears twice, with
/// serde_json's message when it is not.
fn validate(text: &str, columns: &'static [Column]) -> Result<(), serde_json::Error> {
    let mut seen = vec![false; columns.len()];
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.deserialize_map(ObjectVisitor {
        columns,
        seen: &mut seen,
    })?;
    deserializer.end()
}

/// Checks the keys of a JSON object (see [`validate`]).
struct ObjectVisitor<'v> {
    columns: &'static [Column],
    seen: &'v mut [bool],
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            if let Some(i) = self.columns.iter().position(|c| c.name == key) {
                if self.seen[i] {
                    return Err(serde::de::Error::custom(format_args!(
                        "duplicate field `{key}`"
                    )));
                }
                self.seen[i] = true;
            }
            map.next_value::<serde::de::IgnoredAny>()?;
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

/// The JSON text of the parts of an activity that its verb needs, checked present.
#[derive(Debug, Clone, Copy)]
pub enum Parts<'a> {
    /// `insert`: the new row (`changed_data`).
    Insert {
        /// The new row.
        new: &'a str,
    },
    /// `update`: the old row (`old_data`) and the changed columns (`changed_data`).
    Update {
        /// The old row.
        old: &'a str,
        /// The changed columns.
        changed: &'a str,
    },
    /// `delete`: the old row (`old_data`).
    Delete {
        /// The old row.
        old: &'a str,
    },
    /// `truncate`, for a table that records it.
    Truncate,
}

/// Checks `verb` and the parts it needs: the work every table's decoder shares, done
/// once here rather than generated per table. `truncate` tells whether the table
/// records truncations.
pub fn parts<'a>(
    ctx: Context<'_>,
    verb: &str,
    old_data: Option<&'a str>,
    changed_data: Option<&'a str>,
    truncate: bool,
) -> Result<Parts<'a>, DecodeError> {
    let old = || required(ctx, verb, DataPart::OldData, old_data);
    let new = || required(ctx, verb, DataPart::ChangedData, changed_data);
    Ok(match verb {
        "insert" => Parts::Insert { new: new()? },
        "update" => Parts::Update {
            old: old()?,
            changed: new()?,
        },
        "delete" => Parts::Delete { old: old()? },
        "truncate" if truncate => Parts::Truncate,
        _ => return Err(unexpected_verb(ctx, verb)),
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

/// The variant position of table `schema.name` in `dispatch`, a list of every table name
/// of the generated `Change` sorted by schema and name, with the position of its variant.
pub fn table_index(dispatch: &[(&str, &str, u32)], schema: &str, name: &str) -> Option<u32> {
    match dispatch.binary_search_by(|&(s, n, _)| (s, n).cmp(&(schema, name))) {
        Ok(found) => Some(dispatch[found].2),
        Err(_) => None,
    }
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

    #[test]
    fn table_index_finds_every_name_and_only_those() {
        let dispatch = [
            ("public", "article", 0),
            ("public", "article_2026", 0),
            ("public", "comment", 1),
            ("sales", "article", 2),
        ];
        assert_eq!(table_index(&dispatch, "public", "article"), Some(0));
        assert_eq!(table_index(&dispatch, "public", "article_2026"), Some(0));
        assert_eq!(table_index(&dispatch, "public", "comment"), Some(1));
        assert_eq!(table_index(&dispatch, "sales", "article"), Some(2));
        assert_eq!(table_index(&dispatch, "sales", "comment"), None);
        assert_eq!(table_index(&dispatch, "", ""), None);
        assert_eq!(table_index(&[], "public", "article"), None);
    }

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

    fn ctx() -> Context<'static> {
        Context {
            activity_id: Some(7),
            table: "public.t",
        }
    }

    type Row = (Option<i32>, Option<Option<String>>, Option<Option<i32>>);

    fn row(text: &str) -> Result<Row, DecodeError> {
        let (mut id, mut note, mut count): Row = (None, None, None);
        decode_row(
            ctx(),
            DataPart::OldData,
            text,
            COLUMNS,
            &mut [&mut id, &mut note, &mut count],
        )?;
        Ok((id, note, count))
    }

    fn patch(text: &str) -> Result<(Option<i32>, Option<Option<String>>), DecodeError> {
        let (mut id, mut note, mut count): (Option<i32>, Option<Option<String>>, Option<i32>) =
            (None, None, None);
        decode_patch(
            ctx(),
            DataPart::ChangedData,
            text,
            COLUMNS,
            &mut [&mut id, &mut note, &mut count],
        )?;
        Ok((id, note))
    }

    #[test]
    fn keys_in_any_order_and_unknown_keys() {
        let (id, note, count) =
            row(r#" { "count" : 3 , "dropped": [1, {"a": 2}], "id":1, "n\u006fte": "x" } "#)
                .unwrap();
        assert_eq!(id, Some(1));
        assert_eq!(note, Some(Some("x".to_owned())));
        assert_eq!(count, Some(Some(3)));
        assert_eq!(row(r#"{"id":-1,"note":null}"#).unwrap().0, Some(-1));
    }

    #[test]
    fn absent_keys() {
        let (_, note, count) = row(r#"{"note": null, "id": 1}"#).unwrap();
        assert_eq!(note, Some(None));
        assert_eq!(count, Some(None));
        match row(r#"{"note": null}"#) {
            Err(DecodeError::MissingColumn {
                activity_id: Some(7),
                column: "id",
                expected: "integer NOT NULL (i32)",
                part: DataPart::OldData,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(patch(r#"{}"#), Ok((None, None)));
        assert_eq!(patch(r#"{"note": null}"#), Ok((None, Some(None))));
    }

    #[test]
    fn the_first_invalid_value_is_reported() {
        match row(r#"{"id": 1, "note": 5, "count": "x"}"#) {
            Err(DecodeError::InvalidValue {
                activity_id: Some(7),
                column: "note",
                expected: "text (String)",
                found,
                ..
            }) => assert_eq!(&*found, "5"),
            other => panic!("{other:?}"),
        }
        match patch(r#"{"id": null}"#) {
            Err(DecodeError::InvalidValue {
                column: "id",
                found,
                part: DataPart::ChangedData,
                ..
            }) => assert_eq!(&*found, "null"),
            other => panic!("{other:?}"),
        }
        match patch(r#"{"count": [1,  {"a": "x"}], "id": 1}"#) {
            Err(DecodeError::InvalidValue {
                column: "count",
                found,
                ..
            }) => assert_eq!(&*found, r#"[1,  {"a": "x"}]"#),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_objects() {
        for text in [
            r#"[1]"#,
            r#""#,
            r#"{"#,
            r#"{"id": 1"#,
            r#"{"id": 1,}"#,
            r#"{"id" 1}"#,
            r#"{"id": 1} x"#,
            r#"{"id": 1, "id": 2}"#,
            r#"{"id": 1x}"#,
            r#"{"id": "one", "note": }"#,
            r#"{"dropped": tru, "id": 1}"#,
            "{\"i\nd\": 1}",
            r#"{"id": 1 "note": "x"}"#,
        ] {
            assert!(
                matches!(row(text), Err(DecodeError::InvalidJson { .. })),
                "{text}: {:?}",
                row(text)
            );
        }
        // Deep nesting is a wrong value, or invalid, not a stack overflow.
        let deep = |a: &str, b: &str| {
            format!(
                r#"{{"id": 1, "note": {}"x"{}}}"#,
                a.repeat(100_000),
                b.repeat(100_000)
            )
        };
        assert!(matches!(
            row(&deep("[", "]")),
            Err(DecodeError::InvalidValue { column: "note", .. })
        ));
        assert!(matches!(
            row(&deep("[", "")),
            Err(DecodeError::InvalidJson { .. })
        ));
    }
}
