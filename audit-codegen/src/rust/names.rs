//! Rust names for SQL names: `blog_post` → `BlogPost` / `blog_post`, keywords and odd
//! characters made valid. The JSON key always stays the exact SQL name (serde `rename`).

use proc_macro2::{Ident, Span};

/// Keywords of Rust 2024 (strict and reserved), sorted.
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers; they get a trailing underscore instead.
const NOT_RAW: &[&str] = &["Self", "crate", "self", "super"];

/// ASCII spelling of common Latin letters, so `café` gives `cafe` rather than a name
/// that trips the non-ASCII identifier lints.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' | 'Ā' => "A",
        'æ' => "ae",
        'Æ' => "AE",
        'ç' | 'č' | 'ć' => "c",
        'Ç' | 'Č' | 'Ć' => "C",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ę' | 'Ě' => "E",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' => "I",
        'ñ' | 'ń' | 'ň' => "n",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű' => "U",
        'ý' | 'ÿ' => "y",
        'Ý' => "Y",
        'ß' => "ss",
        'ł' => "l",
        'Ł' => "L",
        'š' | 'ś' => "s",
        'Š' | 'Ś' => "S",
        'ž' | 'ź' | 'ż' => "z",
        'Ž' | 'Ź' | 'Ż' => "Z",
        'ř' => "r",
        'Ř' => "R",
        _ => return None,
    })
}

/// Splits a SQL name into ASCII words: at non-alphanumerics and at lower→upper case
/// changes (`ItemId` → `Item`, `Id`). Other non-ASCII characters become their code point
/// (`日` → `u65e5`) so distinct names stay distinct.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    let flush = |current: &mut String, words: &mut Vec<String>| {
        if !current.is_empty() {
            words.push(std::mem::take(current));
        }
    };
    for c in name.chars() {
        let ascii: String = if c.is_ascii_alphanumeric() {
            c.to_string()
        } else if let Some(f) = fold(c) {
            f.to_owned()
        } else if c.is_alphanumeric() {
            flush(&mut current, &mut words);
            words.push(format!("u{:x}", c as u32));
            prev_lower = false;
            continue;
        } else {
            flush(&mut current, &mut words);
            prev_lower = false;
            continue;
        };
        for a in ascii.chars() {
            if a.is_ascii_uppercase() && prev_lower {
                flush(&mut current, &mut words);
            }
            prev_lower = a.is_ascii_lowercase() || a.is_ascii_digit();
            current.push(a);
        }
    }
    flush(&mut current, &mut words);
    words
}

/// An identifier from its text, raw or suffixed when it is a keyword.
fn ident(text: String) -> Ident {
    if KEYWORDS.binary_search(&text.as_str()).is_ok() {
        if NOT_RAW.contains(&text.as_str()) {
            Ident::new(&format!("{text}_"), Span::call_site())
        } else {
            Ident::new_raw(&text, Span::call_site())
        }
    } else {
        Ident::new(&text, Span::call_site())
    }
}

/// Whether `text` is a Rust keyword (strict or reserved, Rust 2024).
pub(crate) fn is_keyword(text: &str) -> bool {
    KEYWORDS.binary_search(&text).is_ok()
}

/// The field name derived from a column name, as text (`a b` → `a_b`, `type` → `r#type`).
pub(crate) fn field_name(column: &str) -> String {
    snake(column).to_string()
}

/// A `snake_case` field or function name.
pub fn snake(name: &str) -> Ident {
    let mut text = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if text.is_empty() {
        text = "unnamed".to_owned();
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        text.insert(0, '_');
    }
    ident(text)
}

/// An `UpperCamelCase` name; `prefix` goes before a leading digit (`T1st`).
pub fn camel(name: &str, prefix: &str) -> String {
    let mut text: String = words(name)
        .iter()
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect();
    if text.is_empty() {
        text = "Unnamed".to_owned();
    }
    if text.starts_with(|c: char| c.is_ascii_digit()) {
        text.insert_str(0, prefix);
    }
    text
}

/// An `UpperCamelCase` identifier.
pub fn camel_ident(text: &str) -> Ident {
    ident(text.to_owned())
}

/// The text of an identifier without a raw prefix, as serde would name it.
pub fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

/// The base name of a table's types: the table name, prefixed by its schema unless the
/// schema is `public` (`Sales.invoice` → `SalesInvoice`).
pub fn table_base(schema: &str, name: &str) -> String {
    if schema == "public" {
        camel(name, "T")
    } else {
        let mut base = camel(schema, "T");
        base.push_str(&camel(name, "T"));
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_sorted() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn sanitises() {
        assert_eq!(snake("ItemId").to_string(), "item_id");
        assert_eq!(snake("Unit Price").to_string(), "unit_price");
        assert_eq!(snake("say \"hi\"").to_string(), "say_hi");
        assert_eq!(snake("select").to_string(), "select");
        assert_eq!(snake("type").to_string(), "r#type");
        assert_eq!(snake("gen").to_string(), "r#gen");
        assert_eq!(snake("self").to_string(), "self_");
        assert_eq!(snake("1st").to_string(), "_1st");
        assert_eq!(snake("größe").to_string(), "grosse");
        assert_eq!(snake("日本").to_string(), "u65e5_u672c");
        assert_eq!(snake("").to_string(), "unnamed");
        assert_eq!(table_base("public", "blog_post"), "BlogPost");
        assert_eq!(table_base("Sales", "invoice"), "SalesInvoice");
        assert_eq!(table_base("public", "Order Items"), "OrderItems");
        assert_eq!(table_base("public", "café"), "Cafe");
        assert_eq!(table_base("public", "1st"), "T1st");
        assert_eq!(camel_ident(&camel("self", "V")).to_string(), "Self_");
        assert_eq!(camel("it's complicated", "V"), "ItSComplicated");
    }
}
