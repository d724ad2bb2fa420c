//! The type mapping: SQL type name → Rust type of the generated field.

use crate::error::{Error, Result};
use crate::model::{Schema, TypeRef};
use crate::spec::TimeCrate;
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::BTreeSet;

/// A Rust type for a SQL type.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The type's tokens (absolute paths below `::audit_runtime`).
    pub tokens: TokenStream,
    /// A short readable form for error messages (`Array<i32>`).
    pub display: String,
    /// Whether the type implements `Eq` and `Hash`.
    pub eq: bool,
    /// Whether a domain in the chain is `NOT NULL`.
    pub domain_not_null: bool,
}

/// Maps SQL types, remembering the user-defined enums and composites it meets (they
/// are generated) and the types it could only map to `serde_json::Value`.
pub struct TypeMapper<'a> {
    /// The schema types are resolved against.
    pub schema: &'a Schema,
    overrides: &'a [(String, String)],
    time_crate: TimeCrate,
    /// Canonical names of the enums met.
    pub enums: BTreeSet<String>,
    /// Canonical names of the composites met.
    pub composites: BTreeSet<String>,
    /// The Rust names of user-defined types, by canonical SQL name.
    pub user_names: std::collections::BTreeMap<String, String>,
}

/// Removes type modifiers: `numeric(10,2)` → `numeric`, `timestamp(3) with time zone` →
/// `timestamp with time zone`, `interval day` → `interval`.
fn base_name(type_name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in type_name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.starts_with("interval") {
        "interval".to_owned()
    } else {
        out
    }
}

fn builtin(name: &str, time_crate: TimeCrate) -> Option<(TokenStream, &'static str, bool)> {
    let rt = quote!(::audit_runtime::types);
    let chrono = quote!(::audit_runtime::codegen::chrono);
    if time_crate == TimeCrate::Time {
        // The `time` twins of the chrono-based types (runtime feature `time`).
        let time = quote!(::audit_runtime::types::time);
        match name {
            "date" => return Some((quote!(#time::Date), "time::Date", true)),
            "time without time zone" => return Some((quote!(#time::Time), "time::Time", true)),
            "timestamp without time zone" => {
                return Some((quote!(#time::Timestamp), "time::Timestamp", true));
            }
            "timestamp with time zone" => {
                return Some((quote!(#time::Timestamptz), "time::Timestamptz", true));
            }
            _ => {}
        }
    }
    Some(match name {
        "smallint" => (quote!(i16), "i16", true),
        "integer" => (quote!(i32), "i32", true),
        "bigint" => (quote!(i64), "i64", true),
        "real" => (quote!(#rt::Float4), "Float4", false),
        "double precision" => (quote!(#rt::Float8), "Float8", false),
        "numeric" => (quote!(#rt::Numeric), "Numeric", true),
        "money" => (quote!(#rt::Money), "Money", true),
        "text" | "character varying" | "character" | "bpchar" | "\"char\"" | "name" | "bit"
        | "bit varying" | "xml" | "tsvector" | "tsquery" => (quote!(String), "String", true),
        "boolean" => (quote!(bool), "bool", true),
        "bytea" => (quote!(#rt::Bytea), "Bytea", true),
        "uuid" => (quote!(#rt::Uuid), "Uuid", true),
        "date" => (quote!(#rt::Date), "Date", true),
        "time without time zone" => (quote!(#chrono::NaiveTime), "NaiveTime", true),
        "time with time zone" => (quote!(#rt::TimeTz), "TimeTz", true),
        "timestamp without time zone" => (quote!(#rt::Timestamp), "Timestamp", true),
        "timestamp with time zone" => (quote!(#rt::Timestamptz), "Timestamptz", true),
        "interval" => (quote!(#rt::Interval), "Interval", true),
        "json" | "jsonb" => (
            quote!(::audit_runtime::codegen::serde_json::Value),
            "Value",
            false,
        ),
        "inet" => (quote!(#rt::Inet), "Inet", true),
        "cidr" => (quote!(#rt::Cidr), "Cidr", true),
        "macaddr" => (quote!(#rt::MacAddr), "MacAddr", true),
        "macaddr8" => (quote!(#rt::MacAddr8), "MacAddr8", true),
        // citext belongs to an extension, so it is not in the model and keeps its schema.
        n if n == "citext" || n.ends_with(".citext") => (quote!(String), "String", true),
        _ => return None,
    })
}

impl<'a> TypeMapper<'a> {
    /// A mapper over `schema` with per-type overrides (canonical SQL name → Rust path).
    pub fn new(
        schema: &'a Schema,
        overrides: &'a [(String, String)],
        time_crate: TimeCrate,
    ) -> Self {
        Self {
            schema,
            overrides,
            time_crate,
            enums: BTreeSet::new(),
            composites: BTreeSet::new(),
            user_names: Default::default(),
        }
    }

    /// Parses a Rust type written in the manifest.
    pub fn parse_override(rust: &str, what: &str) -> Result<Mapped> {
        let ty: syn::Type = syn::parse_str(rust)
            .map_err(|e| Error::Generate(format!("invalid Rust type `{rust}` for {what}: {e}")))?;
        Ok(Mapped {
            tokens: quote!(#ty),
            display: rust.to_owned(),
            eq: false,
            domain_not_null: false,
        })
    }

    /// Maps `type_name`; `warnings` receives a line when the type falls back to
    /// `serde_json::Value`, naming `what` (the column).
    pub fn map(
        &mut self,
        type_name: &str,
        what: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Mapped> {
        if let Some((_, rust)) = self.overrides.iter().find(|(sql, _)| sql == type_name) {
            return Self::parse_override(rust, &format!("type `{type_name}`"));
        }
        match self.schema.resolve_type(type_name) {
            TypeRef::Array(element) => {
                let inner = self.map(element, what, warnings)?;
                let tokens = &inner.tokens;
                Ok(Mapped {
                    tokens: quote!(::audit_runtime::types::Array<#tokens>),
                    display: format!("Array<{}>", inner.display),
                    eq: inner.eq,
                    domain_not_null: false,
                })
            }
            TypeRef::Enum(e) => {
                let key = crate::model::QualifiedName::new(&e.schema, &e.name).to_sql();
                self.enums.insert(key.clone());
                Ok(self.user(&key, &e.schema, &e.name, true))
            }
            TypeRef::Composite(c) => {
                let key = crate::model::QualifiedName::new(&c.schema, &c.name).to_sql();
                if self.composites.insert(key.clone()) {
                    // Map the attributes now so nested user types are registered too.
                    for a in &c.attributes {
                        self.map(&a.type_name, what, warnings)?;
                    }
                }
                let eq = c.attributes.iter().all(|a| {
                    let mut scratch = Vec::new();
                    self.map(&a.type_name, what, &mut scratch)
                        .is_ok_and(|m| m.eq)
                });
                Ok(self.user(&key, &c.schema, &c.name, eq))
            }
            TypeRef::Domain(d) => {
                let mut inner = self.map(&d.base_type, what, warnings)?;
                inner.domain_not_null |= !d.nullable;
                Ok(inner)
            }
            TypeRef::Builtin(name) => match builtin(&base_name(name), self.time_crate) {
                Some((tokens, display, eq)) => Ok(Mapped {
                    tokens,
                    display: display.to_owned(),
                    eq,
                    domain_not_null: false,
                }),
                None => {
                    warnings.push(format!(
                        "{what}: no Rust mapping for SQL type `{name}`; it is decoded as \
                         serde_json::Value (set a type override in audit.toml to choose a type)"
                    ));
                    Ok(Mapped {
                        tokens: quote!(::audit_runtime::codegen::serde_json::Value),
                        display: "Value".to_owned(),
                        eq: false,
                        domain_not_null: false,
                    })
                }
            },
        }
    }

    fn user(&mut self, key: &str, schema: &str, name: &str, eq: bool) -> Mapped {
        let rust = self
            .user_names
            .entry(key.to_owned())
            .or_insert_with(|| super::names::table_base(schema, name))
            .clone();
        let ident = super::names::camel_ident(&rust);
        Mapped {
            tokens: quote!(#ident),
            display: rust,
            eq,
            domain_not_null: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::base_name;

    #[test]
    fn type_modifiers_are_dropped() {
        assert_eq!(base_name("numeric(10,2)"), "numeric");
        assert_eq!(
            base_name("timestamp(3) with time zone"),
            "timestamp with time zone"
        );
        assert_eq!(base_name("interval day"), "interval");
        assert_eq!(base_name("character varying(20)"), "character varying");
    }
}
