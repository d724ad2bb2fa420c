//! The statements measured: pgbench scripts of the single-row write path and the bulk
//! statements, for each variant.
//!
//! Every variant runs the same DML against its own copy of the table; only the context
//! call differs (each variant's own `set_context`, and for no auditing and the hstore
//! trigger, which records no actor, a `set_config` that stands in for it, so every variant makes the same round trips and the ratios
//! measure auditing, not an extra statement).

use crate::fixture::{EXCLUDED_COLUMN, table_name_of, table_of};
use crate::install;
use crate::model::{Variant, Verb};

/// The columns every insert fills (all but the identity key).
const INSERT_COLUMNS: &str =
    "title, sku, quantity, price, in_stock, created_at, attributes, internal_note";

/// The pgbench script of one single-row transaction.
///
/// Variables: `n` (a per-client counter, start it with `-D n=0`) and `nclients` (`-D`)
/// give every client its own stream of keys to delete; `permute` spreads them over the
/// table so deletes do not walk the heap in order. For the floor, each statement also
/// writes its activity row by hand, in the same statement.
pub fn pgbench_script(verb: Verb, variant: Variant, context: bool, table_rows: u64) -> String {
    let table = table_of(variant);
    let statement = |dml: String, old_key: &str, changed: &str| {
        if variant == Variant::Floor {
            with_floor(verb, variant, &dml, old_key, changed)
        } else {
            dml
        }
    };
    let dml = match verb {
        Verb::Insert => format!(
            "\\set r random(1, 1000000)\n{};\n",
            statement(
                format!(
                    "INSERT INTO {table} ({INSERT_COLUMNS})\n\
                     VALUES ('Product ' || :r::text, 'SKU-' || :r::text, :r::integer % 500, 19.99, true,\n\
                     now(), '{{\"color\": \"red\", \"size\": 3}}', 'internal note')"
                ),
                "",
                ""
            )
        ),
        // One or two columns, as web forms change them.
        Verb::Update => format!(
            "\\set id random(1, {table_rows})\n\
             \\set both random(0, 1)\n\
             \\if :both\n\
             {};\n\
             \\else\n\
             {};\n\
             \\endif\n",
            statement(
                format!(
                    "UPDATE {table} SET price = price + 0.01, updated_at = now() WHERE id = :id"
                ),
                "id = :id",
                "'price', n.price, 'updated_at', n.updated_at",
            ),
            statement(
                format!("UPDATE {table} SET quantity = quantity + 1 WHERE id = :id"),
                "id = :id",
                "'quantity', n.quantity",
            ),
        ),
        Verb::Delete => format!(
            "\\set n :n + 1\n\
             \\set id 1 + permute(:client_id + (:n - 1) * :nclients, {table_rows})\n\
             {};\n",
            statement(format!("DELETE FROM {table} WHERE id = :id"), "", "")
        ),
    };
    if !context {
        return dml;
    }
    let set_context = match variant {
        // The hstore trigger records no actor: it gets the same stand-in as no auditing.
        Variant::None | Variant::Floor | Variant::Hstore => {
            "SELECT pg_catalog.set_config('bench.actor_id', :actor::text, true);".to_owned()
        }
        Variant::Ours => context_call(install::ours::SCHEMA),
        Variant::Generic => context_call(install::generic::SCHEMA),
        Variant::Statement => context_call(install::statement::SCHEMA),
    };
    format!("\\set actor random(1, 1000)\nBEGIN;\n{set_context}\n{dml}END;\n")
}

/// `dml` followed, in the same statement, by a hand-written `INSERT … SELECT` of the
/// activity rows it makes: the floor, the cost of storing those rows at all. For an
/// UPDATE, `old_rows` selects the rows before the change (the statement's snapshot) and
/// `changed` lists the `key, value` pairs of the columns it sets: the floor knows them,
/// so it compares nothing.
fn with_floor(verb: Verb, variant: Variant, dml: &str, old_rows: &str, changed: &str) -> String {
    let table = table_of(variant);
    let activity = format!(
        "INSERT INTO {}.activity (schema_name, table_name, relid, issued_at,
             native_transaction_id, verb, object_id, old_data, changed_data)
         SELECT 'public', '{name}', '{table}'::regclass, statement_timestamp(),
                pg_current_xact_id(),",
        install::floor::SCHEMA,
        name = table_name_of(variant),
    );
    match verb {
        Verb::Insert => format!(
            "WITH n AS ({dml} RETURNING *)
             {activity} 'insert', to_jsonb(n.id), NULL, to_jsonb(n) - '{EXCLUDED_COLUMN}'
               FROM n"
        ),
        Verb::Update => format!(
            "WITH o AS (SELECT * FROM {table} WHERE {old_rows}),
                  n AS ({dml} RETURNING {table}.*)
             {activity} 'update', to_jsonb(n.id), to_jsonb(o) - '{EXCLUDED_COLUMN}',
                    jsonb_build_object({changed})
               FROM n JOIN o ON o.id = n.id"
        ),
        Verb::Delete => format!(
            "WITH o AS ({dml} RETURNING *)
             {activity} 'delete', to_jsonb(o.id), to_jsonb(o) - '{EXCLUDED_COLUMN}', NULL
               FROM o"
        ),
    }
}

/// The web-request case: who acts, from where, and a request id.
fn context_call(schema: &str) -> String {
    format!(
        "SELECT {schema}.set_context(:actor::text, '192.0.2.10'::inet, \
         '{{\"request_id\": \"bench\"}}'::jsonb);"
    )
}

/// Single-row statements of every kind, one transaction each, outside the bulk range:
/// what a pooled connection has run before its bulk statement, so that the audit
/// functions' plans were made for one row.
pub fn warm_up_statements(variant: Variant) -> Vec<String> {
    let table = table_of(variant);
    vec![
        format!("UPDATE {table} SET quantity = quantity + 1 WHERE id = 1"),
        format!("UPDATE {table} SET price = price + 0.01, updated_at = now() WHERE id = 2"),
        format!(
            "INSERT INTO {table} ({INSERT_COLUMNS})
             VALUES ('Product', 'SKU', 1, 19.99, true, now(), '{{}}', 'internal note')"
        ),
        format!("DELETE FROM {table} WHERE id = 3"),
    ]
}

/// The key range the bulk UPDATE and DELETE touch: `rows` keys from a quarter into the
/// table (or from the start when the table is too small for that).
pub fn bulk_range(rows: u64, table_rows: u64) -> (u64, u64) {
    let start = if table_rows / 4 + rows <= table_rows {
        table_rows / 4 + 1
    } else {
        1
    };
    (start, start + rows - 1)
}

/// The bulk statement of `verb` on `rows` rows; for the floor, with the hand-written
/// activity rows in the same statement.
pub fn bulk_statement(verb: Verb, variant: Variant, rows: u64, table_rows: u64) -> String {
    let table = table_of(variant);
    let (lo, hi) = bulk_range(rows, table_rows);
    let insert = format!(
        "INSERT INTO {table} ({INSERT_COLUMNS})
         SELECT 'Product ' || g, 'SKU-' || g, g % 500, 19.99, true, now(),
                jsonb_build_object('color', 'red', 'size', g % 7), 'internal note'
           FROM generate_series(1, {rows}) AS g"
    );
    let update = format!(
        "UPDATE {table} SET quantity = quantity + 1, updated_at = now()
          WHERE id BETWEEN {lo} AND {hi}"
    );
    let delete = format!("DELETE FROM {table} WHERE id BETWEEN {lo} AND {hi}");
    let (dml, old_rows, changed) = match verb {
        Verb::Insert => (insert, String::new(), ""),
        Verb::Update => (
            update,
            format!("id BETWEEN {lo} AND {hi}"),
            "'quantity', n.quantity, 'updated_at', n.updated_at",
        ),
        Verb::Delete => (delete, String::new(), ""),
    };
    if variant == Variant::Floor {
        with_floor(verb, variant, &dml, &old_rows, changed)
    } else {
        dml
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_wraps_the_dml_in_one_transaction() {
        let script = pgbench_script(Verb::Update, Variant::Ours, true, 100);
        assert!(script.contains("BEGIN;\nSELECT audit.set_context("));
        assert!(script.trim_end().ends_with("END;"));
        let plain = pgbench_script(Verb::Update, Variant::None, true, 100);
        assert!(plain.contains("set_config('bench.actor_id'"));
        assert!(!pgbench_script(Verb::Insert, Variant::Generic, false, 100).contains("BEGIN"));
        let hstore = pgbench_script(Verb::Delete, Variant::Hstore, true, 100);
        assert!(hstore.contains("set_config('bench.actor_id'"));
        let statement = pgbench_script(Verb::Insert, Variant::Statement, true, 100);
        assert!(statement.contains("SELECT statement_audit.set_context("));
    }

    #[test]
    fn bulk_range_fits_the_table() {
        assert_eq!(bulk_range(20_000, 100_000), (25_001, 45_000));
        assert_eq!(bulk_range(1_000, 1_000), (1, 1_000));
    }
}
