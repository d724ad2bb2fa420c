//! Search-path-proof spelling of type names in generated function bodies.
//!
//! `format_type()` prints built-in types unqualified. Names that are SQL keywords
//! (`bigint`, `character varying(20)`, `timestamp with time zone`, …) are bound to
//! `pg_catalog` by the grammar itself, but plain names such as `text` or `uuid` are looked
//! up through the caller's `search_path`, where a hostile role could place a domain of the
//! same name whose CHECK runs its code with the definer's rights. Those get a
//! `pg_catalog.` prefix.

/// Leading words of type names the grammar resolves to `pg_catalog` by itself.
const KEYWORD_TYPES: &[&str] = &[
    "bigint",
    "bit",
    "boolean",
    "char",
    "character",
    "dec",
    "decimal",
    "double",
    "float",
    "int",
    "integer",
    "interval",
    "national",
    "nchar",
    "numeric",
    "real",
    "smallint",
    "time",
    "timestamp",
    "varchar",
];

/// `type_name` (as `format_type()` prints it) in a form that does not depend on the
/// `search_path`.
pub(crate) fn qualified_type(type_name: &str) -> String {
    let first_word_end = type_name
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(type_name.len());
    let first_word = &type_name[..first_word_end];
    let rest = &type_name[first_word_end..];
    // Already qualified (`public.mood`, `"Sales"."Bag"`) or quoted: leave as printed.
    if rest.starts_with('.') || type_name.starts_with('"') || first_word.is_empty() {
        return type_name.to_owned();
    }
    if KEYWORD_TYPES.contains(&first_word) {
        return type_name.to_owned();
    }
    format!("pg_catalog.{type_name}")
}

#[cfg(test)]
mod tests {
    use super::qualified_type;

    #[test]
    fn plain_names_get_pg_catalog() {
        assert_eq!(qualified_type("text"), "pg_catalog.text");
        assert_eq!(qualified_type("uuid"), "pg_catalog.uuid");
        assert_eq!(qualified_type("text[]"), "pg_catalog.text[]");
        assert_eq!(qualified_type("bigint"), "bigint");
        assert_eq!(
            qualified_type("character varying(20)"),
            "character varying(20)"
        );
        assert_eq!(qualified_type("public.mood"), "public.mood");
        assert_eq!(qualified_type("\"Sales\".\"Bag\""), "\"Sales\".\"Bag\"");
    }
}
