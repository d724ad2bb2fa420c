//! SQL type names written in the manifest (`actor_id_type`, `[rust.types]` keys),
//! normalised to the form `format_type()` prints, which is how the schema model and the
//! rest of the generator spell types.

use super::names::parse_table_key;
use crate::model::QualifiedName;

/// Built-in type spellings and the canonical name each stands for. Multi-word names are
/// listed with single spaces; input whitespace is collapsed before lookup.
const BUILTIN_TYPES: &[(&str, &str)] = &[
    ("bigint", "bigint"),
    ("int8", "bigint"),
    ("integer", "integer"),
    ("int", "integer"),
    ("int4", "integer"),
    ("smallint", "smallint"),
    ("int2", "smallint"),
    ("numeric", "numeric"),
    ("decimal", "numeric"),
    ("real", "real"),
    ("float4", "real"),
    ("double precision", "double precision"),
    ("float8", "double precision"),
    ("float", "double precision"),
    ("boolean", "boolean"),
    ("bool", "boolean"),
    ("text", "text"),
    ("character varying", "character varying"),
    ("varchar", "character varying"),
    ("character", "character"),
    ("char", "character"),
    ("bpchar", "character"),
    ("name", "name"),
    ("\"char\"", "\"char\""),
    ("uuid", "uuid"),
    ("bytea", "bytea"),
    ("date", "date"),
    ("time", "time without time zone"),
    ("time without time zone", "time without time zone"),
    ("timetz", "time with time zone"),
    ("time with time zone", "time with time zone"),
    ("timestamp", "timestamp without time zone"),
    ("timestamp without time zone", "timestamp without time zone"),
    ("timestamptz", "timestamp with time zone"),
    ("timestamp with time zone", "timestamp with time zone"),
    ("interval", "interval"),
    ("json", "json"),
    ("jsonb", "jsonb"),
    ("inet", "inet"),
    ("cidr", "cidr"),
    ("macaddr", "macaddr"),
    ("macaddr8", "macaddr8"),
    ("money", "money"),
    ("oid", "oid"),
    ("xid8", "xid8"),
    ("xml", "xml"),
    ("bit", "bit"),
    ("bit varying", "bit varying"),
    ("varbit", "bit varying"),
    ("tsvector", "tsvector"),
    ("tsquery", "tsquery"),
    ("point", "point"),
    ("int4range", "int4range"),
    ("int8range", "int8range"),
    ("numrange", "numrange"),
    ("tsrange", "tsrange"),
    ("tstzrange", "tstzrange"),
    ("daterange", "daterange"),
];

/// Canonical built-in types that make sense as `transaction.actor_id`: an identifier of
/// who acted, so integers, text, UUIDs and the like, but not JSON, times or ranges.
const ACTOR_ID_TYPES: &[&str] = &[
    "bigint",
    "integer",
    "smallint",
    "numeric",
    "text",
    "character varying",
    "character",
    "name",
    "uuid",
    "bytea",
    "inet",
    "oid",
];

/// Canonical types that accept a length or precision modifier, e.g. `varchar(20)`.
const WITH_MODIFIER: &[&str] = &[
    "numeric",
    "character varying",
    "character",
    "bit",
    "bit varying",
];

/// A type name from the manifest, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlType {
    /// A built-in type, canonical spelling with modifier and `[]` (`character varying(20)`).
    Builtin {
        /// The canonical name without modifier or array suffix (`character varying`).
        base: String,
        /// The full canonical spelling.
        full: String,
        /// Whether it is an array type.
        array: bool,
    },
    /// A schema-qualified (user-defined or extension) type, plus `[]` for arrays.
    Qualified {
        /// The type.
        name: QualifiedName,
        /// Whether it is an array type.
        array: bool,
    },
}

impl SqlType {
    /// The spelling `format_type()` would print.
    pub(crate) fn canonical(&self) -> String {
        match self {
            Self::Builtin { full, .. } => full.clone(),
            Self::Qualified { name, array } => {
                format!("{}{}", name.to_sql(), if *array { "[]" } else { "" })
            }
        }
    }
}

/// Normalises `text` (`int8`, `VARCHAR( 20 )`, `public.mood[]`, `"Sales"."Money Bag"`).
pub(crate) fn parse_sql_type(text: &str) -> Result<SqlType, String> {
    let trimmed = text.trim();
    let (body, array) = match trimmed.strip_suffix("[]") {
        Some(rest) => (rest.trim_end(), true),
        None => (trimmed, false),
    };
    if body.is_empty() {
        return Err("is empty".into());
    }
    let (name, modifier) = split_modifier(body)?;
    // A dot outside quotes means a schema-qualified name.
    if is_qualified(name) {
        if modifier.is_some() {
            return Err("has a type modifier, which a user-defined type cannot take".into());
        }
        let name =
            parse_table_key(name).map_err(|e| format!("is not a valid type name: it {e}"))?;
        return Ok(SqlType::Qualified { name, array });
    }
    let words = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let lookup = if words.starts_with('"') {
        words.clone()
    } else {
        words.to_ascii_lowercase()
    };
    let Some(&(_, base)) = BUILTIN_TYPES.iter().find(|(alias, _)| *alias == lookup) else {
        return Err("is not a known built-in type; \
                    qualify user-defined types with their schema (`public.my_type`)"
            .into());
    };
    let mut full = base.to_owned();
    if let Some(modifier) = modifier {
        if !WITH_MODIFIER.contains(&base) {
            return Err(format!("has a modifier, which `{base}` does not take"));
        }
        let numbers: Vec<&str> = modifier.split(',').map(str::trim).collect();
        let valid = (1..=2).contains(&numbers.len())
            && (numbers.len() == 1 || base == "numeric")
            && numbers
                .iter()
                .all(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()));
        if !valid {
            return Err(format!("has an invalid modifier `({modifier})`"));
        }
        full = format!("{base}({})", numbers.join(","));
    } else if base == "character" && !array {
        // `char` alone means `char(1)`, and `format_type()` says so.
        full = "character(1)".into();
    }
    if array {
        full.push_str("[]");
    }
    Ok(SqlType::Builtin {
        base: base.to_owned(),
        full,
        array,
    })
}

/// Whether `t` is a built-in type usable as `transaction.actor_id`.
pub(crate) fn is_actor_id_builtin(t: &SqlType) -> bool {
    matches!(t, SqlType::Builtin { base, array: false, .. } if ACTOR_ID_TYPES.contains(&base.as_str()))
}

/// Canonical built-in names usable as actor ids, for suggestions.
pub(crate) fn actor_id_type_names<'a>() -> impl Iterator<Item = &'a str> {
    ACTOR_ID_TYPES.iter().copied()
}

/// Every built-in spelling (aliases included), for suggestions.
pub(crate) fn builtin_type_names<'a>() -> impl Iterator<Item = &'a str> {
    BUILTIN_TYPES.iter().map(|(alias, _)| *alias)
}

fn is_qualified(name: &str) -> bool {
    let mut quoted = false;
    for c in name.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => return true,
            _ => {}
        }
    }
    false
}

/// Splits `varchar(20)` into `varchar` and `20`.
fn split_modifier(body: &str) -> Result<(&str, Option<&str>), String> {
    match body.find('(') {
        None if body.contains(')') => Err("has an unbalanced `)`".into()),
        None => Ok((body, None)),
        Some(open) => {
            let rest = &body[open + 1..];
            match rest.strip_suffix(')') {
                Some(inner) if !inner.contains(['(', ')']) => {
                    Ok((body[..open].trim_end(), Some(inner)))
                }
                _ => Err("has an unbalanced or misplaced `(`".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        parse_sql_type(text).unwrap().canonical()
    }

    #[test]
    fn normalises_aliases_like_format_type() {
        assert_eq!(canon("int8"), "bigint");
        assert_eq!(canon(" INT "), "integer");
        assert_eq!(canon("varchar"), "character varying");
        assert_eq!(canon("VarChar( 20 )"), "character varying(20)");
        assert_eq!(canon("numeric(10, 2)"), "numeric(10,2)");
        assert_eq!(canon("char"), "character(1)");
        assert_eq!(canon("timestamptz"), "timestamp with time zone");
        assert_eq!(canon("double   precision"), "double precision");
        assert_eq!(canon("int4[]"), "integer[]");
        assert_eq!(canon("public.mood"), "public.mood");
        assert_eq!(canon("Public.Mood[]"), "public.mood[]");
        assert_eq!(canon("\"Sales\".\"Money Bag\""), "\"Sales\".\"Money Bag\"");
        assert!(is_actor_id_builtin(&parse_sql_type("uuid").unwrap()));
        assert!(!is_actor_id_builtin(&parse_sql_type("jsonb").unwrap()));
        assert!(!is_actor_id_builtin(&parse_sql_type("int8[]").unwrap()));
        for bad in [
            "",
            "[]",
            "bigint(3)",
            "varchar(x)",
            "varchar(1,2)",
            "numeric(",
            "integr",
            "a.b.c",
            "public.t(3)",
            "x)",
            "numeric(99999999999999999999)",
        ] {
            assert!(parse_sql_type(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
