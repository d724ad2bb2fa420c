//! The SQL text of the history queries, and which index serves each: for `EXPLAIN`, or
//! to run them through another driver.
//!
//! Every filter is a bind parameter; only the audit schema and the actor type, both from
//! generated code, are spliced in (the schema always quoted). Each statement selects the
//! same columns first: the activity's, then its transaction's.

use crate::audited::{AuditTrail, AuditedTable};
use crate::entry::read::SELECT;

/// Always-quoted identifier.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `FROM activity LEFT JOIN transaction` of the audit schema `schema`.
pub(crate) fn from_activity(schema: &str) -> String {
    let schema = quote(schema);
    format!(
        "FROM {schema}.\"activity\" AS a \
         LEFT JOIN {schema}.\"transaction\" AS t ON t.\"id\" = a.\"transaction_id\""
    )
}

/// The key a row had before an update, built from `old_data` like the triggers build
/// `object_id`; the key column names are parameters from `$first` on.
fn old_key(columns: usize, first: usize) -> String {
    let parts: Vec<String> = (0..columns)
        .map(|i| format!("a.\"old_data\" -> ${}::pg_catalog.text", first + i))
        .collect();
    match parts.as_slice() {
        [single] => single.clone(),
        _ => format!("pg_catalog.jsonb_build_array({})", parts.join(", ")),
    }
}

/// One record's activities with ids below a bound, oldest first, plus (as the last
/// column) the key the record had before, for updates that changed the key.
///
/// Parameters: `$1` schema, `$2` table, `$3` key JSON text, `$4` id bound, then the key
/// column names. Served by the record index `(schema_name, table_name, object_id, id)`.
pub fn history<T: AuditedTable>() -> String {
    history_in(T::AUDIT_SCHEMA, T::KEY_COLUMNS.len())
}

/// [`history`] for a table with `key_columns` key columns, audit schema `audit_schema`.
pub(crate) fn history_in(audit_schema: &str, key_columns: usize) -> String {
    let old = old_key(key_columns, 5);
    format!(
        "SELECT {SELECT}, \
                CASE WHEN a.\"verb\" = 'update' AND ({old}) IS DISTINCT FROM a.\"object_id\" \
                     THEN ({old})::pg_catalog.text END \
         {} \
         WHERE a.\"schema_name\" = $1 AND a.\"table_name\" = $2 \
           AND a.\"object_id\" = $3::pg_catalog.text::pg_catalog.jsonb AND a.\"id\" < $4 \
         ORDER BY a.\"id\"",
        from_activity(audit_schema)
    )
}

/// One record's activities issued in a time range, oldest first.
///
/// Parameters: `$1` schema, `$2` table, `$3` key JSON text, `$4` from (inclusive), `$5`
/// to (exclusive). Served by the record index; the time is a filter on its few rows.
pub fn changed_in<T: AuditedTable>() -> String {
    format!(
        "SELECT {SELECT} {} \
         WHERE a.\"schema_name\" = $1 AND a.\"table_name\" = $2 \
           AND a.\"object_id\" = $3::pg_catalog.text::pg_catalog.jsonb \
           AND a.\"issued_at\" >= $4 AND a.\"issued_at\" < $5 \
         ORDER BY a.\"id\"",
        from_activity(T::AUDIT_SCHEMA)
    )
}

/// Every activity of the transactions one actor started in a time range, oldest first.
///
/// Parameters: `$1` actor id text (cast to the actor type so the index applies), `$2`
/// from (inclusive), `$3` to (exclusive). Served by the transaction index
/// `(actor_id, issued_at)`, then the partial activity index on `transaction_id` (on a
/// partitioned activity table, of the partitions from `$2` on).
pub fn actor<C: AuditTrail>() -> String {
    let schema = quote(C::AUDIT_SCHEMA);
    // `transaction_id IS NOT NULL` is implied by the join, but stated so that the
    // planner may use the partial index on it (which leaves out context-less rows).
    // `a.issued_at >= $2` is implied too (an activity is issued during its transaction,
    // which started at `t.issued_at`), and prunes the partitions of a partitioned
    // activity table that are older than the range.
    format!(
        "SELECT {SELECT} \
         FROM {schema}.\"transaction\" AS t \
         JOIN {schema}.\"activity\" AS a ON a.\"transaction_id\" = t.\"id\" \
         WHERE t.\"actor_id\" = $1::pg_catalog.text::{} \
           AND t.\"issued_at\" >= $2 AND t.\"issued_at\" < $3 \
           AND a.\"transaction_id\" IS NOT NULL AND a.\"issued_at\" >= $2 \
         ORDER BY a.\"id\"",
        C::ACTOR_ID_TYPE
    )
}

#[cfg(test)]
mod tests {
    use super::old_key;

    #[test]
    fn old_keys_mirror_object_id() {
        assert_eq!(old_key(1, 5), "a.\"old_data\" -> $5::pg_catalog.text");
        assert_eq!(
            old_key(2, 5),
            "pg_catalog.jsonb_build_array(a.\"old_data\" -> $5::pg_catalog.text, \
             a.\"old_data\" -> $6::pg_catalog.text)"
        );
    }
}
