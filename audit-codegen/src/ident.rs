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

/// Quotes `ident` unconditionally (`"name"`, inner `"` doubled), the form `regclass`
/// input and error messages understand. Generated SQL text writes identifiers with
/// [`sql_ident`], which adds escapes where this form could break out of a comment.
pub fn always_quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Quotes `text` as a SQL string literal (`'it''s'`). Standard-conforming strings are
/// assumed (the default since PostgreSQL 9.1), so backslashes need no escaping. This is
/// how PostgreSQL prints literals in deparsed expressions; generated SQL uses
/// [`sql_literal`], which does not depend on the reader's settings.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The PostgreSQL limit on the length of a name in bytes (`NAMEDATALEN - 1`): longer
/// names are silently truncated.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Characters that never appear literally in generated SQL: line breaks and other ASCII
/// control characters (a line break would end a `--` comment that mentions the name,
/// turning the rest of the name into SQL), and `$` (which could close the dollar-quoted
/// body of a function).
fn is_unsafe_in_sql(c: char) -> bool {
    c.is_ascii_control() || c == '$'
}

/// Quotes `ident` for generated SQL text: `"name"` (inner `"` doubled) like
/// [`always_quote`], or, when the name holds a control character or a `$`, in the
/// Unicode-escape form `U&"a\000Ab"`, so that no name can end a comment or a
/// dollar-quoted function body it is written in. Both forms denote exactly `ident`,
/// whatever the session's settings.
pub fn sql_ident(ident: &str) -> String {
    if !ident.chars().any(is_unsafe_in_sql) {
        return always_quote(ident);
    }
    let mut out = String::with_capacity(ident.len() + 8);
    out.push_str("U&\"");
    for c in ident.chars() {
        match c {
            '"' => out.push_str("\"\""),
            '\\' => out.push_str("\\\\"),
            c if is_unsafe_in_sql(c) => out.push_str(&format!("\\{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Quotes `text` as a string literal for generated SQL: `'it''s'`, or, when the text
/// holds a backslash, a control character or a `$`, an escape string (`E'a\\b'`,
/// `E'line\nbreak'`, `E'\$'`). An escape string means the same with
/// `standard_conforming_strings` on or off (a plain literal holding a backslash does
/// not), has no raw line break to end a comment, and no `$` to close a dollar quote.
pub fn sql_literal(text: &str) -> String {
    if !text.chars().any(|c| c == '\\' || is_unsafe_in_sql(c)) {
        return quote_literal(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("E'");
    for c in text.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' => out.push_str("\\$"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Rewrites a type name as `format_type()` prints it (`public."My Type"[]`) for
/// generated SQL: every quoted part goes through [`sql_ident`], the rest is kept.
pub fn sql_type_name(type_name: &str) -> String {
    let mut out = String::with_capacity(type_name.len());
    let mut chars = type_name.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            out.push(c);
            continue;
        }
        let mut ident = String::new();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    break;
                }
            }
            ident.push(c);
        }
        out.push_str(&sql_ident(&ident));
    }
    out
}

/// Checks that `name` can name a PostgreSQL object exactly: not empty, no NUL character
/// (PostgreSQL refuses it), at most [`MAX_IDENTIFIER_BYTES`] bytes (PostgreSQL would
/// silently truncate it, and generated SQL and code would then disagree with the
/// database, or two names would become one). `what` says what it names, for the error.
pub fn check_identifier(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what} has an empty name"));
    }
    if name.contains('\0') {
        return Err(format!(
            "{what} {name:?} contains a NUL character, which PostgreSQL does not allow in names"
        ));
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        let mut cut = MAX_IDENTIFIER_BYTES;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(format!(
            "{what} {name:?} is {} bytes long; PostgreSQL truncates names to \
             {MAX_IDENTIFIER_BYTES} bytes (the database knows it as {:?}): use a name of at \
             most {MAX_IDENTIFIER_BYTES} bytes",
            name.len(),
            &name[..cut]
        ));
    }
    Ok(())
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

    #[test]
    fn generated_sql_escapes_what_could_end_a_comment_or_a_dollar_quote() {
        assert_eq!(sql_ident("Order Items"), "\"Order Items\"");
        assert_eq!(sql_ident("a\"b\\c"), "\"a\"\"b\\c\"");
        assert_eq!(sql_ident("x\ny"), "U&\"x\\000Ay\"");
        assert_eq!(
            sql_ident("a\\$f$\"\r"),
            "U&\"a\\\\\\0024f\\0024\"\"\\000D\""
        );
        assert_eq!(sql_literal("it's"), "'it''s'");
        assert_eq!(sql_literal("a\\b"), "E'a\\\\b'");
        assert_eq!(
            sql_literal("x$function$'\n\u{1}"),
            "E'x\\$function\\$''\\n\\x01'"
        );
        assert_eq!(
            sql_type_name("public.\"x\ny\"[]"),
            "public.U&\"x\\000Ay\"[]"
        );
        assert_eq!(sql_type_name("public.\"a\"\"b\""), "public.\"a\"\"b\"");
        assert_eq!(
            sql_type_name("character varying(20)"),
            "character varying(20)"
        );
        for text in ["x\ny", "$$", "\\", "a$b$c", "\u{7f}\t", "$function$"] {
            assert!(!sql_ident(text).contains(['\n', '$']), "{text:?}");
            let literal = sql_literal(text);
            assert!(!literal.contains('\n'), "{literal}");
            // Every `$` is escaped, so no `$tag$` can be spelled.
            assert!(!literal.replace("\\$", "").contains('$'), "{literal}");
        }
    }

    #[test]
    fn identifiers_postgres_would_refuse_or_truncate_are_reported() {
        assert!(check_identifier("table", "article").is_ok());
        assert!(check_identifier("table", &"é".repeat(31)).is_ok());
        let nul = check_identifier("column", "a\0b").unwrap_err();
        assert!(nul.contains("NUL"), "{nul}");
        let long = check_identifier("table", &format!("{}é", "a".repeat(62))).unwrap_err();
        assert!(long.contains("64 bytes long"), "{long}");
        assert!(long.contains(&format!("{:?}", "a".repeat(62))), "{long}");
        assert!(check_identifier("table", "").is_err());
    }
}
