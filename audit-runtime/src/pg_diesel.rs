//! Reading the activity and transaction columns through diesel, without diesel's
//! `serde_json` and `network-address` features: jsonb is kept as raw text, `inet` and
//! `xid8` are read from their binary forms (diesel has no `xid8` type).
//!
//! diesel's PostgreSQL connection receives every result in binary format, so each value
//! here is the server's binary form of its column type.

use crate::activity::{Activity, UnknownVerb, Xid8};
use crate::entry::TransactionInfo;
use crate::entry::read::{RawEntry, column_error};
use crate::error::DecodeError;
use chrono::{DateTime, Utc};
use diesel::deserialize::{self, FromSql, QueryableByName};
use diesel::pg::{Pg, PgValue};
use diesel::row::{NamedRow, Row};
use diesel::sql_types::{BigInt, Inet, Jsonb, Nullable, Oid, Text, Timestamptz};
use serde_json::Value;
use serde_json::value::RawValue;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The OID of `json`; every other JSON value read here is `jsonb`.
const JSON_OID: u32 = 114;

/// A json/jsonb value kept as the raw text the server sent (diesel's `serde_json`
/// integration would parse it into a `Value` and round numerics through `f64`).
pub(crate) struct RawJson(pub(crate) Box<RawValue>);

impl FromSql<Jsonb, Pg> for RawJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        // jsonb's binary form is a version byte (1) followed by the text; json's is the
        // text.
        let text = if value.get_oid().get() == JSON_OID {
            bytes
        } else {
            match bytes.split_first() {
                Some((1, rest)) => rest,
                _ => return Err("unsupported jsonb binary version".into()),
            }
        };
        let text = std::str::from_utf8(text)?;
        Ok(Self(RawValue::from_string(text.to_owned())?))
    }
}

/// An `inet` value's address; a netmask, if one was stored, is dropped (as the
/// `postgres` driver does).
pub(crate) struct Addr(pub(crate) IpAddr);

impl FromSql<Inet, Pg> for Addr {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        // Binary form: family (2 = IPv4, 3 = IPv6), mask bits, is-cidr flag, address
        // length, address bytes.
        let address = match value.as_bytes() {
            [2, _, _, 4, octets @ ..] => <[u8; 4]>::try_from(octets)
                .ok()
                .map(|o| IpAddr::V4(Ipv4Addr::from(o))),
            [3, _, _, 16, octets @ ..] => <[u8; 16]>::try_from(octets)
                .ok()
                .map(|o| IpAddr::V6(Ipv6Addr::from(o))),
            _ => None,
        };
        address
            .map(Self)
            .ok_or_else(|| format!("invalid inet value of {} bytes", value.as_bytes().len()).into())
    }
}

/// An `xid8` value. diesel has no SQL type for it; its binary form is int8's (eight
/// bytes, big-endian), read here as unsigned, so it is read as `BigInt`.
pub(crate) struct XidValue(pub(crate) Xid8);

impl FromSql<BigInt, Pg> for XidValue {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let bytes = value.as_bytes();
        let bytes: [u8; 8] = bytes
            .try_into()
            .map_err(|_| format!("xid8 needs 8 bytes, got {}", bytes.len()))?;
        Ok(Self(Xid8(u64::from_be_bytes(bytes))))
    }
}

/// Reads column `index` of `row` as SQL type `ST`, naming `column` and the activity `id`
/// in the error.
fn get<'a, ST, T>(
    row: &impl Row<'a, Pg>,
    index: usize,
    id: Option<i64>,
    column: &str,
) -> Result<T, DecodeError>
where
    T: FromSql<ST, Pg>,
{
    Row::get_value::<ST, T, usize>(row, index).map_err(|e| column_error(id, column, e.to_string()))
}

/// Reads one row of the history queries' select list (`entry::read::SELECT`), the
/// columns by index as the `postgres` driver reads them.
pub(crate) fn raw_entry<'a>(row: &impl Row<'a, Pg>) -> Result<RawEntry, DecodeError> {
    let id: i64 = get::<BigInt, _>(row, 0, None, "id")?;
    let id_some = Some(id);
    let json = |j: Option<RawJson>| j.map(|j| j.0);
    let transaction_id: Option<i64> =
        get::<Nullable<BigInt>, _>(row, 9, id_some, "transaction.id")?;
    let transaction = match transaction_id {
        None => None,
        Some(tid) => {
            let context: Option<RawJson> =
                get::<Nullable<Jsonb>, _>(row, 12, id_some, "transaction.context")?;
            let context = context
                .map(|c| serde_json::from_str::<Value>(c.0.get()))
                .transpose()
                .map_err(|e| column_error(id_some, "transaction.context", e.to_string()))?;
            let client_addr: Option<Addr> =
                get::<Nullable<Inet>, _>(row, 11, id_some, "transaction.client_addr")?;
            Some(TransactionInfo {
                id: tid,
                actor_id: get::<Nullable<Text>, _>(row, 10, id_some, "transaction.actor_id")?,
                client_addr: client_addr.map(|a| a.0),
                context,
                issued_at: get::<Timestamptz, _>(row, 13, id_some, "transaction.issued_at")?,
            })
        }
    };
    let xid: XidValue = get::<BigInt, _>(row, 6, id_some, "native_transaction_id")?;
    Ok(RawEntry {
        id,
        issued_at: get::<Timestamptz, DateTime<Utc>>(row, 1, id_some, "issued_at")?,
        verb: get::<Text, _>(row, 2, id_some, "verb")?,
        schema_name: get::<Text, _>(row, 3, id_some, "schema_name")?,
        table_name: get::<Text, _>(row, 4, id_some, "table_name")?,
        object_id: json(get::<Nullable<Jsonb>, _>(row, 5, id_some, "object_id")?),
        native_transaction_id: xid.0,
        old_data: json(get::<Nullable<Jsonb>, _>(row, 7, id_some, "old_data")?),
        changed_data: json(get::<Nullable<Jsonb>, _>(row, 8, id_some, "changed_data")?),
        transaction,
    })
}

impl QueryableByName<Pg> for RawEntry {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        Ok(raw_entry(row)?)
    }
}

/// A row of the history statement (`query::sql::history`): the select list, then the key
/// the record had before an update that changed it.
pub(crate) struct HistoryRow {
    pub(crate) entry: RawEntry,
    pub(crate) previous_key: Option<String>,
}

impl QueryableByName<Pg> for HistoryRow {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        let entry = raw_entry(row)?;
        let previous_key = get::<Nullable<Text>, _>(row, 14, Some(entry.id), "previous key")?;
        Ok(Self {
            entry,
            previous_key,
        })
    }
}

/// Reads one row of `SELECT * FROM <audit schema>.activity` (columns found by name), as
/// `Activity::from_row` does for the `postgres` driver.
impl QueryableByName<Pg> for Activity {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        let id: Option<i64> = NamedRow::get::<BigInt, i64>(row, "id").ok();
        macro_rules! get {
            ($st:ty, $name:literal) => {
                NamedRow::get::<$st, _>(row, $name)
                    .map_err(|e| column_error(id, $name, e.to_string()))?
            };
        }
        let verb: String = get!(Text, "verb");
        let json = |j: Option<RawJson>| j.map(|j| j.0);
        let xid: XidValue = get!(BigInt, "native_transaction_id");
        Ok(Self {
            id: get!(BigInt, "id"),
            schema_name: get!(Text, "schema_name"),
            table_name: get!(Text, "table_name"),
            relid: get!(Oid, "relid"),
            issued_at: get!(Timestamptz, "issued_at"),
            native_transaction_id: xid.0,
            verb: verb.parse().map_err(|e: UnknownVerb| DecodeError::Row {
                activity_id: id,
                column: "verb".to_owned(),
                message: e.to_string(),
            })?,
            object_id: json(get!(Nullable<Jsonb>, "object_id")),
            old_data: json(get!(Nullable<Jsonb>, "old_data")),
            changed_data: json(get!(Nullable<Jsonb>, "changed_data")),
            transaction_id: get!(Nullable<BigInt>, "transaction_id"),
        })
    }
}
