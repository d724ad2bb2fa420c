//! The queries for diesel: the same statements as the other drivers' ([`sql`]), run with
//! `sql_query` on the caller's `PgConnection`, rows decoded the same way.

use super::walk::{Walk, known_state_at};
use super::{TimeRange, decode, sql};
use crate::audited::{AuditTrail, AuditedTable};
use crate::entry::Entry;
use crate::entry::read::RawEntry;
use crate::error::DecodeError;
use crate::pg_diesel::HistoryRow;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel::{PgConnection, RunQueryDsl};

/// Why a history query of the diesel driver failed.
#[derive(Debug, thiserror::Error)]
pub enum DieselQueryError {
    /// The database returned an error (or diesel could not read a row).
    #[error("history query failed: {0}")]
    Database(diesel::result::Error),
    /// A row could not be decoded into the generated types.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// `as_of_diesel` asked for a time before the oldest kept activity of the record.
    #[error(transparent)]
    StartsLater(#[from] super::HistoryStartsLater),
}

impl From<diesel::result::Error> for DieselQueryError {
    /// A row that could not be read is a [`Decode`](Self::Decode) error naming the
    /// activity and column, as with the other drivers; anything else is
    /// [`Database`](Self::Database).
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::DeserializationError(inner) => {
                match inner.downcast::<DecodeError>() {
                    Ok(decode) => Self::Decode(*decode),
                    Err(inner) => {
                        Self::Database(diesel::result::Error::DeserializationError(inner))
                    }
                }
            }
            other => Self::Database(other),
        }
    }
}

/// The full history of one record, oldest first, following primary-key changes back:
/// an update that gave the record its key continues with the old key's earlier
/// activities. The history starts at the record's insert (activities of an earlier
/// record that had the same key are not part of it); when older activity was dropped by
/// `[activity] retention`, at the record's oldest kept activity. Truncates record no
/// key and are not part of any record's history.
///
/// The diesel twin of [`history`](super::history): the same statement, one per key the
/// record had.
///
/// ```no_run
/// # mod generated {
/// #     pub struct ArticleKey { pub id: i32 }
/// #     pub enum ArticleChange {}
/// #     impl audit_runtime::AuditedTable for ArticleChange {
/// #         type Key = ArticleKey; type Row = ();
/// #         const AUDIT_SCHEMA: &'static str = "audit"; const SCHEMA: &'static str = "public";
/// #         const TABLE: &'static str = "article"; const KEY_COLUMNS: &'static [&'static str] = &["id"];
/// #         fn object_id(key: &ArticleKey) -> String { key.id.to_string() }
/// #         fn decode(_: Option<i64>, _: &str, _: Option<&str>, _: Option<&str>)
/// #             -> Result<Self, audit_runtime::DecodeError> { unimplemented!() }
/// #         fn row_after(&self) -> Option<()> { None }
/// #     }
/// # }
/// # use generated::*;
/// use audit_runtime::query;
/// use diesel::{Connection, PgConnection};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut conn = PgConnection::establish("postgres://localhost/app")?;
/// for entry in query::history_diesel::<ArticleChange>(&mut conn, &ArticleKey { id: 1 })? {
///     println!("{} {:?} by {:?}", entry.issued_at, entry.verb, entry.actor_id());
/// }
/// # Ok(())
/// # }
/// ```
pub fn history_diesel<T: AuditedTable>(
    conn: &mut PgConnection,
    key: &T::Key,
) -> Result<Vec<Entry<T>>, DieselQueryError> {
    let statement = sql::history::<T>();
    let mut walk = Walk::new(T::object_id(key));
    while let Some((object_id, bound)) = walk.next() {
        let mut query = diesel::sql_query(statement.as_str())
            .into_boxed::<Pg>()
            .bind::<Text, _>(T::SCHEMA)
            .bind::<Text, _>(T::TABLE)
            .bind::<Text, _>(object_id.to_owned())
            .bind::<BigInt, _>(bound);
        for column in T::KEY_COLUMNS {
            query = query.bind::<Text, _>(*column);
        }
        let rows: Vec<HistoryRow> = query.load(conn)?;
        let entries = rows
            .into_iter()
            .map(|row| Ok((row.entry.decode(decode::<T>)?, row.previous_key)))
            .collect::<Result<Vec<_>, DecodeError>>()?;
        walk.feed(entries);
    }
    Ok(walk.finish())
}

/// The record's row as it was at `at`, rebuilt from its [`history_diesel`]: `None` when
/// it did not exist then. When the history does not start with the record's insert
/// (older activity was dropped by `[activity] retention`, or the row predates auditing),
/// a time before its oldest kept activity is a [`DieselQueryError::StartsLater`] error:
/// the state then is unknown.
pub fn as_of_diesel<T: AuditedTable>(
    conn: &mut PgConnection,
    key: &T::Key,
    at: DateTime<Utc>,
) -> Result<Option<T::Row>, DieselQueryError> {
    Ok(known_state_at(&history_diesel::<T>(conn, key)?, at)?)
}

/// Who changed one record in a time range (e.g. [`TimeRange::utc_day`]), oldest first:
/// each entry has the actor, client address, time and change. The key is the one
/// recorded for the change (after it; for a delete the deleted key).
pub fn changed_in_diesel<T: AuditedTable>(
    conn: &mut PgConnection,
    key: &T::Key,
    range: TimeRange,
) -> Result<Vec<Entry<T>>, DieselQueryError> {
    let rows: Vec<RawEntry> = diesel::sql_query(sql::changed_in::<T>())
        .bind::<Text, _>(T::SCHEMA)
        .bind::<Text, _>(T::TABLE)
        .bind::<Text, _>(T::object_id(key))
        .bind::<Timestamptz, _>(range.from)
        .bind::<Timestamptz, _>(range.to)
        .load(conn)?;
    rows.into_iter()
        .map(|row| Ok(row.decode(decode::<T>)?))
        .collect()
}

/// Everything one actor did in the transactions it started in `range` (the range
/// applies to `transaction.issued_at`, the start of the transaction, which the actor
/// index covers), across the tables `C` knows (activities of other tables are
/// skipped), oldest first. `actor_id` is the id's text form, as given to
/// [`AuditContext::actor_id`](crate::AuditContext::actor_id).
pub fn actor_activity_diesel<C: AuditTrail>(
    conn: &mut PgConnection,
    actor_id: &str,
    range: TimeRange,
) -> Result<Vec<Entry<C>>, DieselQueryError> {
    let rows: Vec<RawEntry> = diesel::sql_query(sql::actor::<C>())
        .bind::<Text, _>(actor_id)
        .bind::<Timestamptz, _>(range.from)
        .bind::<Timestamptz, _>(range.to)
        .load(conn)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        if C::TABLES.contains(&(row.schema_name.as_str(), row.table_name.as_str())) {
            entries.push(
                row.decode(|id, s, t, verb, old, new| C::decode(Some(id), s, t, verb, old, new))?,
            );
        }
    }
    Ok(entries)
}
