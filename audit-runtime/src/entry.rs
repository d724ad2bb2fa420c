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

#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
pub(crate) mod read {
    //! Reading entries from rows of the query module's select list.

    use super::{Entry, TransactionInfo};
    use crate::activity::UnknownVerb;
    use crate::error::DecodeError;
    use crate::pg::{ClientError, RawJson, Row};

    /// The select list every history query uses, in the order [`entry`] reads it;
    /// `a` is the activity, `t` the left-joined transaction.
    pub(crate) const SELECT: &str = "a.id, a.issued_at, a.verb, a.schema_name, a.table_name, \
         a.object_id, a.native_transaction_id, a.old_data, a.changed_data, \
         t.id, t.actor_id::pg_catalog.text, t.client_addr, t.context, t.issued_at";

    /// Reads one row of [`SELECT`], decoding the change with `decode(id, schema, table,
    /// verb, old_data, changed_data)`.
    pub(crate) fn entry<C>(
        row: &Row,
        decode: impl FnOnce(i64, &str, &str, &str, Option<&str>, Option<&str>) -> Result<C, DecodeError>,
    ) -> Result<Entry<C>, DecodeError> {
        let id: i64 = row.try_get(0).map_err(|e| get_err(None, "id", e))?;
        macro_rules! get {
            ($index:literal, $name:literal) => {
                row.try_get($index)
                    .map_err(|e| get_err(Some(id), $name, e))?
            };
        }
        let verb_text: &str = get!(2, "verb");
        let verb = verb_text
            .parse()
            .map_err(|e: UnknownVerb| DecodeError::Row {
                activity_id: Some(id),
                column: "verb".to_owned(),
                message: e.to_string(),
            })?;
        let schema_name: String = get!(3, "schema_name");
        let table_name: String = get!(4, "table_name");
        let object_id: Option<RawJson> = get!(5, "object_id");
        let old_data: Option<RawJson> = get!(7, "old_data");
        let changed_data: Option<RawJson> = get!(8, "changed_data");
        let change = decode(
            id,
            &schema_name,
            &table_name,
            verb_text,
            old_data.as_ref().map(|j| j.0.get()),
            changed_data.as_ref().map(|j| j.0.get()),
        )?;
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
        Ok(Entry {
            id,
            issued_at: get!(1, "issued_at"),
            verb,
            schema_name,
            table_name,
            object_id: object_id.map(|j| j.0),
            native_transaction_id: get!(6, "native_transaction_id"),
            change,
            transaction,
        })
    }

    fn get_err(id: Option<i64>, column: &str, e: ClientError) -> DecodeError {
        DecodeError::Row {
            activity_id: id,
            column: column.to_owned(),
            message: e.to_string(),
        }
    }
}
