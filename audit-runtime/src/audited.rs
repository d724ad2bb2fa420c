//! What the history queries need to know about generated code.
//!
//! The generator implements [`AuditedTable`] for the change enum of every audited table
//! with a primary key (`ArticleChange`), and [`AuditTrail`] for the crate-wide `Change`
//! enum. The queries of [`crate::query`] are generic over them, so they are typed end to
//! end without the runtime knowing any table.

use crate::error::DecodeError;

/// The crate-wide change type of generated code (`Change`): where its audit trail lives
/// and how to decode an activity of any of its tables.
pub trait AuditTrail: Sized {
    /// The audit schema (unquoted), e.g. `audit`.
    const AUDIT_SCHEMA: &'static str;
    /// The SQL type of `transaction.actor_id` as written in the manifest, e.g. `text`
    /// or `bigint`. Queries cast the actor parameter to it so that the actor index is
    /// used.
    const ACTOR_ID_TYPE: &'static str;
    /// Every table (`(schema, name)`, partitions included) whose activity this type
    /// decodes.
    const TABLES: &'static [(&'static str, &'static str)];

    /// Decodes a change of `schema.table` from the raw JSON text of an activity's parts.
    fn decode(
        activity_id: Option<i64>,
        schema: &str,
        table: &str,
        verb: &str,
        old_data: Option<&str>,
        changed_data: Option<&str>,
    ) -> Result<Self, DecodeError>;
}

/// The change type of one audited table with a primary key (`ArticleChange`): its
/// names, its key and row types, and how its history is decoded.
pub trait AuditedTable: Sized {
    /// The record key (`ArticleKey`).
    type Key;
    /// The audited row (`Article`).
    type Row: Clone;

    /// The audit schema (unquoted), e.g. `audit`.
    const AUDIT_SCHEMA: &'static str;
    /// The table's schema (unquoted); activity is recorded under this name.
    const SCHEMA: &'static str;
    /// The table's name (unquoted).
    const TABLE: &'static str;
    /// The primary key columns in key order: the parts of `activity.object_id`.
    const KEY_COLUMNS: &'static [&'static str];

    /// The JSON text of `key` as recorded in `activity.object_id`: the value itself for a
    /// one-column key, an array in key order for a composite key.
    fn object_id(key: &Self::Key) -> String;

    /// Decodes a change from the raw JSON text of an activity's parts.
    fn decode(
        activity_id: Option<i64>,
        verb: &str,
        old_data: Option<&str>,
        changed_data: Option<&str>,
    ) -> Result<Self, DecodeError>;

    /// The row after the change; `None` after a delete or truncate.
    fn row_after(&self) -> Option<Self::Row>;
}
