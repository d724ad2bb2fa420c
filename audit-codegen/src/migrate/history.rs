//! Rewrites of existing history that keep it consistent with the current schema.
//!
//! Each rewrite touches only the history of one table (filtered by schema and table
//! name, which the record index serves) and only rows that hold the key in question, so
//! empty objects and NULLs stay exactly as they were. The SQL comes from the
//! `history_*.sql` templates.

use crate::error::{Error, Result};
use crate::ident::{sql_ident, sql_literal};
use crate::model::QualifiedName;
use askama::Template;

/// Which JSON form a SQL type's values take in history, as far as rewrites care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonForm {
    /// A JSON number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// A JSON string.
    String,
    /// Anything structured or user-defined (arrays, composites, json, enums): never
    /// converted automatically.
    Structured,
}

/// The JSON form of a column type as stored by the triggers.
pub fn json_form(type_name: &str) -> JsonForm {
    if type_name.ends_with("[]") || type_name == "json" || type_name == "jsonb" {
        return JsonForm::Structured;
    }
    let base = type_name.split('(').next().unwrap_or(type_name).trim();
    match base {
        "smallint" | "integer" | "bigint" | "oid" => JsonForm::Number,
        // Numeric and floats may also hold NaN/Infinity strings; the cast in the rewrite
        // handles those, so they count as numbers.
        "numeric" | "real" | "double precision" => JsonForm::Number,
        "boolean" => JsonForm::Boolean,
        _ if base.contains('.') || base.contains('"') => JsonForm::Structured,
        _ => JsonForm::String,
    }
}

/// The table a rewrite applies to, as literals.
struct Target {
    activity: String,
    schema: String,
    table: String,
}

impl Target {
    fn new(audit: &str, schema: &str, table: &str) -> Self {
        Self {
            activity: format!("{}.{}", sql_ident(audit), sql_ident("activity")),
            schema: sql_literal(schema),
            table: sql_literal(table),
        }
    }
}

#[derive(Template)]
#[template(path = "history_rename_table.sql")]
struct RenameTable {
    activity: String,
    from_label: String,
    to_label: String,
    from_schema: String,
    from_table: String,
    to_schema: String,
    to_table: String,
}

#[derive(Template)]
#[template(path = "history_rename_key.sql")]
struct RenameKey {
    activity: String,
    schema: String,
    table: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "history_purge_key.sql")]
struct PurgeKey {
    activity: String,
    schema: String,
    table: String,
    key: String,
    why: &'static str,
}

#[derive(Template)]
#[template(path = "history_retype_key.sql")]
struct RetypeKey {
    activity: String,
    schema: String,
    table: String,
    key: String,
    new_type: String,
    /// `new_type` spelled so that the search_path cannot redirect the cast.
    cast_type: String,
}

fn render(template: &impl Template) -> Result<String> {
    template
        .render()
        .map_err(|e| Error::Generate(format!("rendering a history rewrite failed: {e}")))
}

/// Moves one table's history to its new name.
pub fn rename_table(audit: &str, from: &QualifiedName, to: &QualifiedName) -> Result<String> {
    let target = Target::new(audit, "", "");
    render(&RenameTable {
        activity: target.activity,
        from_label: comment_safe(&from.to_sql()),
        to_label: comment_safe(&to.to_sql()),
        from_schema: sql_literal(&from.schema),
        from_table: sql_literal(&from.name),
        to_schema: sql_literal(&to.schema),
        to_table: sql_literal(&to.name),
    })
}

/// Renames the key `from` to `to` in `old_data` and `changed_data` of one table's history.
/// Refuses at run time (raising an error, so the migration rolls back) when a row already
/// holds both keys.
pub fn rename_key(audit: &str, schema: &str, table: &str, from: &str, to: &str) -> Result<String> {
    let target = Target::new(audit, schema, table);
    render(&RenameKey {
        activity: target.activity,
        schema: target.schema,
        table: target.table,
        from: sql_literal(from),
        to: sql_literal(to),
    })
}

/// Why a key is purged, for the comment of the rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeReason {
    /// The column was dropped and the manifest sets `purge_dropped`.
    Dropped,
    /// The column is newly excluded and the manifest sets `purge_excluded`.
    Excluded,
}

/// Removes the key `key` from one table's history.
pub fn purge_key(
    audit: &str,
    schema: &str,
    table: &str,
    key: &str,
    reason: PurgeReason,
) -> Result<String> {
    let target = Target::new(audit, schema, table);
    render(&PurgeKey {
        activity: target.activity,
        schema: target.schema,
        table: target.table,
        key: sql_literal(key),
        why: match reason {
            PurgeReason::Dropped => "the column was dropped and purge_dropped is set",
            PurgeReason::Excluded => "the column is excluded and purge_excluded is set",
        },
    })
}

/// Converts the values of `key` to the JSON form of `new_type` when a column changed type
/// between JSON forms (e.g. `integer` → `text`: `1` → `"1"`). Returns `None` when the form
/// does not change (history is left untouched) or cannot be converted automatically.
pub fn retype_key(
    audit: &str,
    schema: &str,
    table: &str,
    key: &str,
    old_type: &str,
    new_type: &str,
) -> Result<Option<String>> {
    let (old_form, new_form) = (json_form(old_type), json_form(new_type));
    if old_form == new_form || old_form == JsonForm::Structured || new_form == JsonForm::Structured
    {
        return Ok(None);
    }
    // The type name is spliced into SQL: accept only what reads back as exactly one type.
    let canonical = crate::sqltext::canonical_type(new_type, &crate::sqltext::InSchema("public"))
        .map(|t| t.type_name);
    if canonical.as_deref() != Ok(new_type) {
        return Err(Error::Generate(format!(
            "column {key:?} of {schema}.{table} has the type {new_type:?}, which is not a \
             plain type name; its history cannot be converted"
        )));
    }
    let target = Target::new(audit, schema, table);
    render(&RetypeKey {
        activity: target.activity,
        schema: target.schema,
        table: target.table,
        key: sql_literal(key),
        new_type: new_type.to_owned(),
        cast_type: crate::sql::types::qualified_type(new_type),
    })
    .map(Some)
}

/// `text` for a SQL `--` comment: a line break would end the comment.
fn comment_safe(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        assert_eq!(json_form("integer"), JsonForm::Number);
        assert_eq!(json_form("numeric(10,2)"), JsonForm::Number);
        assert_eq!(json_form("text"), JsonForm::String);
        assert_eq!(json_form("character varying(20)"), JsonForm::String);
        assert_eq!(json_form("integer[]"), JsonForm::Structured);
        assert_eq!(json_form("public.address"), JsonForm::Structured);
        assert_eq!(json_form("boolean"), JsonForm::Boolean);
    }

    #[test]
    fn retype_only_when_the_form_changes() {
        let retype = |old, new| retype_key("audit", "public", "t", "c", old, new).unwrap();
        assert!(retype("integer", "bigint").is_none());
        assert!(retype("text", "jsonb").is_none());
        let sql = retype("integer", "text").unwrap();
        assert!(sql.contains("::pg_catalog.text))"), "{sql}");
    }

    #[test]
    fn a_type_name_that_is_not_one_type_is_refused() {
        let err = retype_key(
            "audit",
            "public",
            "t",
            "c",
            "integer",
            "text); DROP TABLE x; --",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a plain type name"), "{err}");
    }

    #[test]
    fn literals_are_quoted() {
        let sql = rename_key("au\"dit", "public", "it's", "a'b", "c").unwrap();
        assert!(sql.contains(r#""au""dit"."activity""#), "{sql}");
        assert!(sql.contains("'it''s'"), "{sql}");
        assert!(sql.contains("'a''b'"), "{sql}");
    }
}
