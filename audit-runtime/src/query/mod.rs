//! Typed history queries: each answers one question with one index.
//!
//! | question | function (sync / async / diesel) | index |
//! |---|---|---|
//! | full history of record x | [`history`] / [`history_async`] / `history_diesel` | activity `(schema_name, table_name, object_id, id)` |
//! | who modified record x on day d | [`changed_in`] / [`changed_in_async`] / `changed_in_diesel` | the same |
//! | what did actor p do between y and z | [`actor_activity`] / [`actor_activity_async`] / `actor_activity_diesel` | transaction `(actor_id, issued_at)`, then activity `(transaction_id)` |
//! | record x as it was at time t | [`as_of`] / [`as_of_async`] / `as_of_diesel` | the history's |
//!
//! The sync forms take any `postgres::GenericClient` (a client or a transaction), the
//! async forms any `tokio_postgres::GenericClient`, the diesel forms (feature `diesel`)
//! a `diesel::PgConnection`, in a transaction or not; all run the same SQL ([`sql`])
//! and decode rows the same way. Results are [`Entry`](crate::Entry) values: the
//! decoded change (`ArticleChange` for one table, the crate-wide `Change` for the actor
//! query), activity metadata and the transaction's actor, address and context.
//!
//! ```no_run
//! # mod generated {
//! #     pub struct Article;
//! #     pub struct ArticleKey { pub id: i32 }
//! #     pub enum ArticleChange {}
//! #     impl audit_runtime::AuditedTable for ArticleChange {
//! #         type Key = ArticleKey; type Row = ();
//! #         const AUDIT_SCHEMA: &'static str = "audit"; const SCHEMA: &'static str = "public";
//! #         const TABLE: &'static str = "article"; const KEY_COLUMNS: &'static [&'static str] = &["id"];
//! #         fn object_id(key: &ArticleKey) -> String { key.id.to_string() }
//! #         fn decode(_: Option<i64>, _: &str, _: Option<&str>, _: Option<&str>)
//! #             -> Result<Self, audit_runtime::DecodeError> { unimplemented!() }
//! #         fn row_after(&self) -> Option<()> { None }
//! #     }
//! # }
//! # use generated::*;
//! use audit_runtime::query::{self, TimeRange};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut client = postgres::Client::connect("postgres://localhost/app", postgres::NoTls)?;
//! let key = ArticleKey { id: 1 };
//! for entry in query::history::<ArticleChange>(&mut client, &key)? {
//!     println!("{} {:?} by {:?}", entry.issued_at, entry.verb, entry.actor_id());
//! }
//! let day = TimeRange::utc_day(chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
//! let who = query::changed_in::<ArticleChange>(&mut client, &key, day)?;
//! # let _ = who;
//! # Ok(())
//! # }
//! ```
// The table links the functions of both drivers; docs built without one of the two
// features (docs.rs builds with all) would otherwise fail on the missing half.
#![cfg_attr(
    not(all(feature = "postgres", feature = "tokio-postgres")),
    allow(rustdoc::broken_intra_doc_links)
)]

pub mod sql;
pub(crate) mod walk;

pub use walk::{HistoryStartsLater, state_at};

#[cfg(feature = "postgres")]
mod blocking;
#[cfg(feature = "tokio-postgres")]
mod nonblocking;
#[cfg(feature = "diesel")]
mod with_diesel;

#[cfg(feature = "postgres")]
pub use blocking::{actor_activity, as_of, changed_in, history};
#[cfg(feature = "tokio-postgres")]
pub use nonblocking::{actor_activity_async, as_of_async, changed_in_async, history_async};
#[cfg(feature = "diesel")]
pub use with_diesel::{
    DieselQueryError, actor_activity_diesel, as_of_diesel, changed_in_diesel, history_diesel,
};

use crate::error::DecodeError;
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
use crate::pg::ClientError;
use chrono::{DateTime, Days, NaiveDate, Utc};

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// The start, inclusive.
    pub from: DateTime<Utc>,
    /// The end, exclusive.
    pub to: DateTime<Utc>,
}

impl TimeRange {
    /// The range `[from, to)`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self { from, to }
    }

    /// One calendar day in UTC.
    pub fn utc_day(day: NaiveDate) -> Self {
        let from = day.and_time(chrono::NaiveTime::MIN).and_utc();
        let to = day
            .checked_add_days(Days::new(1))
            .map_or(DateTime::<Utc>::MAX_UTC, |d| {
                d.and_time(chrono::NaiveTime::MIN).and_utc()
            });
        Self { from, to }
    }

    /// One calendar day at a fixed UTC offset (e.g. the user's time zone that day).
    pub fn day_at_offset(day: NaiveDate, offset: chrono::FixedOffset) -> Self {
        let utc = Self::utc_day(day);
        let shift = chrono::Duration::seconds(offset.local_minus_utc().into());
        Self {
            from: utc.from - shift,
            to: utc.to - shift,
        }
    }
}

/// Why a history query of the `postgres` or `tokio-postgres` driver failed.
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The database returned an error.
    #[error("history query failed: {0}")]
    Database(#[from] ClientError),
    /// A row could not be decoded into the generated types.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// `as_of` asked for a time before the oldest kept activity of the record.
    #[error(transparent)]
    StartsLater(#[from] HistoryStartsLater),
}

/// Decodes through a table's change type; the table was already chosen by the query.
fn decode<T: crate::audited::AuditedTable>(
    id: i64,
    _schema: &str,
    _table: &str,
    verb: &str,
    old_data: Option<&str>,
    changed_data: Option<&str>,
) -> Result<T, DecodeError> {
    T::decode(Some(id), verb, old_data, changed_data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_half_open() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let range = TimeRange::utc_day(day);
        assert_eq!(range.from.to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(range.to.to_rfc3339(), "2026-03-02T00:00:00+00:00");
        let paris = TimeRange::day_at_offset(day, chrono::FixedOffset::east_opt(3600).unwrap());
        assert_eq!(paris.from.to_rfc3339(), "2026-02-28T23:00:00+00:00");
    }
}
