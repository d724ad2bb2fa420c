//! Rewrites of existing history that keep it consistent with the current schema.
//!
//! Each rewrite touches only the history of one table (filtered by schema and table
//! name, which the history index serves) and only rows that hold the key in question, so
//! empty objects and NULLs stay exactly as they were.

use crate::ident::quote_literal;

/// Which JSON form a SQL type's values take in history, as far as rewrites care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonForm {
    /// A JSON number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// A JSON string.
    String,
    /// Anything structured (arrays, composites, json): never converted automatically.
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
        // Numeric and floats may also hold NaN/Infinity strings; the cast below handles
        // those, so they count as numbers.
        "numeric" | "real" | "double precision" => JsonForm::Number,
        "boolean" => JsonForm::Boolean,
        _ if base.contains('.') => JsonForm::Structured,
        _ => JsonForm::String,
    }
}

/// Renames the key `from` to `to` in `old_data` and `changed_data` of one table's history.
/// Refuses at run time (raising an error, so the migration rolls back) when a row already
/// holds both keys.
pub fn rename_key(audit: &str, schema: &str, table: &str, from: &str, to: &str) -> String {
    let activity = activity(audit);
    let (schema, table, from, to) = (
        quote_literal(schema),
        quote_literal(table),
        quote_literal(from),
        quote_literal(to),
    );
    format!(
        "DO $rename$
BEGIN
    IF EXISTS (SELECT 1 FROM {activity}
                WHERE schema_name = {schema} AND table_name = {table}
                  AND ((old_data ? {from} AND old_data ? {to})
                    OR (changed_data ? {from} AND changed_data ? {to}))) THEN
        RAISE EXCEPTION 'history of %.% holds both keys % and %', {schema}, {table}, {from}, {to};
    END IF;
END
$rename$;
UPDATE {activity}
   SET old_data = CASE WHEN old_data ? {from}
                       THEN (old_data - {from}) || jsonb_build_object({to}, old_data -> {from})
                       ELSE old_data END,
       changed_data = CASE WHEN changed_data ? {from}
                           THEN (changed_data - {from}) || jsonb_build_object({to}, changed_data -> {from})
                           ELSE changed_data END
 WHERE schema_name = {schema} AND table_name = {table}
   AND (old_data ? {from} OR changed_data ? {from});
"
    )
}

/// Removes the key `key` from one table's history.
pub fn purge_key(audit: &str, schema: &str, table: &str, key: &str) -> String {
    let activity = activity(audit);
    let (schema, table, key) = (
        quote_literal(schema),
        quote_literal(table),
        quote_literal(key),
    );
    format!(
        "UPDATE {activity}
   SET old_data = old_data - {key},
       changed_data = changed_data - {key}
 WHERE schema_name = {schema} AND table_name = {table}
   AND (old_data ? {key} OR changed_data ? {key});
"
    )
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
) -> Option<String> {
    let (old_form, new_form) = (json_form(old_type), json_form(new_type));
    if old_form == new_form || old_form == JsonForm::Structured || new_form == JsonForm::Structured
    {
        return None;
    }
    let activity = activity(audit);
    let (schema, table, key) = (
        quote_literal(schema),
        quote_literal(table),
        quote_literal(key),
    );
    let convert = |data: &str| {
        format!(
            "CASE WHEN jsonb_typeof({data} -> {key}) IN ('number', 'string', 'boolean')
                   THEN jsonb_set({data}, ARRAY[{key}], to_jsonb(({data} ->> {key})::{new_type}))
                   ELSE {data} END"
        )
    };
    Some(format!(
        "UPDATE {activity}
   SET old_data = {},
       changed_data = {}
 WHERE schema_name = {schema} AND table_name = {table}
   AND (old_data ? {key} OR changed_data ? {key});
",
        convert("old_data"),
        convert("changed_data")
    ))
}

/// Moves one table's history to its new name.
pub fn rename_table(
    audit: &str,
    from: &crate::model::QualifiedName,
    to: &crate::model::QualifiedName,
) -> String {
    format!(
        "UPDATE {}
   SET schema_name = {}, table_name = {}
 WHERE schema_name = {} AND table_name = {};
",
        activity(audit),
        quote_literal(&to.schema),
        quote_literal(&to.name),
        quote_literal(&from.schema),
        quote_literal(&from.name)
    )
}

fn activity(audit: &str) -> String {
    format!("{}.activity", crate::ident::always_quote(audit))
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
        assert!(retype_key("audit", "public", "t", "c", "integer", "bigint").is_none());
        assert!(retype_key("audit", "public", "t", "c", "text", "jsonb").is_none());
        let sql = retype_key("audit", "public", "t", "c", "integer", "text").unwrap();
        assert!(sql.contains("::text"), "{sql}");
    }
}
