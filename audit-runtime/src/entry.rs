//! A typed history entry: one activity, its decoded change, and who made it.

use crate::activity::{Verb, Xid8};
use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;
use std::net::IpAddr;

/// The `transaction` row an activity is linked to: who acted, from where, with what
/// extra context. Present only when a context was set in the recording transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionInfo {
    /// `transaction.id`.
    pub id: i64,
    /// `transaction.actor_id` in its text form.
    pub actor_id: Option<String>,
    /// `transaction.client_addr` (a netmask, if one was stored, is dropped).
    pub client_addr: Option<IpAddr>,
    /// `transaction.context`: the extra values (a reason, a request id).
    pub context: Option<Value>,
    /// `transaction.issued_at`: when the transaction started.
    pub issued_at: DateTime<Utc>,
}

/// One recorded change with its activity metadata and its transaction's context.
///
/// `C` is a generated change type: a table's (`ArticleChange`) or the crate-wide
/// `Change`.
#[derive(Debug, Clone)]
pub struct Entry<C> {
    /// `activity.id`: increasing in recording order.
    pub id: i64,
    /// `activity.issued_at`: the statement time of the change.
    pub issued_at: DateTime<Utc>,
    /// `activity.verb`.
    pub verb: Verb,
    /// `activity.schema_name`.
    pub schema_name: String,
    /// `activity.table_name`.
    pub table_name: String,
    /// `activity.object_id`: the record key as raw JSON (after the change; for a delete,
    /// the deleted key); `None` for tables without a primary key.
    pub object_id: Option<Box<RawValue>>,
    /// `activity.native_transaction_id`: groups the activities of one server transaction.
    pub native_transaction_id: Xid8,
    /// The decoded change.
    pub change: C,
    /// The linked transaction row, when a context was set.
    pub transaction: Option<TransactionInfo>,
}

impl<C> Entry<C> {
    /// The actor id (text form), if a context with an actor was set.
    pub fn actor_id(&self) -> Option<&str> {
        self.transaction.as_ref()?.actor_id.as_deref()
    }

    /// The client address, if a context with one was set.
    pub fn client_addr(&self) -> Option<IpAddr> {
        self.transaction.as_ref()?.client_addr
    }

    /// The extra context values, if any were set.
    pub fn context(&self) -> Option<&Value> {
        self.transaction.as_ref()?.context.as_ref()
    }

    /// When the recording transaction started, if a context was set.
    pub fn transaction_issued_at(&self) -> Option<DateTime<Utc>> {
        self.transaction.as_ref().map(|t| t.issued_at)
    }
}

#[cfg(any(feature = "postgres", feature = "tokio-postgres", feature = "diesel"))]
pub(crate) mod read {
    //! Reading entries from rows of the query module's select list: each driver reads
    //! the columns into a [`RawEntry`], which decodes the change the same way for all.

    use super::{Entry, TransactionInfo};
    use crate::activity::{UnknownVerb, Verb, Xid8};
    use crate::error::DecodeError;
    use chrono::{DateTime, Utc};
    use serde_json::value::RawValue;

    /// The select list every history query uses, in the order the drivers read it
    /// (by index); `a` is the activity, `t` the left-joined transaction.
    pub(crate) const SELECT: &str = "a.id, a.issued_at, a.verb, a.schema_name, a.table_name, \
         a.object_id, a.native_transaction_id, a.old_data, a.changed_data, \
         t.id, t.actor_id::pg_catalog.text, t.client_addr, t.context, t.issued_at";

    /// One row of [`SELECT`] as read by a driver, before its change is decoded.
    pub(crate) struct RawEntry {
        pub(crate) id: i64,
        pub(crate) issued_at: DateTime<Utc>,
        pub(crate) verb: String,
        pub(crate) schema_name: String,
        pub(crate) table_name: String,
        pub(crate) object_id: Option<Box<RawValue>>,
        pub(crate) native_transaction_id: Xid8,
        pub(crate) old_data: Option<Box<RawValue>>,
        pub(crate) changed_data: Option<Box<RawValue>>,
        /// Read only when `t.id` is not NULL.
        pub(crate) transaction: Option<TransactionInfo>,
    }

    impl RawEntry {
        /// Decodes the change with `decode(id, schema, table, verb, old_data,
        /// changed_data)`.
        pub(crate) fn decode<C>(
            self,
            decode: impl FnOnce(
                i64,
                &str,
                &str,
                &str,
                Option<&str>,
                Option<&str>,
            ) -> Result<C, DecodeError>,
        ) -> Result<Entry<C>, DecodeError> {
            let verb: Verb = self
                .verb
                .parse()
                .map_err(|e: UnknownVerb| DecodeError::Row {
                    activity_id: Some(self.id),
                    column: "verb".to_owned(),
                    message: e.to_string(),
                })?;
            let change = decode(
                self.id,
                &self.schema_name,
                &self.table_name,
                &self.verb,
                self.old_data.as_deref().map(RawValue::get),
                self.changed_data.as_deref().map(RawValue::get),
            )?;
            Ok(Entry {
                id: self.id,
                issued_at: self.issued_at,
                verb,
                schema_name: self.schema_name,
                table_name: self.table_name,
                object_id: self.object_id,
                native_transaction_id: self.native_transaction_id,
                change,
                transaction: self.transaction,
            })
        }
    }

    /// The error of reading column `column` of the activity `id` (if known).
    pub(crate) fn column_error(id: Option<i64>, column: &str, message: String) -> DecodeError {
        DecodeError::Row {
            activity_id: id,
            column: column.to_owned(),
            message,
        }
    }

    /// Reads one row of [`SELECT`] of the `postgres` or `tokio-postgres` driver.
    #[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
    pub(crate) fn raw(row: &crate::pg::Row) -> Result<RawEntry, DecodeError> {
        use crate::pg::RawJson;

        let id: i64 = row
            .try_get(0)
            .map_err(|e| column_error(None, "id", e.to_string()))?;
        macro_rules! get {
            ($index:literal, $name:literal) => {
                row.try_get($index)
                    .map_err(|e| column_error(Some(id), $name, e.to_string()))?
            };
        }
        let json = |j: Option<RawJson>| j.map(|j| j.0);
        let transaction_id: Option<i64> = get!(9, "transaction.id");
        let transaction = match transaction_id {
            None => None,
            Some(tid) => Some(TransactionInfo {
                id: tid,
                actor_id: get!(10, "transaction.actor_id"),
                client_addr: get!(11, "transaction.client_addr"),
                context: get!(12, "transaction.context"),
                issued_at: get!(13, "transaction.issued_at"),
            }),
        };
        Ok(RawEntry {
            id,
            issued_at: get!(1, "issued_at"),
            verb: get!(2, "verb"),
            schema_name: get!(3, "schema_name"),
            table_name: get!(4, "table_name"),
            object_id: json(get!(5, "object_id")),
            native_transaction_id: get!(6, "native_transaction_id"),
            old_data: json(get!(7, "old_data")),
            changed_data: json(get!(8, "changed_data")),
            transaction,
        })
    }

    /// Reads one row of [`SELECT`] of the `postgres` or `tokio-postgres` driver,
    /// decoding the change with `decode(id, schema, table, verb, old_data,
    /// changed_data)`.
    #[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
    pub(crate) fn entry<C>(
        row: &crate::pg::Row,
        decode: impl FnOnce(i64, &str, &str, &str, Option<&str>, Option<&str>) -> Result<C, DecodeError>,
    ) -> Result<Entry<C>, DecodeError> {
        raw(row)?.decode(decode)
    }
}
