//! Generated Rust for user-defined enums and composites.

use super::names;
use super::types::TypeMapper;
use crate::error::Result;
use crate::model::{CompositeType, EnumType};
use proc_macro2::TokenStream;
use quote::quote;
use std::collections::BTreeSet;

/// An enum with one variant per label and `Other(String)` for labels added later.
///
/// Serde is implemented by hand: derive's `#[serde(other)]` only supports unit variants,
/// and the label must survive in `Other`.
pub fn render_enum(e: &EnumType, rust: &str) -> TokenStream {
    let ident = names::camel_ident(rust);
    let qualified = crate::model::QualifiedName::new(&e.schema, &e.name).to_sql();
    let doc = format!(" The PostgreSQL enum `{qualified}`.");
    // Variant names, unique, never `Other` (taken by the fallback).
    let mut taken: BTreeSet<String> = BTreeSet::from(["Other".to_owned()]);
    let variants: Vec<(proc_macro2::Ident, &String)> = e
        .labels
        .iter()
        .map(|label| {
            let base = names::camel(label, "V");
            let mut name = base.clone();
            let mut n = 2;
            while !taken.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            (names::camel_ident(&name), label)
        })
        .collect();
    let defs = variants.iter().map(|(v, label)| {
        let doc = format!(" The label `{label}`.");
        quote! { #[doc = #doc] #v, }
    });
    let to_str = variants
        .iter()
        .map(|(v, label)| quote!(Self::#v => #label,));
    let from_str = variants
        .iter()
        .map(|(v, label)| quote!(#label => Self::#v,));
    let serde = quote!(::audit_runtime::codegen::serde);
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum #ident {
            #(#defs)*
            /// A label added to the type after this code was generated.
            Other(String),
        }

        impl #ident {
            /// The label as stored in PostgreSQL.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str)*
                    Self::Other(label) => label,
                }
            }

            /// The value for a label; unknown labels give `Other`.
            pub fn from_label(label: &str) -> Self {
                match label {
                    #(#from_str)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl #serde::Serialize for #ident {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> #serde::Deserialize<'de> for #ident {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let label = <::std::borrow::Cow<'de, str> as #serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_label(&label))
            }
        }
    }
}

/// A struct with one `Option` field per attribute (composite attributes are nullable).
pub fn render_composite(
    c: &CompositeType,
    rust: &str,
    mapper: &mut TypeMapper<'_>,
    warnings: &mut Vec<String>,
) -> Result<TokenStream> {
    let ident = names::camel_ident(rust);
    let qualified = crate::model::QualifiedName::new(&c.schema, &c.name).to_sql();
    let doc = format!(" The PostgreSQL composite type `{qualified}`.");
    let mut eq = true;
    let mut fields = Vec::new();
    let mut seen: Vec<(proc_macro2::Ident, &str)> = Vec::new();
    for a in &c.attributes {
        let what = format!("attribute {qualified}.{}", a.name);
        let mapped = mapper.map(&a.type_name, &what, warnings)?;
        eq &= mapped.eq;
        let field = names::snake(&a.name);
        if let Some((_, other)) = seen.iter().find(|(f, _)| *f == field) {
            return Err(crate::error::Error::Generate(format!(
                "attributes `{other}` and `{}` of type {qualified} both map to the Rust field `{field}`",
                a.name
            )));
        }
        seen.push((field.clone(), &a.name));
        let key = &a.name;
        let rename = if names::unraw(&field) == *key {
            quote!()
        } else {
            quote!(#[serde(rename = #key)])
        };
        let ty = &mapped.tokens;
        let doc = format!(" Attribute `{}` (`{}`).", a.name, a.type_name);
        fields.push(quote! { #[doc = #doc] #rename pub #field: Option<#ty>, });
    }
    let eq = eq.then(|| quote!(Eq,));
    Ok(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq, #eq ::audit_runtime::codegen::serde::Serialize,
            ::audit_runtime::codegen::serde::Deserialize)]
        #[serde(crate = "::audit_runtime::codegen::serde")]
        pub struct #ident { #(#fields)* }
    })
}
