//! Checks of the Rust snippets a manifest may contain, so that a typo is reported against
//! the manifest line rather than as a compile error inside generated code.

use syn::parse::Parser;

/// Checks a `rust_name`: a Rust identifier in UpperCamelCase, because it becomes a type
/// name (`Post`, `PostPatch`, `PostChange`). On error, returns the reason and, when one
/// can be derived, a corrected name.
pub(crate) fn check_type_name(name: &str) -> Result<(), (String, Option<String>)> {
    if syn::parse_str::<syn::Ident>(name).is_err() {
        let fixed = upper_camel(name);
        let help = syn::parse_str::<syn::Ident>(&fixed)
            .is_ok()
            .then_some(fixed);
        return Err(("is not a Rust identifier".into(), help));
    }
    let mut chars = name.chars();
    let upper_first = chars.next().is_some_and(|c| c.is_ascii_uppercase());
    if !upper_first || name.contains('_') || !name.is_ascii() {
        return Err((
            "is not an UpperCamelCase type name".into(),
            Some(upper_camel(name)).filter(|f| !f.is_empty()),
        ));
    }
    Ok(())
}

/// Checks a column's `rust_name`: a snake_case Rust identifier (ASCII lower-case
/// letters, digits and `_`, not starting with a digit) that is not a keyword, because it
/// becomes a field name used as written. On error, returns the reason and, when one can
/// be derived, a valid name.
pub(crate) fn check_field_name(name: &str) -> Result<(), (String, Option<String>)> {
    let fix = || {
        let derived = crate::rust::names::field_name(name);
        let derived = derived
            .strip_prefix("r#")
            .map_or(derived.clone(), |k| format!("{k}_"));
        Some(derived).filter(|d| d != name && check_field_name(d).is_ok())
    };
    let snake = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake || name == "_" {
        return Err(("is not a snake_case Rust identifier".into(), fix()));
    }
    if crate::rust::names::is_keyword(name) {
        return Err(("is a Rust keyword".into(), Some(format!("{name}_"))));
    }
    Ok(())
}

/// `blog_post` → `BlogPost`: a suggestion for a name that is not UpperCamelCase.
fn upper_camel(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect::<String>()
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .to_owned()
}

/// Checks a `rust_type` (a Rust type such as `rust_decimal::Decimal` or `Vec<u8>`).
pub(crate) fn check_type(text: &str) -> Result<(), String> {
    syn::parse_str::<syn::Type>(text)
        .map(drop)
        .map_err(|e| format!("is not a Rust type: {e}"))
}

/// Checks one `attributes` entry: one or more outer attributes (`#[serde(default)]`).
pub(crate) fn check_attributes(text: &str) -> Result<(), String> {
    match syn::Attribute::parse_outer.parse_str(text) {
        Ok(attrs) if attrs.is_empty() => Err("contains no attribute".into()),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("is not a Rust outer attribute: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert!(check_type_name("Post").is_ok());
        assert!(check_type_name("BlogPost2").is_ok());
        assert_eq!(
            check_type_name("blog_post").unwrap_err().1.as_deref(),
            Some("BlogPost")
        );
        assert_eq!(
            check_type_name("Blog Post").unwrap_err().1.as_deref(),
            Some("BlogPost")
        );
        assert!(check_type_name("Self").is_err());
        assert!(check_type_name("").is_err());
        assert!(check_type_name("_").is_err());
    }

    #[test]
    fn field_names() {
        for ok in ["a_b2", "_private", "x", "r2d2", "select"] {
            assert!(check_field_name(ok).is_ok(), "{ok}");
        }
        let fix = |name: &str| check_field_name(name).unwrap_err().1;
        assert_eq!(fix("type").as_deref(), Some("type_"));
        assert_eq!(fix("self").as_deref(), Some("self_"));
        assert_eq!(fix("A B").as_deref(), Some("a_b"));
        assert_eq!(fix("r#type").as_deref(), Some("r_type"));
        assert_eq!(fix("2nd").as_deref(), Some("_2nd"));
        assert_eq!(fix("ünïcode").as_deref(), Some("unicode"));
        assert!(check_field_name("").is_err());
        assert!(check_field_name("_").is_err());
    }

    #[test]
    fn types_and_attributes() {
        assert!(check_type("rust_decimal::Decimal").is_ok());
        assert!(check_type("Option<Vec<u8>>").is_ok());
        assert!(check_type("Vec<").is_err());
        assert!(check_type("").is_err());
        assert!(check_attributes("#[serde(default)]").is_ok());
        assert!(check_attributes("#[a] #[b(c)]").is_ok());
        assert!(check_attributes("serde(default)").is_err());
        assert!(check_attributes("#![inner]").is_err());
        assert!(check_attributes("").is_err());
        assert!(check_attributes("#[a] fn").is_err());
    }
}
