//! The error of decoding activity rows into typed values.

use std::fmt;

/// Which part of an activity row a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataPart {
    /// `old_data`: the full row before an update or delete.
    OldData,
    /// `changed_data`: the full new row of an insert, the changed columns of an update.
    ChangedData,
    /// `object_id`: the record key.
    ObjectId,
}

impl fmt::Display for DataPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::OldData => "old_data",
            Self::ChangedData => "changed_data",
            Self::ObjectId => "object_id",
        })
    }
}

/// Why an activity row could not be decoded into a typed change.
///
/// Every variant names the activity (`activity_id`, `None` when decoding raw JSON parts
/// that came without an id) and the table; value errors also name the column, the type
/// that was expected and a snippet of the offending JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A column's JSON value does not fit the column's type.
    #[error(
        "{}: {table}.{column} in {part}: expected {expected}, found `{found}`: {message}",
        activity(*activity_id)
    )]
    InvalidValue {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table, `schema.name`.
        table: String,
        /// Where the value was.
        part: DataPart,
        /// The column name.
        column: &'static str,
        /// The expected SQL and Rust type, e.g. `integer (i32)`.
        expected: &'static str,
        /// The offending JSON, shortened.
        found: Box<str>,
        /// What the JSON parser said.
        message: Box<str>,
    },
    /// A `NOT NULL` column is absent from a full row.
    ///
    /// Columns added after a row was recorded are absent from its history. A nullable
    /// column decodes as `None` then; a `NOT NULL` column has no truthful value, so
    /// decoding fails instead of inventing one (give it a `rust_type = "Option<…>"`
    /// override if old history must decode).
    #[error(
        "{}: {table}.{column} (expected {expected}) is missing from {part}",
        activity(*activity_id)
    )]
    MissingColumn {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table, `schema.name`.
        table: String,
        /// Where the column was expected.
        part: DataPart,
        /// The column name.
        column: &'static str,
        /// The expected SQL and Rust type.
        expected: &'static str,
    },
    /// The JSON text is not valid JSON of the expected shape (e.g. truncated, not an object).
    #[error(
        "{}: {table}: {part} is not valid: {message}; found `{found}`",
        activity(*activity_id)
    )]
    InvalidJson {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table, `schema.name`.
        table: String,
        /// Which part is malformed.
        part: DataPart,
        /// The offending JSON, shortened.
        found: Box<str>,
        /// What the JSON parser said.
        message: Box<str>,
    },
    /// A part the verb requires (e.g. `old_data` of an update) is NULL.
    #[error("{}: {table}: {verb} without {part}", activity(*activity_id))]
    MissingData {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table, `schema.name`.
        table: String,
        /// The verb of the activity.
        verb: String,
        /// The missing part.
        part: DataPart,
    },
    /// The verb is not one this table records (unknown, or `truncate` on a table that
    /// does not record truncates).
    #[error("{}: {table} does not record the verb `{verb}`", activity(*activity_id))]
    UnexpectedVerb {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table, `schema.name`.
        table: String,
        /// The verb found.
        verb: String,
    },
    /// The activity belongs to another table than the one decoded for.
    #[error("{}: expected an activity of {expected}, found {found}", activity(*activity_id))]
    WrongTable {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table the decoder is for.
        expected: String,
        /// The table of the activity.
        found: String,
    },
    /// The activity's table is not one the code was generated for.
    #[error("{}: {table} is not an audited table of this code", activity(*activity_id))]
    UnknownTable {
        /// The activity id, if known.
        activity_id: Option<i64>,
        /// The table of the activity.
        table: String,
    },
    /// A column of the activity row itself could not be read.
    #[error("{}: cannot read activity column {column}: {message}", activity(*activity_id))]
    Row {
        /// The activity id, if it could be read.
        activity_id: Option<i64>,
        /// The column of the activity table.
        column: String,
        /// What went wrong.
        message: String,
    },
}

fn activity(id: Option<i64>) -> String {
    match id {
        Some(id) => format!("activity {id}"),
        None => "activity".to_owned(),
    }
}

/// Shortens `json` for error messages, cutting at a character boundary.
pub(crate) fn snippet(json: &str) -> Box<str> {
    const MAX: usize = 80;
    if json.len() <= MAX {
        return json.into();
    }
    let mut end = MAX;
    while !json.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &json[..end]).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_stays_small_for_the_hot_path() {
        assert!(std::mem::size_of::<super::DecodeError>() < 128);
    }
}
