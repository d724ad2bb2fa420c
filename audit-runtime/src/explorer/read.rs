//! The explorer's reads: the history queries' select list and record walk, plus the
//! paged statements of the table, actor and transaction pages. Each statement is served
//! by an index of the audit schema; every value is a bind parameter.

use super::render::Kind;
use crate::entry::{Entry, read};
use crate::query::sql::{from_activity, history_in, quote};
use crate::query::walk::Walk;
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use std::collections::HashMap;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row};

/// The error of one read, as shown to the viewer.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A value the viewer gave does not fit (an actor id that is not of the actor type).
    Input(String),
    /// The read failed.
    Failed(String),
}

/// The recorded JSON of one activity, undecoded: the explorer shows any table's values
/// as recorded, typed by the table's current column types.
#[derive(Debug, Clone)]
pub(crate) struct Data {
    /// `old_data`.
    pub(crate) old: Option<Box<RawValue>>,
    /// `changed_data`.
    pub(crate) changed: Option<Box<RawValue>>,
}

/// An activity as the explorer reads it.
pub(crate) type Change = Entry<Data>;

fn raw(text: Option<&str>) -> Option<Box<RawValue>> {
    text.and_then(|t| RawValue::from_string(t.to_owned()).ok())
}

/// Reads one row of the shared select list.
fn change(row: &Row) -> Result<Change, ReadError> {
    read::raw(row)
        .and_then(|r| {
            r.decode(|_, _, _, _, old, changed| {
                Ok(Data {
                    old: raw(old),
                    changed: raw(changed),
                })
            })
        })
        .map_err(|e| ReadError::Failed(e.to_string()))
}

fn db(e: tokio_postgres::Error) -> ReadError {
    match e.as_db_error() {
        Some(db) if *db.code() == tokio_postgres::error::SqlState::INVALID_TEXT_REPRESENTATION => {
            ReadError::Input(db.message().to_owned())
        }
        Some(db) => ReadError::Failed(db.message().to_owned()),
        None => ReadError::Failed(e.to_string()),
    }
}

/// The tables a viewer may see, as two parallel arrays for `unnest`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Visible {
    pub(crate) schemas: Vec<String>,
    pub(crate) tables: Vec<String>,
}

/// `(a.schema_name, a.table_name)` is one of the visible tables in parameters `$s`, `$t`.
fn visible(alias: &str, s: usize, t: usize) -> String {
    format!(
        "({alias}.\"schema_name\", {alias}.\"table_name\") IN \
         (SELECT * FROM ROWS FROM (pg_catalog.unnest(${s}::pg_catalog.text[]), \
         pg_catalog.unnest(${t}::pg_catalog.text[])))"
    )
}

/// A column of a table as it is now.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) kind: Kind,
}

/// A table's current columns (in table order) and primary key columns (in key order);
/// both empty when the table no longer exists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Columns {
    pub(crate) columns: Vec<Column>,
    pub(crate) key: Vec<String>,
}

impl Columns {
    /// The kind of column `name` (`Other` for columns that no longer exist).
    pub(crate) fn kind(&self, name: &str) -> Kind {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map_or(Kind::Other, |c| c.kind)
    }
}

/// The current columns of each of `tables` (`(schema, table)`), read from the catalog
/// in one round trip.
pub(crate) async fn columns(
    client: &Client,
    tables: &[(String, String)],
) -> Result<HashMap<(String, String), Columns>, ReadError> {
    let mut out: HashMap<(String, String), Columns> = tables
        .iter()
        .map(|t| (t.clone(), Columns::default()))
        .collect();
    if tables.is_empty() {
        return Ok(out);
    }
    let names: Vec<String> = tables
        .iter()
        .map(|(s, t)| format!("{}.{}", quote(s), quote(t)))
        .collect();
    let rows = client
        .query_typed(
            "SELECT n.i, a.attname::pg_catalog.text, \
                    pg_catalog.format_type(a.atttypid, a.atttypmod), \
                    pg_catalog.array_position(i.indkey::pg_catalog.int2[], a.attnum) \
             FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS n(name, i) \
             JOIN pg_catalog.pg_attribute a ON a.attrelid = pg_catalog.to_regclass(n.name) \
             LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
             WHERE a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY n.i, a.attnum",
            &[(&names, Type::TEXT_ARRAY)],
        )
        .await
        .map_err(db)?;
    let mut keys: HashMap<usize, Vec<(i32, String)>> = HashMap::new();
    for row in &rows {
        let index = usize::try_from(row.get::<_, i64>(0) - 1).unwrap_or(0);
        let name: String = row.get(1);
        let ty: String = row.get(2);
        let position: Option<i32> = row.get(3);
        let Some(table) = tables.get(index) else {
            continue;
        };
        if let Some(p) = position {
            keys.entry(index).or_default().push((p, name.clone()));
        }
        if let Some(c) = out.get_mut(table) {
            c.columns.push(Column {
                name,
                kind: Kind::of(&ty),
            });
        }
    }
    for (index, mut key) in keys {
        key.sort();
        if let Some(c) = out.get_mut(&tables[index]) {
            c.key = key.into_iter().map(|(_, n)| n).collect();
        }
    }
    Ok(out)
}

/// One record's history, oldest first, following key changes back like
/// [`history_async`](crate::query::history_async) does.
pub(crate) async fn history(
    client: &Client,
    audit_schema: &str,
    schema: &str,
    table: &str,
    key: &str,
    key_columns: &[String],
) -> Result<Vec<Change>, ReadError> {
    // Without the table's key columns (it was dropped), key changes cannot be followed:
    // a column name no row has makes every "old key" NULL.
    let none = [String::new()];
    let key_columns = if key_columns.is_empty() {
        &none[..]
    } else {
        key_columns
    };
    let statement = history_in(audit_schema, key_columns.len());
    let mut walk = Walk::new(key.to_owned());
    while let Some((object_id, bound)) = walk.next() {
        let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
            (&schema, Type::TEXT),
            (&table, Type::TEXT),
            (&object_id, Type::TEXT),
            (&bound, Type::INT8),
        ];
        params.extend(
            key_columns
                .iter()
                .map(|c| (c as &(dyn ToSql + Sync), Type::TEXT)),
        );
        let rows = client.query_typed(&statement, &params).await.map_err(db)?;
        let entries = rows
            .iter()
            .map(|row| {
                Ok((
                    change(row)?,
                    row.try_get(14)
                        .map_err(|e| ReadError::Failed(e.to_string()))?,
                ))
            })
            .collect::<Result<Vec<_>, ReadError>>()?;
        walk.feed(entries);
    }
    Ok(walk.finish())
}

/// Where a page of newest-first activity starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// The newest.
    Newest,
    /// Activities with ids below this one (the next older page).
    Before(i64),
    /// Activities with ids above this one (the next newer page).
    After(i64),
}

/// The table page's filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filters {
    pub(crate) verb: Option<String>,
    pub(crate) actor: Option<String>,
    pub(crate) from: Option<DateTime<Utc>>,
    pub(crate) to: Option<DateTime<Utc>>,
}

/// How many activity ids one table page searches when it is filtered by verb or time
/// (and not by actor): an id range of the primary key, so that a filter matching few
/// rows never becomes a scan of the whole activity table. The next page searches on.
pub(crate) const WINDOW: i64 = 20_000;

/// One page of a table's activity, newest first.
#[derive(Debug)]
pub(crate) struct TablePage {
    /// At most `limit` activities, newest first.
    pub(crate) changes: Vec<Change>,
    /// The `before` cursor of the next older page, if there may be one.
    pub(crate) older: Option<i64>,
    /// The `after` cursor of the next newer page, if there may be one.
    pub(crate) newer: Option<i64>,
    /// The id range `[from, to)` searched, when it was bounded by [`WINDOW`].
    pub(crate) searched: Option<(i64, i64)>,
}

/// One page of a table's activity, newest first, from `cursor`.
///
/// Unfiltered, served by the activity's primary key (walked backwards from the cursor)
/// or the record index (for a table with few activities); with an actor, by the
/// transaction index `(actor_id, issued_at)` and the activity's `transaction_id` index;
/// filtered by verb or time only, by a range of at most [`WINDOW`] ids of the primary
/// key. Never an offset: the last page costs what the first does.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn table_page(
    client: &Client,
    audit_schema: &str,
    actor_type: &str,
    schema: &str,
    table: &str,
    filters: &Filters,
    cursor: Cursor,
    limit: usize,
) -> Result<TablePage, ReadError> {
    // A time range may be wide and a verb rare: either searches a window of ids, never
    // the whole table (the planner would scan it sequentially for a rare match).
    let windowed = filters.actor.is_none()
        && (filters.verb.is_some() || filters.from.is_some() || filters.to.is_some());
    let last_id = if windowed {
        let row = client
            .query_typed(
                &format!(
                    "SELECT pg_catalog.max(\"id\") FROM {}.\"activity\"",
                    quote(audit_schema)
                ),
                &[],
            )
            .await
            .map_err(db)?;
        row.first()
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .unwrap_or(0)
    } else {
        0
    };
    // The id range searched: [low, high).
    let (low, high) = match cursor {
        Cursor::Newest => (None, None),
        Cursor::Before(id) => (None, Some(id)),
        Cursor::After(id) => (Some(id.saturating_add(1)), None),
    };
    let (low, high) = if windowed {
        match cursor {
            Cursor::After(_) => {
                let low = low.unwrap_or(0);
                (Some(low), Some(low.saturating_add(WINDOW)))
            }
            _ => {
                let high = high.unwrap_or(last_id.saturating_add(1));
                (Some(high.saturating_sub(WINDOW).max(0)), Some(high))
            }
        }
    } else {
        (low, high)
    };
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let mut params: Vec<(&(dyn ToSql + Sync), Type)> = vec![
        (&schema, Type::TEXT),
        (&table, Type::TEXT),
        (&fetch, Type::INT8),
    ];
    let mut conditions = String::new();
    let mut add = |condition: String| {
        conditions.push_str(" AND ");
        conditions.push_str(&condition);
    };
    if let Some(low) = &low {
        params.push((low, Type::INT8));
        add(format!("a.\"id\" >= ${}", params.len()));
    }
    if let Some(high) = &high {
        params.push((high, Type::INT8));
        add(format!("a.\"id\" < ${}", params.len()));
    }
    if let Some(verb) = &filters.verb {
        params.push((verb, Type::TEXT));
        add(format!("a.\"verb\" = ${}", params.len()));
    }
    if let Some(from) = &filters.from {
        params.push((from, Type::TIMESTAMPTZ));
        add(format!("a.\"issued_at\" >= ${}", params.len()));
    }
    if let Some(to) = &filters.to {
        params.push((to, Type::TIMESTAMPTZ));
        add(format!("a.\"issued_at\" < ${}", params.len()));
    }
    if let Some(actor) = &filters.actor {
        params.push((actor, Type::TEXT));
        add(format!(
            "a.\"transaction_id\" IS NOT NULL AND t.\"actor_id\" = ${}::pg_catalog.text::{actor_type}",
            params.len()
        ));
    }
    let ascending = matches!(cursor, Cursor::After(_));
    let statement = format!(
        "SELECT {} {} WHERE a.\"schema_name\" = $1 AND a.\"table_name\" = $2{conditions} \
         ORDER BY a.\"id\" {} LIMIT $3",
        read::SELECT,
        from_activity(audit_schema),
        if ascending { "ASC" } else { "DESC" }
    );
    let rows = client.query_typed(&statement, &params).await.map_err(db)?;
    let full = rows.len() > limit;
    let mut changes = rows
        .iter()
        .take(limit)
        .map(change)
        .collect::<Result<Vec<_>, _>>()?;
    if ascending {
        changes.reverse();
    }
    let (newest, oldest) = (changes.first().map(|c| c.id), changes.last().map(|c| c.id));
    let (older, newer) = if ascending {
        let newer = if full {
            newest
        } else if windowed && high.is_some_and(|h| h <= last_id) {
            high.map(|h| h - 1)
        } else {
            None
        };
        (Some(oldest.or(low).unwrap_or(0)), newer)
    } else {
        let older = if full {
            oldest
        } else if windowed && low.is_some_and(|l| l > 1) {
            low
        } else {
            None
        };
        let newer = match cursor {
            Cursor::Newest => None,
            _ => Some(newest.or(high.map(|h| h - 1)).unwrap_or(0)),
        };
        (older, newer)
    };
    Ok(TablePage {
        changes,
        older,
        newer,
        searched: if windowed { low.zip(high) } else { None },
    })
}

/// Where a page of an actor's transactions starts: below this `(issued_at, id)`.
pub(crate) type TransactionCursor = Option<(DateTime<Utc>, i64)>;

/// One transaction of an actor, with its first activities on visible tables.
#[derive(Debug)]
pub(crate) struct ActorTransaction {
    pub(crate) changes: Vec<Change>,
    /// How many activities on visible tables it has (counted up to a bound).
    pub(crate) count: i64,
}

/// Counting a transaction's activities stops here.
pub(crate) const COUNT_BOUND: i64 = 10_000;

/// One page of an actor's transactions started in `[from, to)`, newest first, each with
/// at most `per_transaction` of its activities on visible tables; transactions without
/// any are left out. Served by the transaction index `(actor_id, issued_at)` and the
/// activity's `transaction_id` index. Returns the page, whether there are more, and the
/// cursor of the next page.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn actor_page(
    client: &Client,
    audit_schema: &str,
    actor_type: &str,
    actor: &str,
    range: (DateTime<Utc>, DateTime<Utc>),
    cursor: TransactionCursor,
    visible_tables: &Visible,
    transactions: usize,
    per_transaction: usize,
) -> Result<(Vec<ActorTransaction>, TransactionCursor), ReadError> {
    let s = quote(audit_schema);
    let (before_time, before_id) = cursor.unwrap_or((range.1, i64::MAX));
    let fetch = i64::try_from(transactions).unwrap_or(i64::MAX - 1) + 1;
    let per = i64::try_from(per_transaction).unwrap_or(i64::MAX);
    let statement = format!(
        "SELECT {select}, t.n FROM ( \
            SELECT t.*, (SELECT pg_catalog.count(*) FROM (SELECT FROM {s}.\"activity\" AS c \
                    WHERE c.\"transaction_id\" = t.\"id\" AND c.\"transaction_id\" IS NOT NULL \
                      AND {visible_c} LIMIT {COUNT_BOUND}) AS c) AS n \
            FROM {s}.\"transaction\" AS t \
            WHERE t.\"actor_id\" = $1::pg_catalog.text::{actor_type} \
              AND t.\"issued_at\" >= $2 AND t.\"issued_at\" < $3 \
              AND t.\"issued_at\" <= $4 AND (t.\"issued_at\" < $4 OR t.\"id\" < $5) \
            ORDER BY t.\"issued_at\" DESC, t.\"id\" DESC LIMIT $8) AS t \
         JOIN LATERAL (SELECT * FROM {s}.\"activity\" AS a \
            WHERE a.\"transaction_id\" = t.\"id\" AND a.\"transaction_id\" IS NOT NULL \
              AND {visible_a} ORDER BY a.\"id\" LIMIT $9) AS a ON true \
         ORDER BY t.\"issued_at\" DESC, t.\"id\" DESC, a.\"id\"",
        select = read::SELECT,
        visible_c = visible("c", 6, 7),
        visible_a = visible("a", 6, 7),
    );
    let rows = client
        .query_typed(
            &statement,
            &[
                (&actor, Type::TEXT),
                (&range.0, Type::TIMESTAMPTZ),
                (&range.1, Type::TIMESTAMPTZ),
                (&before_time, Type::TIMESTAMPTZ),
                (&before_id, Type::INT8),
                (&visible_tables.schemas, Type::TEXT_ARRAY),
                (&visible_tables.tables, Type::TEXT_ARRAY),
                (&fetch, Type::INT8),
                (&per, Type::INT8),
            ],
        )
        .await
        .map_err(db)?;
    let mut page: Vec<ActorTransaction> = Vec::new();
    let mut last_tx = None;
    for row in &rows {
        let c = change(row)?;
        let count: i64 = row
            .try_get(14)
            .map_err(|e| ReadError::Failed(e.to_string()))?;
        let tx = c.transaction.as_ref().map(|t| t.id);
        if tx != last_tx {
            page.push(ActorTransaction {
                changes: Vec::new(),
                count,
            });
            last_tx = tx;
        }
        if let Some(current) = page.last_mut() {
            current.changes.push(c);
        }
    }
    let mut next = None;
    if page.len() > transactions {
        page.truncate(transactions);
        next = page
            .last()
            .and_then(|t| t.changes.first())
            .and_then(|c| c.transaction.as_ref())
            .map(|t| (t.issued_at, t.id));
    }
    Ok((page, next))
}

/// Up to `limit` activities on visible tables of transaction `id` with ids above
/// `after`, in recording order, and whether there are more. Served by the activity's
/// `transaction_id` index.
pub(crate) async fn transaction_page(
    client: &Client,
    audit_schema: &str,
    id: i64,
    after: i64,
    visible_tables: &Visible,
    limit: usize,
) -> Result<(Vec<Change>, bool), ReadError> {
    let fetch = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
    let statement = format!(
        "SELECT {} {} WHERE a.\"transaction_id\" = $1 AND a.\"transaction_id\" IS NOT NULL \
           AND a.\"id\" > $2 AND {} ORDER BY a.\"id\" LIMIT $5",
        read::SELECT,
        from_activity(audit_schema),
        visible("a", 3, 4)
    );
    let rows = client
        .query_typed(
            &statement,
            &[
                (&id, Type::INT8),
                (&after, Type::INT8),
                (&visible_tables.schemas, Type::TEXT_ARRAY),
                (&visible_tables.tables, Type::TEXT_ARRAY),
                (&fetch, Type::INT8),
            ],
        )
        .await
        .map_err(db)?;
    let more = rows.len() > limit;
    let changes = rows
        .iter()
        .take(limit)
        .map(change)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((changes, more))
}
