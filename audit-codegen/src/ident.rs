//! Identifier quoting exactly as PostgreSQL's `quote_ident()` does it.
//!
//! Canonical type names in the model must match what `format_type()` prints, which quotes
//! an identifier only when it has to: when it is not all lower-case ASCII letters, digits
//! and underscores (starting with a letter or underscore), or when it is a keyword that is
//! not unreserved.

/// Keywords PostgreSQL 15 does not list as unreserved (`pg_get_keywords()` with
/// `catcode <> 'U'`), sorted for binary search.
const NON_UNRESERVED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// Whether `ident` can be written without double quotes.
pub fn is_safe_ident(ident: &str) -> bool {
    let mut chars = ident.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && NON_UNRESERVED_KEYWORDS.binary_search(&ident).is_err()
}

/// Quotes `ident` the way `quote_ident()` does: only when needed, doubling inner quotes.
pub fn quote_ident(ident: &str) -> String {
    if is_safe_ident(ident) {
        ident.to_owned()
    } else {
        always_quote(ident)
    }
}

/// Quotes `ident` unconditionally (`"name"`, inner `"` doubled). Generated SQL uses this
/// form for every identifier so that no name can change the meaning of a statement.
pub fn always_quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Quotes `text` as a SQL string literal (`'it''s'`). Standard-conforming strings are
/// assumed (the default since PostgreSQL 9.1), so backslashes need no escaping.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_list_is_sorted_for_binary_search() {
        assert!(NON_UNRESERVED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn quotes_like_postgres() {
        assert_eq!(quote_ident("article"), "article");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("Order"), "\"Order\"");
        assert_eq!(quote_ident("order items"), "\"order items\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_ident("café"), "\"café\"");
        assert_eq!(quote_ident("1abc"), "\"1abc\"");
        assert_eq!(quote_ident("name"), "name");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}
