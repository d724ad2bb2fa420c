//! Table keys of the manifest (`[tables.<key>]`) written with SQL identifier rules.
//!
//! A key is `table` (schema `public`) or `schema.table`. Each part is either unquoted,
//! in which case ASCII letters are folded to lower case exactly as PostgreSQL folds an
//! unquoted identifier (`Article` means `article`), or double-quoted, in which case it is
//! taken literally with `""` standing for one `"` (`"Odd Schema"."My Table"`). Folding
//! makes a key mean what the same text means in SQL, so a name copied from a query works.

use crate::model::QualifiedName;

/// The schema of a table key that names no schema.
pub(crate) const DEFAULT_SCHEMA: &str = "public";

/// Parses a table key into the catalog name it denotes, or explains what is wrong.
pub(crate) fn parse_table_key(key: &str) -> Result<QualifiedName, String> {
    let parts = split_parts(key)?;
    match parts.as_slice() {
        [name] => Ok(QualifiedName::new(DEFAULT_SCHEMA, name.clone())),
        [schema, name] => Ok(QualifiedName::new(schema.clone(), name.clone())),
        _ => Err(format!(
            "has {} dot-separated parts; write `table` or `schema.table`",
            parts.len()
        )),
    }
}

fn split_parts(key: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = key.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("has an unterminated quoted identifier".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                }
            }
            if part.is_empty() {
                return Err("has an empty quoted identifier `\"\"`".into());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                let ok = if part.is_empty() {
                    c.is_alphabetic() || c == '_'
                } else {
                    c.is_alphanumeric() || c == '_' || c == '$'
                };
                if !ok {
                    return Err(format!(
                        "contains `{c}`, which an unquoted identifier cannot; \
                         double-quote the part that needs it"
                    ));
                }
                // PostgreSQL folds only ASCII letters of unquoted identifiers (UTF-8).
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            if part.is_empty() {
                return Err("has an empty name part".into());
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some('.') => {}
            Some(c) => return Err(format!("has `{c}` after a quoted identifier")),
        }
    }
}

/// How `name` is written in a table key: unquoted when folding would give it back
/// unchanged, quoted otherwise.
fn key_part(name: &str) -> String {
    let mut chars = name.chars();
    let unquoted_ok = chars
        .next()
        .is_some_and(|c| (c.is_alphabetic() || c == '_') && !c.is_ascii_uppercase())
        && chars.all(|c| (c.is_alphanumeric() || c == '_' || c == '$') && !c.is_ascii_uppercase());
    if unquoted_ok {
        name.to_owned()
    } else {
        crate::ident::always_quote(name)
    }
}

/// The shortest table key denoting `table` (`article`, `blog.post`, `"Odd".x`).
pub(crate) fn table_key(table: &QualifiedName) -> String {
    if table.schema == DEFAULT_SCHEMA {
        key_part(&table.name)
    } else {
        format!("{}.{}", key_part(&table.schema), key_part(&table.name))
    }
}

/// `[tables.<key>]` with the key written as TOML needs it, for help messages.
pub(crate) fn table_header(table: &QualifiedName) -> String {
    format!("[tables.{}]", toml_key(&table_key(table)))
}

/// A TOML key: bare when possible, else a literal string, else a basic string.
pub(crate) fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else if !key.contains('\'') && !key.contains('\n') {
        format!("'{key}'")
    } else {
        format!("{:?}", key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(key: &str) -> (String, String) {
        let q = parse_table_key(key).unwrap();
        (q.schema, q.name)
    }

    #[test]
    fn parses_sql_style_keys() {
        assert_eq!(parsed("article"), ("public".into(), "article".into()));
        assert_eq!(parsed("Article"), ("public".into(), "article".into()));
        assert_eq!(parsed("blog.Post"), ("blog".into(), "post".into()));
        assert_eq!(parsed("\"user\""), ("public".into(), "user".into()));
        assert_eq!(
            parsed("\"My Schema\".\"My \"\"Table\"\"\""),
            ("My Schema".into(), "My \"Table\"".into())
        );
        assert_eq!(parsed("café.Crème"), ("café".into(), "crème".into()));
        for bad in [
            "", ".", "a.", ".a", "a.b.c", "\"a", "\"\"", "a b", "\"a\"b", "1a",
        ] {
            assert!(parse_table_key(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn renders_keys_that_parse_back() {
        for (schema, name) in [
            ("public", "article"),
            ("public", "Article"),
            ("blog", "post"),
            ("Odd Schema", "x\"y"),
            ("public", "user"),
        ] {
            let q = QualifiedName::new(schema, name);
            assert_eq!(parse_table_key(&table_key(&q)).unwrap(), q);
        }
        assert_eq!(
            table_header(&QualifiedName::new("blog", "post")),
            "[tables.'blog.post']"
        );
        assert_eq!(
            table_header(&QualifiedName::new("public", "article")),
            "[tables.article]"
        );
    }
}
