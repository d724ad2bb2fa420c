//! SQL expressions that turn audited rows into the JSON of the activity contract.
//!
//! Everything is computed from the column list known at build time: no catalog lookups,
//! no generic JSON diff at run time. Every function and operator is schema-qualified so
//! a caller's `search_path` can never redirect them (see the module docs of `sql`), except
//! the `=` of `IS DISTINCT FROM`, which cannot be qualified: the functions comparing
//! columns pin `search_path` to `pg_catalog, pg_temp` instead.

use crate::ident::{sql_ident, sql_literal};
use crate::model::{Column, Schema, TypeRef};

/// `jsonb_build_object` takes at most 100 arguments (`FUNC_MAX_ARGS`): 50 pairs.
const MAX_PAIRS_PER_CALL: usize = 50;

/// Record-image inequality: binary-different values, NULL-safe, defined for every type
/// (even `json`, which has no `=`), and it sees `citext` case changes and `1.0` → `1.00`.
const IMAGE_NE: &str = "OPERATOR(pg_catalog.*<>)";

/// Whether a column holds a `timestamp with time zone` (directly or through a domain),
/// whose JSON must not depend on the writing session's TimeZone.
fn is_timestamptz(schema: &Schema, type_name: &str) -> bool {
    let is_tz = |t: &str| t.starts_with("timestamp") && t.ends_with("with time zone");
    match schema.resolve_type(type_name) {
        TypeRef::Builtin(t) => is_tz(t),
        TypeRef::Domain(d) => is_tz(&d.base_type),
        _ => false,
    }
}

/// Whether a column holds an array of `timestamp with time zone` (of the type or of a
/// domain over it, or a domain over such an array).
fn is_timestamptz_array(schema: &Schema, type_name: &str) -> bool {
    match schema.resolve_type(type_name) {
        TypeRef::Array(element) => is_timestamptz(schema, element),
        TypeRef::Domain(d) => is_timestamptz_array(schema, &d.base_type),
        _ => false,
    }
}

/// Whether the trigger functions reading `columns` must run with `TimeZone` set to UTC:
/// the JSON of a `timestamptz[]` is made by a cast to `timestamp[]` (see [`value`]),
/// which takes the session's time zone.
pub(crate) fn needs_utc_session(schema: &Schema, columns: &[&Column]) -> bool {
    columns
        .iter()
        .any(|c| is_timestamptz_array(schema, &c.type_name))
}

/// `alias.column`, the reference to a column of a row or transition table. PL/pgSQL
/// reads `OLD.x` / `NEW.x` itself and knows only plain `"…"` quoting there, so a name
/// written in the `U&"…"` form is selected from the parenthesised record instead
/// (`(OLD).U&"a\000Ab"`), which plain SQL parses.
pub(crate) fn field(alias: &str, column: &str) -> String {
    let name = sql_ident(column);
    if name.starts_with("U&") && matches!(alias, "OLD" | "NEW") {
        format!("({alias}).{name}")
    } else {
        format!("{alias}.{name}")
    }
}

/// The value of `alias.column` as it goes into `jsonb_build_object`: the column itself,
/// or for a `timestamptz` the UTC wall-clock time (`timezone('UTC', …)`), which renders
/// as an offset-free ISO string meaning UTC. A `timestamptz[]` is cast to `timestamp[]`
/// whole (any number of dimensions, NULL elements kept), which gives the same
/// offset-free UTC strings because its trigger functions run with `TimeZone` set to UTC
/// ([`needs_utc_session`]).
pub(crate) fn value(schema: &Schema, column: &Column, alias: &str) -> String {
    let reference = field(alias, &column.name);
    if is_timestamptz(schema, &column.type_name) {
        format!("pg_catalog.timezone('UTC', {reference})")
    } else if is_timestamptz_array(schema, &column.type_name) {
        format!("{reference}::pg_catalog.timestamp[]")
    } else {
        reference
    }
}

/// A JSON object of `columns` read from `alias`, keyed by column name, one pair a line.
/// Continuation lines are indented by `indent`.
pub(crate) fn row_object(
    schema: &Schema,
    columns: &[&Column],
    alias: &str,
    indent: &str,
) -> String {
    let calls: Vec<String> = columns
        .chunks(MAX_PAIRS_PER_CALL)
        .map(|chunk| {
            let pairs: Vec<String> = chunk
                .iter()
                .map(|c| {
                    format!(
                        "{indent}    {}, {}",
                        sql_literal(&c.name),
                        value(schema, c, alias)
                    )
                })
                .collect();
            format!(
                "pg_catalog.jsonb_build_object(\n{}\n{indent})",
                pairs.join(",\n")
            )
        })
        .collect();
    if calls.is_empty() {
        return "'{}'::pg_catalog.jsonb".to_owned();
    }
    calls.join(" OPERATOR(pg_catalog.||) ")
}

/// The record key (`object_id`): the JSON value of a one-column key, a JSON array of a
/// composite key in key order, NULL without a key.
pub(crate) fn key(schema: &Schema, key_columns: &[&Column], alias: &str) -> String {
    match key_columns {
        // Typed: the rows are built in a sub-query, whose untyped NULL would be text.
        [] => "NULL::pg_catalog.jsonb".to_owned(),
        [single] => format!("pg_catalog.to_jsonb({})", value(schema, single, alias)),
        several => format!(
            "pg_catalog.jsonb_build_array({})",
            several
                .iter()
                .map(|c| value(schema, c, alias))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A row of `columns` read from `alias`: `ROW(a."x", a."y")::pg_catalog.record`. The
/// cast matters: `ROW(…) op ROW(…)` between two bare row constructors is expanded into
/// per-column comparisons, which have no `*=` operator.
pub(crate) fn row_of(columns: &[&Column], alias: &str) -> String {
    let refs: Vec<String> = columns.iter().map(|c| field(alias, &c.name)).collect();
    format!("ROW({})::pg_catalog.record", refs.join(", "))
}

/// Built-in types whose `=` (of `pg_catalog`, resolved by argument type) holds exactly
/// when the two values are binary identical. Comparing them with `=` skips forming two
/// row values per column, which is most of the cost of comparing a wide row.
fn has_binary_equality(schema: &Schema, type_name: &str) -> bool {
    let TypeRef::Builtin(t) = schema.resolve_type(type_name) else {
        return false;
    };
    // Drop type modifiers: `timestamp(3) with time zone` -> `timestamp with time zone`.
    let mut base = String::with_capacity(t.len());
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => base.push(c),
            _ => {}
        }
    }
    matches!(
        base.as_str(),
        "smallint"
            | "integer"
            | "bigint"
            | "boolean"
            | "date"
            | "uuid"
            | "oid"
            | "bytea"
            | "text"
            | "character varying"
            | "timestamp with time zone"
            | "timestamp without time zone"
            | "time without time zone"
    )
}

/// Whether `type_name` is a string type, compared in the "C" collation so that a
/// non-deterministic column collation cannot call two different strings equal.
fn is_string(type_name: &str) -> bool {
    type_name == "text" || type_name.starts_with("character varying")
}

/// A condition that is TRUE when `column` differs between `new` and `old` (value or
/// NULL-ness), FALSE otherwise (never NULL).
///
/// `IS DISTINCT FROM` takes the `=` operator of the search path; the functions that use
/// it pin `search_path` to `pg_catalog, pg_temp`, so no other schema's `=` is ever
/// found. It is one step for the executor to prepare, where the NULL-safe spelling with
/// a qualified operator (`a OPERATOR(pg_catalog.=) b OR (a IS NULL AND b IS NULL)`) is
/// five: a single-row UPDATE prepares every comparison of its statement anew.
fn differs(schema: &Schema, column: &Column, new: &str, old: &str) -> String {
    if has_binary_equality(schema, &column.type_name) {
        let collate = if is_string(&column.type_name) {
            " COLLATE pg_catalog.\"C\""
        } else {
            ""
        };
        let (new, old) = (field(new, &column.name), field(old, &column.name));
        format!("{new} IS DISTINCT FROM {old}{collate}")
    } else {
        format!(
            "{} {IMAGE_NE} {}",
            row_of(&[column], new),
            row_of(&[column], old)
        )
    }
}

/// True when any of `columns` differs between `old` and `new` (binary image or NULL-ness).
/// Columns without a binary `=` are compared together as one record image.
pub(crate) fn any_changed(
    schema: &Schema,
    columns: &[&Column],
    new: &str,
    old: &str,
    indent: &str,
) -> String {
    let (simple, other): (Vec<&Column>, Vec<&Column>) = columns
        .iter()
        .partition(|c| has_binary_equality(schema, &c.type_name));
    let mut conditions: Vec<String> = simple
        .iter()
        .map(|c| differs(schema, c, new, old))
        .collect();
    if !other.is_empty() {
        conditions.push(format!(
            "{} {IMAGE_NE} {}",
            row_of(&other, new),
            row_of(&other, old)
        ));
    }
    if conditions.is_empty() {
        return "false".to_owned();
    }
    format!(
        "(\n{indent}    {}\n{indent})",
        conditions.join(&format!("\n{indent}    OR "))
    )
}

/// `changed_data`: the new values of the columns that changed, as the concatenation of
/// one small object per changed column (an empty one for each unchanged column). Only
/// changed values are turned into JSON: a typical UPDATE changes a column or two of many,
/// and building the whole new row to delete most of it again cost more than the rest of
/// the statement's audit row.
pub(crate) fn changed_object(
    schema: &Schema,
    columns: &[&Column],
    new: &str,
    old: &str,
    indent: &str,
) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|c| {
            format!(
                "CASE WHEN {} THEN pg_catalog.jsonb_build_object({}, {}) ELSE '{{}}'::pg_catalog.jsonb END",
                differs(schema, c, new, old),
                sql_literal(&c.name),
                value(schema, c, new)
            )
        })
        .collect();
    if parts.is_empty() {
        return "'{}'::pg_catalog.jsonb".to_owned();
    }
    format!(
        "(\n{indent}    {}\n{indent})",
        parts.join(&format!("\n{indent}    OPERATOR(pg_catalog.||) "))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, type_name: &str) -> Column {
        Column::new(name, type_name)
    }

    #[test]
    fn timestamptz_is_rendered_in_utc() {
        let schema = Schema::default();
        let at = column("at", "timestamp(3) with time zone");
        assert_eq!(
            value(&schema, &at, "n"),
            r#"pg_catalog.timezone('UTC', n."at")"#
        );
        let plain = column("at", "timestamp without time zone");
        assert_eq!(value(&schema, &plain, "n"), r#"n."at""#);
    }

    #[test]
    fn timestamptz_arrays_are_cast_under_a_utc_session() {
        let schema = Schema::default();
        let at = column("at", "timestamp with time zone[]");
        assert_eq!(
            value(&schema, &at, "o"),
            r#"o."at"::pg_catalog.timestamp[]"#
        );
        assert!(needs_utc_session(&schema, &[&at]));
        let plain = column("at", "timestamp without time zone[]");
        assert_eq!(value(&schema, &plain, "o"), r#"o."at""#);
        assert!(!needs_utc_session(&schema, &[&plain]));
    }

    #[test]
    fn keys_of_every_shape() {
        let schema = Schema::default();
        let a = column("a", "integer");
        let b = column("b's", "text");
        assert_eq!(key(&schema, &[], "n"), "NULL::pg_catalog.jsonb");
        assert_eq!(key(&schema, &[&a], "n"), r#"pg_catalog.to_jsonb(n."a")"#);
        assert_eq!(
            key(&schema, &[&a, &b], "n"),
            r#"pg_catalog.jsonb_build_array(n."a", n."b's")"#
        );
    }

    #[test]
    fn wide_rows_are_split_into_calls_of_at_most_fifty_pairs() {
        let schema = Schema::default();
        let columns: Vec<Column> = (0..120).map(|i| column(&format!("c{i}"), "int")).collect();
        let refs: Vec<&Column> = columns.iter().collect();
        let object = row_object(&schema, &refs, "n", "");
        assert_eq!(object.matches("jsonb_build_object(").count(), 3);
    }
    #[test]
    fn binary_safe_types_use_equality_others_the_record_image() {
        let schema = Schema::default();
        assert!(has_binary_equality(&schema, "timestamp(3) with time zone"));
        assert!(has_binary_equality(&schema, "character varying(20)"));
        assert!(!has_binary_equality(&schema, "numeric(10,2)"));
        assert!(!has_binary_equality(&schema, "json"));
        assert!(!has_binary_equality(&schema, "public.citext"));
        let a = column("a", "integer");
        let t = column("t", "text");
        let j = column("j", "json");
        let k = column("k", "numeric");
        let condition = any_changed(&schema, &[&a, &t, &j, &k], "n", "o", "");
        assert_eq!(
            condition,
            "(\n    n.\"a\" IS DISTINCT FROM o.\"a\"\n    \
             OR n.\"t\" IS DISTINCT FROM o.\"t\" COLLATE pg_catalog.\"C\"\n    \
             OR ROW(n.\"j\", n.\"k\")::pg_catalog.record OPERATOR(pg_catalog.*<>) ROW(o.\"j\", o.\"k\")::pg_catalog.record\n\
             )"
        );
        let changed = changed_object(&schema, &[&a, &k], "n", "o", "");
        assert_eq!(
            changed,
            "(\n    CASE WHEN n.\"a\" IS DISTINCT FROM o.\"a\" THEN pg_catalog.jsonb_build_object('a', n.\"a\") ELSE '{}'::pg_catalog.jsonb END\n    \
             OPERATOR(pg_catalog.||) CASE WHEN ROW(n.\"k\")::pg_catalog.record OPERATOR(pg_catalog.*<>) ROW(o.\"k\")::pg_catalog.record THEN pg_catalog.jsonb_build_object('k', n.\"k\") ELSE '{}'::pg_catalog.jsonb END\n\
             )"
        );
    }
}
