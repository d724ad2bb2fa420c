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
        if let Some(rust) = self.override_for(type_name) {
            let mut mapped = Self::parse_override(rust, &format!("type `{type_name}`"))?;
            // The override replaces the Rust type, not the column's nullability: a NOT
            // NULL domain keeps its columns out of `Option` as it does without one.
            mapped.domain_not_null = self.domain_not_null(type_name);
            return Ok(mapped);
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

    /// The override for `type_name`: the one for its exact spelling, else, for a
    /// built-in type with modifiers (`numeric(8,3)`), the one for its base name
    /// (`numeric`), which the manifest accepts as standing for every such column.
    fn override_for(&self, type_name: &str) -> Option<&'a str> {
        let overrides: &'a [(String, String)] = self.overrides;
        let find = |name: &str| {
            overrides
                .iter()
                .find(|(sql, _)| sql == name)
                .map(|(_, rust)| rust.as_str())
        };
        find(type_name).or_else(|| match self.schema.resolve_type(type_name) {
            TypeRef::Builtin(name) => find(&base_name(name)),
            _ => None,
        })
    }

    /// Whether `type_name` is a domain with `NOT NULL` somewhere in its chain of domains.
    fn domain_not_null(&self, type_name: &str) -> bool {
        match self.schema.resolve_type(type_name) {
            TypeRef::Domain(d) => !d.nullable || self.domain_not_null(&d.base_type),
            _ => false,
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
    use super::{TypeMapper, base_name};
    use crate::model::{DomainType, Schema};
    use crate::spec::TimeCrate;

    /// What `type_name` maps to with `overrides`, as text, and whether a NOT NULL domain
    /// keeps the column out of `Option`.
    fn mapped(schema: &Schema, overrides: &[(String, String)], type_name: &str) -> (String, bool) {
        let mut mapper = TypeMapper::new(schema, overrides, TimeCrate::Chrono);
        let mapped = mapper.map(type_name, "column", &mut Vec::new()).unwrap();
        (mapped.tokens.to_string(), mapped.domain_not_null)
    }

    #[test]
    fn base_type_overrides_apply_to_types_with_modifiers() {
        let schema = Schema::default();
        let overrides = vec![("numeric".to_owned(), "my::Decimal".to_owned())];
        for type_name in ["numeric", "numeric(8,3)"] {
            assert_eq!(mapped(&schema, &overrides, type_name).0, "my :: Decimal");
        }
        assert_eq!(
            mapped(&schema, &overrides, "numeric(8,3)[]").0,
            ":: audit_runtime :: types :: Array < my :: Decimal >"
        );
        // An override of the exact spelling wins over the base name's.
        let both = vec![
            ("numeric".to_owned(), "my::Decimal".to_owned()),
            ("numeric(8,3)".to_owned(), "my::Grams".to_owned()),
        ];
        assert_eq!(mapped(&schema, &both, "numeric(8,3)").0, "my :: Grams");
        assert_eq!(mapped(&schema, &both, "numeric(12,2)").0, "my :: Decimal");
    }

    #[test]
    fn overridden_not_null_domains_stay_not_null() {
        let domain = |name: &str, base: &str, nullable: bool| DomainType {
            schema: "public".to_owned(),
            name: name.to_owned(),
            base_type: base.to_owned(),
            nullable,
            default: None,
        };
        let schema = Schema {
            domains: vec![
                domain("cents", "bigint", false),
                domain("price", "public.cents", true),
                domain("note", "text", true),
            ],
            ..Schema::default()
        };
        let overrides = vec![
            ("public.cents".to_owned(), "my::Cents".to_owned()),
            ("public.price".to_owned(), "my::Price".to_owned()),
            ("public.note".to_owned(), "my::Note".to_owned()),
        ];
        assert_eq!(
            mapped(&schema, &overrides, "public.cents"),
            ("my :: Cents".to_owned(), true)
        );
        assert_eq!(
            mapped(&schema, &overrides, "public.price"),
            ("my :: Price".to_owned(), true)
        );
        assert_eq!(
            mapped(&schema, &overrides, "public.note"),
            ("my :: Note".to_owned(), false)
        );
    }

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
