//! Installing each variant's auditing on its copy of the benchmark table.
//!
//! - [`ours`]: the migrations `audit_codegen` emits, exactly as `generate()` writes them;
//! - [`generic`]: the classic generic row-level jsonb trigger written for this suite as
//!   the baseline;
//! - [`hstore`]: the classic row-level hstore trigger, written from its technique;
//! - [`statement`]: a generic statement-level trigger over transition tables;
//! - [`floor`]: only an activity table, written by hand-written statements.

pub mod floor;
pub mod generic;
pub mod hstore;
pub mod ours;
pub mod statement;

use postgres::Client;

/// The DDL of an audit `activity` table named `table`: a copy of ours (columns, defaults,
/// identity, indexes) when it exists, so that every variant pays the same storage cost and
/// only the way rows are produced differs; otherwise the shape of DESIGN.md §5 with the
/// indexes the history queries need.
pub(crate) fn activity_table_sql(
    client: &mut Client,
    table: &str,
    ours: &str,
) -> Result<String, postgres::Error> {
    let exists: bool = client
        .query_one("SELECT pg_catalog.to_regclass($1) IS NOT NULL", &[&ours])?
        .get(0);
    Ok(if exists {
        format!("CREATE TABLE {table} (LIKE {ours} INCLUDING ALL);")
    } else {
        let index = table.replace('.', "_");
        format!(
            "CREATE TABLE {table} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                schema_name text NOT NULL,
                table_name text NOT NULL,
                relid oid NOT NULL,
                issued_at timestamptz NOT NULL,
                native_transaction_id xid8 NOT NULL,
                verb text NOT NULL,
                object_id jsonb,
                old_data jsonb,
                changed_data jsonb,
                transaction_id bigint
            );
            CREATE INDEX {index}_record ON {table} (schema_name, table_name, object_id, id);
            CREATE INDEX {index}_transaction ON {table} (transaction_id)
                WHERE transaction_id IS NOT NULL;
            CREATE INDEX {index}_time ON {table} (issued_at);"
        )
    })
}
