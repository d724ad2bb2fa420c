//! Rendering of the audit SQL (schema, per-table trigger functions) from askama templates.
//!
//! Three pure functions produce SQL text; running it (and versioning it as migrations)
//! is someone else's job:
//!
//! - [`render_audit_schema`]: the audit schema with its `transaction` and `activity`
//!   tables, indexes, functions (`set_context`, `suspend`, …) and privileges;
//! - [`render_table`]: the trigger functions and triggers of one audited table, written
//!   so that running it again replaces them (an upgrade), inside one transaction;
//! - [`render_unaudit_table`]: drops a table's triggers and functions, keeping history.
//!
//! # Design of the write path
//!
//! Each audited table gets its own trigger functions generated from its column list, so
//! nothing is looked up or diffed generically at run time. INSERT, UPDATE and DELETE are
//! recorded by statement-level triggers reading the transition tables with one
//! `INSERT ... SELECT` per statement. UPDATE pairs old and new rows on the primary key;
//! rows whose key the statement changes are noted by a per-row trigger (guarded by a WHEN
//! clause) and paired through those notes. That trigger runs AFTER each row: a BEFORE
//! ROW trigger makes the executor lock every updated row again (one more WAL record per
//! row) even when its WHEN clause is false. Only partitioned tables keep it BEFORE, as
//! rows moved between partitions fire no AFTER UPDATE row trigger. The statement-level
//! UPDATE function runs with `SET jit = off`: the planner overestimates the join of the
//! two transition tables a hundredfold and would otherwise JIT-compile bulk updates
//! (75 ms of a 600 ms 20,000-row UPDATE). Tables without a primary key record updates
//! per row.
//!
//! # Security
//!
//! Trigger functions are `SECURITY DEFINER`, owned by the migrating role, and do not pin
//! a `search_path` (a `SET` clause costs 6–12% of single-row throughput). Instead every
//! table, function, operator (`OPERATOR(pg_catalog.=)`) and non-keyword type
//! (`pg_catalog.text`) in their bodies is schema-qualified, so nothing resolves through
//! the caller's `search_path`. Comparisons use record-image equality
//! (`OPERATOR(pg_catalog.*=)`), which needs no per-type operator at all.

mod json;
mod names;
mod templates;
pub(crate) mod types;

use crate::error::{Error, Result};
use crate::spec::{AuditSpec, AuditedTable};

/// Renders the SQL creating the audit schema of `spec`: the `transaction` and
/// `activity` tables, their indexes, the `set_context` and `suspend` functions, the
/// helpers the triggers call, and the privileges (nothing for `PUBLIC` except
/// `set_context`).
pub fn render_audit_schema(spec: &AuditSpec) -> Result<String> {
    check_identifier("audit schema", &spec.audit_schema)?;
    templates::audit_schema(spec)
}

/// Renders the trigger functions and triggers recording the changes of `table`.
///
/// The script uses `CREATE OR REPLACE FUNCTION` and `DROP TRIGGER IF EXISTS` +
/// `CREATE TRIGGER`, so running it again (for example after columns were added) upgrades
/// the table's auditing in place; it has no statement that cannot run in a transaction.
pub fn render_table(spec: &AuditSpec, table: &AuditedTable) -> Result<String> {
    check_identifier("audit schema", &spec.audit_schema)?;
    validate(table)?;
    templates::audit_table(spec, table)
}

/// Renders the SQL that partitions `activity` by `issued_at` as `spec.activity` says,
/// with pg_partman: a check that pg_partman 4.x is installed (failing with the package
/// and the `CREATE EXTENSION` to run), then, when `convert`, the conversion of the
/// unpartitioned table (every row, id and link kept; skipped when it is already
/// partitioned), then pg_partman's settings (premade partitions, retention). Without
/// `convert` it changes only the settings.
///
/// Fails when `spec.activity` is not partitioned.
pub fn render_activity_partition(spec: &AuditSpec, convert: bool) -> Result<String> {
    check_identifier("audit schema", &spec.audit_schema)?;
    templates::activity_partition(spec, convert)
}

/// Renders the SQL that stops auditing `schema.table`: drops its audit triggers and
/// trigger functions. The recorded history stays in the activity table.
pub fn render_unaudit_table(spec: &AuditSpec, schema: &str, table: &str) -> Result<String> {
    check_identifier("audit schema", &spec.audit_schema)?;
    check_identifier("schema", schema)?;
    check_identifier("table", table)?;
    templates::unaudit_table(spec, schema, table)
}

/// Fails with a [`Error::Generate`] naming `what` when `name` cannot name a PostgreSQL
/// object exactly (see [`crate::ident::check_identifier`]).
fn check_identifier(what: &str, name: &str) -> Result<()> {
    crate::ident::check_identifier(what, name).map_err(Error::Generate)
}

/// Rejects options the generated SQL could not honour.
fn validate(table: &AuditedTable) -> Result<()> {
    let name = table.table.qualified_name();
    check_identifier("schema", &table.table.schema)?;
    check_identifier("table", &table.table.name)?;
    table.table.check_column_count()?;
    for column in &table.table.columns {
        check_identifier(&format!("{name}: column"), &column.name)?;
    }
    if let Some(parent) = &table.table.partition_of {
        // Transition tables are not allowed on partitions, and the parent's triggers
        // already record every row of its partitions under the parent's name.
        return Err(Error::Generate(format!(
            "{name} is a partition of {parent}: audit {parent} instead"
        )));
    }
    for excluded in &table.excluded {
        if table.table.column(excluded).is_none() {
            return Err(Error::Generate(format!(
                "{name}: excluded column {excluded:?} does not exist"
            )));
        }
    }
    if let Some(key) = &table.table.primary_key {
        if let Some(column) = key.iter().find(|k| table.excluded.contains(k)) {
            // The key is written to every activity as `object_id`; excluding one of its
            // columns could not keep its values out of the audit trail.
            return Err(Error::Generate(format!(
                "{name}: primary key column {column:?} cannot be excluded from auditing"
            )));
        }
        if let Some(column) = key.iter().find(|k| table.table.column(k).is_none()) {
            return Err(Error::Generate(format!(
                "{name}: primary key column {column:?} does not exist"
            )));
        }
    }
    if table.audited_columns().next().is_none() {
        return Err(Error::Generate(format!(
            "{name}: every column is excluded, nothing would be audited"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, QualifiedName, Schema, Table, TableKind};

    fn column(name: &str) -> Column {
        Column {
            nullable: false,
            ..Column::new(name, "integer")
        }
    }

    fn audited(table: Table, excluded: &[&str]) -> AuditedTable {
        AuditedTable {
            excluded: excluded.iter().map(|c| (*c).to_owned()).collect(),
            ..AuditedTable::new(table)
        }
    }

    fn table(name: &str) -> Table {
        Table {
            schema: "public".to_owned(),
            name: name.to_owned(),
            kind: TableKind::Ordinary,
            partition_of: None,
            columns: vec![column("id"), column("v")],
            primary_key: Some(vec!["id".to_owned()]),
        }
    }

    fn spec() -> AuditSpec {
        AuditSpec::new(Schema::default())
    }

    #[test]
    fn rendering_is_deterministic() {
        let t = audited(table("t"), &[]);
        assert_eq!(
            render_table(&spec(), &t).unwrap(),
            render_table(&spec(), &t).unwrap()
        );
        assert_eq!(
            render_audit_schema(&spec()).unwrap(),
            render_audit_schema(&spec()).unwrap()
        );
    }

    #[test]
    fn impossible_options_are_refused() {
        let key_excluded = audited(table("t"), &["id"]);
        assert!(render_table(&spec(), &key_excluded).is_err());
        let all_excluded = audited(
            Table {
                primary_key: None,
                ..table("t")
            },
            &["id", "v"],
        );
        assert!(render_table(&spec(), &all_excluded).is_err());
        let unknown = audited(table("t"), &["nope"]);
        assert!(render_table(&spec(), &unknown).is_err());
        let partition = audited(
            Table {
                partition_of: Some(QualifiedName::new("public", "parent")),
                ..table("t_2025")
            },
            &[],
        );
        assert!(render_table(&spec(), &partition).is_err());
    }

    #[test]
    fn names_postgres_would_refuse_or_truncate_are_errors() {
        let mut nul = table("t");
        nul.columns[1].name = "v\0".to_owned();
        let err = render_table(&spec(), &audited(nul, &[])).unwrap_err();
        assert!(err.to_string().contains("NUL character"), "{err}");
        let long = table(&"t".repeat(64));
        let err = render_table(&spec(), &audited(long, &[])).unwrap_err();
        assert!(err.to_string().contains("is 64 bytes long"), "{err}");
        let mut long_schema = spec();
        long_schema.audit_schema = "a".repeat(70);
        assert!(render_audit_schema(&long_schema).is_err());
        assert!(render_table(&long_schema, &audited(table("t"), &[])).is_err());
        assert!(render_unaudit_table(&spec(), "public", &"t".repeat(64)).is_err());
    }

    #[test]
    fn tables_wider_than_postgres_allows_are_errors() {
        let mut wide = table("t");
        wide.columns = (0..crate::model::MAX_COLUMNS)
            .map(|i| column(&format!("c{i}")))
            .collect();
        wide.primary_key = Some(vec!["c0".to_owned()]);
        assert!(render_table(&spec(), &audited(wide.clone(), &[])).is_ok());
        wide.columns.push(column("one_too_many"));
        let err = render_table(&spec(), &audited(wide, &[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "public.t has 1601 columns; a PostgreSQL table has at most 1600"
        );
    }

    #[test]
    fn names_cannot_end_comments_or_function_bodies() {
        let mut t = table("x\nDROP TABLE victim; --$function$");
        t.columns[1].name = "v$function$'\\".to_owned();
        let sql = render_table(&spec(), &audited(t, &[])).unwrap();
        assert!(!sql.contains("DROP TABLE victim; --$function$"), "{sql}");
        assert_eq!(sql.matches("$function$").count(), 2 * 4, "{sql}");
        assert!(sql.contains(r#"U&"x\000ADROP TABLE victim; --\0024function\0024""#));
        assert!(sql.contains(r"E'v\$function\$''\\'"), "{sql}");
    }

    #[test]
    fn every_identifier_is_quoted() {
        let mut t = table("Order Items");
        t.schema = "my \"schema\"".to_owned();
        let sql = render_table(&spec(), &audited(t, &[])).unwrap();
        assert!(sql.contains(r#"ON "my ""schema"""."Order Items""#), "{sql}");
        assert!(sql.contains(r#"'"my ""schema"""."Order Items"'::pg_catalog.regclass"#));
        assert!(sql.contains("'my \"schema\"', 'Order Items'"));
    }
}
