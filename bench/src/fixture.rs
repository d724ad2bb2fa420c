//! The benchmark table: its shape, its seed data, and the reset before each measurement.
//!
//! Every variant has its own copy of the table (`bench_plain` for no auditing and the
//! floor, `bench_ours`, `bench_generic`, `bench_hstore`, `bench_statement`). Before each
//! measurement the copy is refilled from `bench_seed` and the audit tables are emptied,
//! so every variant starts from the same data size, the same physical layout and an
//! empty history.

use crate::install;
use crate::model::Variant;
use postgres::Client;

/// The pristine data every measurement starts from.
pub const SEED_TABLE: &str = "public.bench_seed";

/// The column excluded from auditing in every audited variant (it exercises exclusion).
pub const EXCLUDED_COLUMN: &str = "internal_note";

/// The table a variant's workload runs against.
pub fn table_of(variant: Variant) -> &'static str {
    match variant {
        Variant::None | Variant::Floor => "public.bench_plain",
        Variant::Ours => "public.bench_ours",
        Variant::Generic => "public.bench_generic",
        Variant::Hstore => "public.bench_hstore",
        Variant::Statement => "public.bench_statement",
    }
}

/// The unqualified name of [`table_of`], as the manifest and the catalog see it.
pub fn table_name_of(variant: Variant) -> &'static str {
    table_of(variant).trim_start_matches("public.")
}

/// A realistic table of ten mixed columns: identity key, text, varchar, integer, numeric,
/// boolean, timestamptz, jsonb, and a secondary index, as application tables have.
fn create_table_sql(table: &str) -> String {
    let index = format!("{}_sku", table.trim_start_matches("public."));
    format!(
        "CREATE TABLE {table} (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            title text NOT NULL,
            sku varchar(32) NOT NULL,
            quantity integer NOT NULL,
            price numeric(12, 2) NOT NULL,
            in_stock boolean NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz,
            attributes jsonb NOT NULL,
            {EXCLUDED_COLUMN} text
        );
        CREATE INDEX {index} ON {table} (sku);"
    )
}

/// Creates the seed table with `rows` rows and the empty per-variant tables.
pub fn create(client: &mut Client, rows: u64) -> Result<(), postgres::Error> {
    let mut sql = String::new();
    for table in [
        SEED_TABLE,
        table_of(Variant::None),
        table_of(Variant::Ours),
        table_of(Variant::Generic),
        table_of(Variant::Hstore),
        table_of(Variant::Statement),
    ] {
        sql.push_str(&create_table_sql(table));
        sql.push('\n');
    }
    sql.push_str(&format!(
        "INSERT INTO {SEED_TABLE} OVERRIDING SYSTEM VALUE
         SELECT g,
                'Product ' || g,
                'SKU-' || lpad(g::text, 8, '0'),
                g % 500,
                (g % 10000) / 100.0,
                g % 3 <> 0,
                timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
                NULL,
                jsonb_build_object('color', (ARRAY['red', 'green', 'blue'])[g % 3 + 1],
                                   'size', g % 7, 'tags', jsonb_build_array('a', g % 11)),
                'internal note ' || g
           FROM generate_series(1, {rows}) AS g;"
    ));
    client.batch_execute(&sql)?;
    client.batch_execute(&format!("VACUUM ANALYZE {SEED_TABLE}"))
}

/// Audit tables a variant writes into, emptied before each of its measurements.
pub fn audit_tables_of(variant: Variant, ours_schema: &str) -> Vec<String> {
    match variant {
        Variant::None => Vec::new(),
        Variant::Ours => vec![
            format!("{ours_schema}.activity"),
            format!("{ours_schema}.transaction"),
        ],
        Variant::Generic => vec![
            format!("{}.activity", install::generic::SCHEMA),
            format!("{}.transaction", install::generic::SCHEMA),
        ],
        Variant::Hstore => vec![format!("{}.logged_actions", install::hstore::SCHEMA)],
        Variant::Statement => vec![
            format!("{}.activity", install::statement::SCHEMA),
            format!("{}.transaction", install::statement::SCHEMA),
        ],
        Variant::Floor => vec![format!("{}.activity", install::floor::SCHEMA)],
    }
}

/// The table a variant writes one row per audited change into, if it has one.
pub fn log_table_of(variant: Variant, ours_schema: &str) -> Option<String> {
    audit_tables_of(variant, ours_schema)
        .into_iter()
        .find(|t| !t.ends_with(".transaction"))
}

/// The transaction table of a variant, if it has one.
pub fn transaction_table_of(variant: Variant, ours_schema: &str) -> Option<String> {
    audit_tables_of(variant, ours_schema)
        .into_iter()
        .find(|t| t.ends_with(".transaction"))
}

/// Fills a variant's transaction table with `rows` rows of earlier transactions (xid8
/// values of a later epoch, so that no transaction of this run ever has one), analyzes
/// it, and returns the highest id: resets keep the rows up to it.
pub fn populate_transactions(
    client: &mut Client,
    variant: Variant,
    ours_schema: &str,
    rows: u64,
) -> Result<Option<i64>, postgres::Error> {
    let Some(table) = transaction_table_of(variant, ours_schema) else {
        return Ok(None);
    };
    // With the activity table too: it may reference the transaction table.
    client.batch_execute(&format!(
        "TRUNCATE {};
         INSERT INTO {table} (native_transaction_id, issued_at, client_addr, actor_id, context)
         SELECT ((1::bigint << 40) + g)::text::xid8,
                timestamptz '2024-01-01 00:00:00+00' + g * interval '10 seconds',
                '192.0.2.10', g % 1000, '{{\"request_id\": \"earlier\"}}'
           FROM generate_series(1, {rows}) AS g;",
        audit_tables_of(variant, ours_schema).join(", ")
    ))?;
    client.batch_execute(&format!("VACUUM ANALYZE {table}"))?;
    let max: Option<i64> = client
        .query_one(&format!("SELECT max(id) FROM {table}"), &[])?
        .get(0);
    Ok(Some(max.unwrap_or(0)))
}

/// Refills a variant's table from the seed and empties its audit tables, then vacuums
/// and (with `checkpoint`) checkpoints, so that no measurement pays for the previous
/// one's dirty pages or has a timed checkpoint start in its middle.
///
/// With `kept_transactions`, the transaction table is not emptied: its rows up to that id
/// (those of [`populate_transactions`]) stay, and only later ones are deleted.
pub fn reset(
    client: &mut Client,
    variant: Variant,
    ours_schema: &str,
    rows: u64,
    checkpoint: bool,
    kept_transactions: Option<i64>,
) -> Result<(), postgres::Error> {
    let table = table_of(variant);
    let mut truncated = vec![table.to_owned()];
    let transactions = transaction_table_of(variant, ours_schema);
    truncated.extend(
        audit_tables_of(variant, ours_schema)
            .into_iter()
            .filter(|t| kept_transactions.is_none() || Some(t) != transactions.as_ref()),
    );
    // Loading must not be recorded: replica mode skips ordinary triggers (superuser only,
    // which the benchmark role is; it never leaves this session).
    client.batch_execute(&format!(
        "SET session_replication_role = replica;
         TRUNCATE {};
         INSERT INTO {table} OVERRIDING SYSTEM VALUE SELECT * FROM {SEED_TABLE};
         SELECT setval(pg_get_serial_sequence('{table}', 'id'), {rows});
         RESET session_replication_role;",
        truncated.join(", ")
    ))?;
    // After the activity table is emptied: its rows may reference the deleted ones.
    if let (Some(kept), Some(transactions)) = (kept_transactions, &transactions) {
        client.batch_execute(&format!("DELETE FROM {transactions} WHERE id > {kept}"))?;
        client.batch_execute(&format!("VACUUM {transactions}"))?;
    }
    client.batch_execute(&format!("VACUUM ANALYZE {table}"))?;
    if checkpoint {
        client.batch_execute("CHECKPOINT")?;
    }
    Ok(())
}
