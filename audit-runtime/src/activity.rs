//! One row of the activity table and its verb.

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
use crate::error::DecodeError;
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use std::fmt;
use std::str::FromStr;

#[cfg(feature = "postgres")]
use postgres::{Error as ClientError, Row};
#[cfg(all(feature = "tokio-postgres", not(feature = "postgres")))]
use tokio_postgres::{Error as ClientError, Row};

/// What kind of change an activity records (`activity.verb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// A row was inserted: `changed_data` is the full new row.
    Insert,
    /// A row was updated: `old_data` is the full old row, `changed_data` the changed columns.
    Update,
    /// A row was deleted: `old_data` is the full old row.
    Delete,
    /// The table was truncated (only for tables that record truncates).
    Truncate,
}

impl Verb {
    /// The verb as stored in `activity.verb`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Truncate => "truncate",
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown verb.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown activity verb `{0}`")]
pub struct UnknownVerb(pub String);

impl FromStr for Verb {
    type Err = UnknownVerb;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "insert" => Ok(Self::Insert),
            "update" => Ok(Self::Update),
            "delete" => Ok(Self::Delete),
            "truncate" => Ok(Self::Truncate),
            other => Err(UnknownVerb(other.to_owned())),
        }
    }
}

/// A 64-bit transaction id (`xid8`), epoch included, so it does not wrap around.
///
/// Note that xid8 values repeat after a dump and restore into a new cluster: they group
/// the activities of one transaction, they do not identify it forever.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Xid8(pub u64);

impl fmt::Display for Xid8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One row of the activity table (`SELECT * FROM <audit schema>.activity`).
///
/// The JSON parts are kept as the raw text the server sent, so that decoding can go
/// straight from text to typed values and `numeric` keeps every digit.
///
/// Read with `Activity::from_row` (features `postgres`, `tokio-postgres`) or, with the
/// `diesel` feature, load it with diesel: `Activity` implements `QueryableByName<Pg>`
/// (columns found by name):
/// `diesel::sql_query("SELECT * FROM audit.activity ORDER BY id").load::<Activity>(&mut conn)`.
#[derive(Debug, Clone)]
pub struct Activity {
    /// `id`: the activity's primary key, increasing in recording order.
    pub id: i64,
    /// `schema_name`: the schema of the changed table.
    pub schema_name: String,
    /// `table_name`: the changed table.
    pub table_name: String,
    /// `relid`: the OID of the changed table when the change was recorded.
    pub relid: u32,
    /// `issued_at`: the statement time of the change.
    pub issued_at: DateTime<Utc>,
    /// `native_transaction_id`: the server transaction that made the change.
    pub native_transaction_id: Xid8,
    /// `verb`: what kind of change it was.
    pub verb: Verb,
    /// `object_id`: the record key as JSON (a scalar for a single-column key, an array in
    /// key order for a composite key); `None` for tables without a primary key.
    pub object_id: Option<Box<RawValue>>,
    /// `old_data`: the full row before an update or delete.
    pub old_data: Option<Box<RawValue>>,
    /// `changed_data`: the full new row of an insert, the changed columns of an update.
    pub changed_data: Option<Box<RawValue>>,
    /// `transaction_id`: the `transaction` row carrying actor and context, when one was set.
    pub transaction_id: Option<i64>,
}

impl Activity {
    /// The table as `schema.name` (unquoted), as used in error messages.
    pub fn qualified_table(&self) -> String {
        format!("{}.{}", self.schema_name, self.table_name)
    }

    /// The raw text of `old_data`, if any.
    pub fn old_data_text(&self) -> Option<&str> {
        self.old_data.as_deref().map(RawValue::get)
    }

    /// The raw text of `changed_data`, if any.
    pub fn changed_data_text(&self) -> Option<&str> {
        self.changed_data.as_deref().map(RawValue::get)
    }

    /// The raw text of `object_id`, if any.
    pub fn object_id_text(&self) -> Option<&str> {
        self.object_id.as_deref().map(RawValue::get)
    }

    /// Reads one row of `SELECT * FROM <audit schema>.activity` (columns found by name).
    ///
    /// `postgres::Row` and `tokio_postgres::Row` are the same type, so this serves both
    /// clients.
    #[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
    pub fn from_row(row: &Row) -> Result<Self, DecodeError> {
        let id: Option<i64> = row.try_get("id").ok();
        let get_err = |column: &str, e: ClientError| DecodeError::Row {
            activity_id: id,
            column: column.to_owned(),
            message: e.to_string(),
        };
        macro_rules! get {
            ($name:literal) => {
                row.try_get($name).map_err(|e| get_err($name, e))?
            };
        }
        let verb: String = get!("verb");
        let raw = |j: Option<crate::pg::RawJson>| j.map(|j| j.0);
        Ok(Self {
            id: get!("id"),
            schema_name: get!("schema_name"),
            table_name: get!("table_name"),
            relid: get!("relid"),
            issued_at: get!("issued_at"),
            native_transaction_id: get!("native_transaction_id"),
            verb: verb.parse().map_err(|e: UnknownVerb| DecodeError::Row {
                activity_id: id,
                column: "verb".to_owned(),
                message: e.to_string(),
            })?,
            object_id: raw(get!("object_id")),
            old_data: raw(get!("old_data")),
            changed_data: raw(get!("changed_data")),
            transaction_id: get!("transaction_id"),
        })
    }
}
