//! The queries for the `postgres` crate.

use super::walk::{Walk, known_state_at};
use super::{QueryError, TimeRange, decode, sql};
use crate::audited::{AuditTrail, AuditedTable};
use crate::entry::{Entry, read};
use chrono::{DateTime, Utc};
use postgres::GenericClient;
use postgres::types::{ToSql, Type};

/// The full history of one record, oldest first, following primary-key changes back:
/// an update that gave the record its key continues with the old key's earlier
/// activities. The history starts at the record's insert (activities of an earlier
/// record that had the same key are not part of it); when older activity was dropped by
/// `[activity] retention`, at the record's oldest kept activity. Truncates record no
/// key and are not part of any record's history.
pub fn history<T: AuditedTable>(
    client: &mut impl GenericClient,
    key: &T::Key,
) -> Result<Vec<Entry<T>>, QueryError> {
    let statement = sql::history::<T>();
    let (schema, table) = (T::SCHEMA, T::TABLE);
    let mut walk = Walk::new(T::object_id(key));
    while let Some((object_id, bound)) = walk.next() {
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&schema, Type::TEXT),
            (&table, Type::TEXT),
            (&object_id, Type::TEXT),
            (&bound, Type::INT8),
        ];
        params.extend(
            T::KEY_COLUMNS
                .iter()
                .map(|c| (c as &(dyn ToSql + Sync), Type::TEXT)),
        );
        let rows = client.query_typed(&statement, &params)?;
        let entries = rows
            .iter()
            .map(|row| Ok((read::entry(row, decode::<T>)?, row.try_get(14)?)))
            .collect::<Result<Vec<_>, QueryError>>()?;
        walk.feed(entries);
    }
    Ok(walk.finish())
}

/// The record's row as it was at `at`, rebuilt from its [`history`]: `None` when it did
/// not exist then. When the history does not start with the record's insert (older
/// activity was dropped by `[activity] retention`, or the row predates auditing), a time
/// before its oldest kept activity is a [`QueryError::StartsLater`] error: the state then is
/// unknown.
pub fn as_of<T: AuditedTable>(
    client: &mut impl GenericClient,
    key: &T::Key,
    at: DateTime<Utc>,
) -> Result<Option<T::Row>, QueryError> {
    Ok(known_state_at(&history::<T>(client, key)?, at)?)
}

/// Who changed one record in a time range (e.g. [`TimeRange::utc_day`]), oldest first:
/// each entry has the actor, client address, time and change. The key is the one
/// recorded for the change (after it; for a delete the deleted key).
pub fn changed_in<T: AuditedTable>(
    client: &mut impl GenericClient,
    key: &T::Key,
    range: TimeRange,
) -> Result<Vec<Entry<T>>, QueryError> {
    let (schema, table) = (T::SCHEMA, T::TABLE);
    let object_id = T::object_id(key);
    let rows = client.query_typed(
        &sql::changed_in::<T>(),
        &[
            (&schema, Type::TEXT),
            (&table, Type::TEXT),
            (&object_id, Type::TEXT),
            (&range.from, Type::TIMESTAMPTZ),
            (&range.to, Type::TIMESTAMPTZ),
        ],
    )?;
    rows.iter()
        .map(|row| Ok(read::entry(row, decode::<T>)?))
        .collect()
}

/// Everything one actor did in the transactions it started in `range` (the range
/// applies to `transaction.issued_at`, the start of the transaction, which the actor
/// index covers), across the tables `C` knows (activities of other tables are
/// skipped), oldest first. `actor_id` is the id's text form, as given to
/// [`AuditContext::actor_id`](crate::AuditContext::actor_id).
pub fn actor_activity<C: AuditTrail>(
    client: &mut impl GenericClient,
    actor_id: &str,
    range: TimeRange,
) -> Result<Vec<Entry<C>>, QueryError> {
    let rows = client.query_typed(
        &sql::actor::<C>(),
        &[
            (&actor_id, Type::TEXT),
            (&range.from, Type::TIMESTAMPTZ),
            (&range.to, Type::TIMESTAMPTZ),
        ],
    )?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        let schema: &str = row.try_get(3)?;
        let table: &str = row.try_get(4)?;
        if C::TABLES.contains(&(schema, table)) {
            entries.push(read::entry(row, |id, s, t, verb, old, new| {
                C::decode(Some(id), s, t, verb, old, new)
            })?);
        }
    }
    Ok(entries)
}
