//! The crate-wide `Change` enum: one variant per audited table.

use super::names;
use super::table::TablePlan;
use crate::spec::RustOptions;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Renders `Change`, dispatching on the activity's schema and table name, and its
/// `audit_runtime::AuditTrail` implementation for the actor query.
pub fn render(
    plans: &[TablePlan<'_>],
    audit_schema: &str,
    actor_id_type: &str,
    options: &RustOptions,
) -> TokenStream {
    let variants: Vec<_> = plans
        .iter()
        .map(|p| {
            let v = names::camel_ident(&p.base);
            let change = format_ident!("{}Change", v.to_string().trim_end_matches('_'));
            (v, change, &p.names)
        })
        .collect();
    let defs = variants.iter().map(|(v, change, names)| {
        let (schema, name) = &names[0];
        let doc = format!(" A change of `{schema}.{name}`.");
        quote! { #[doc = #doc] #v(#change), }
    });
    // Dispatch by the position of the table's name in a sorted list, then by an integer:
    // a `match` on pairs of strings is checked by the compiler in time quadratic in the
    // number of arms (0.5 s for 500 tables) and compiled to comparisons one by one.
    let mut dispatch: Vec<(&str, &str, u32)> = plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let i = u32::try_from(i).expect("fewer than 2^32 tables");
            p.names
                .iter()
                .map(move |(s, n)| (s.as_str(), n.as_str(), i))
        })
        .collect();
    dispatch.sort();
    let dispatch = dispatch.iter().map(|(s, n, i)| {
        let i = proc_macro2::Literal::u32_unsuffixed(*i);
        quote!((#s, #n, #i))
    });
    let index = |i: usize| proc_macro2::Literal::usize_unsuffixed(i);
    let arms = variants.iter().enumerate().map(|(i, (v, change, _))| {
        let i = index(i);
        quote! {
            Some(#i) => match #change::decode(activity_id, verb, old_data, changed_data) {
                Ok(change) => Ok(Self::#v(change)),
                Err(e) => Err(e),
            },
        }
    });
    let try_arms = variants.iter().enumerate().map(|(i, (v, change, _))| {
        let i = index(i);
        quote! {
            Some(#i) => match #change::try_from(activity) {
                Ok(change) => Ok(Self::#v(change)),
                Err(e) => Err(e),
            },
        }
    });
    let rt = quote!(::audit_runtime::codegen);
    // With no audited table there is nothing to dispatch to (and the parameters are
    // otherwise unused).
    let (decode_body, try_body) = if variants.is_empty() {
        (
            quote! {
                let _ = (verb, old_data, changed_data);
                Err(#rt::unknown_table(activity_id, schema, table))
            },
            quote!(Err(#rt::unknown_table(Some(activity.id), schema, table))),
        )
    } else {
        (
            quote! {
                match #rt::table_index(Self::DISPATCH, schema, table) {
                    #(#arms)*
                    _ => Err(#rt::unknown_table(activity_id, schema, table)),
                }
            },
            quote! {
                match #rt::table_index(Self::DISPATCH, schema, table) {
                    #(#try_arms)*
                    _ => Err(#rt::unknown_table(Some(activity.id), schema, table)),
                }
            },
        )
    };
    let all_tables = plans
        .iter()
        .flat_map(|p| p.names.iter())
        .map(|(s, n)| quote!((#s, #n)));
    let partial_eq = options.partial_eq.then(|| quote!(PartialEq));
    let serde = options.serde.then(|| {
        quote! {
            #[derive(::audit_runtime::codegen::serde::Serialize, ::audit_runtime::codegen::serde::Deserialize)]
            #[serde(crate = "::audit_runtime::codegen::serde")]
        }
    });
    quote! {
        /// A recorded change of any audited table.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, #partial_eq)]
        #serde
        pub enum Change {
            #(#defs)*
        }

        impl Change {
            /// Every table name (`TABLES`) sorted, with the position of its variant.
            #[doc(hidden)]
            pub const DISPATCH: &'static [(&'static str, &'static str, u32)] = &[#(#dispatch),*];

            /// Decodes a change of the table `schema.table` from the raw JSON text of an
            /// activity's parts.
            pub fn decode(
                activity_id: Option<i64>,
                schema: &str,
                table: &str,
                verb: &str,
                old_data: Option<&str>,
                changed_data: Option<&str>,
            ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError> {
                #decode_body
            }
        }

        impl ::audit_runtime::AuditTrail for Change {
            const AUDIT_SCHEMA: &'static str = #audit_schema;
            const ACTOR_ID_TYPE: &'static str = #actor_id_type;
            const TABLES: &'static [(&'static str, &'static str)] = &[#(#all_tables),*];

            fn decode(
                activity_id: Option<i64>,
                schema: &str,
                table: &str,
                verb: &str,
                old_data: Option<&str>,
                changed_data: Option<&str>,
            ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError> {
                Self::decode(activity_id, schema, table, verb, old_data, changed_data)
            }
        }

        impl ::core::convert::TryFrom<&::audit_runtime::Activity> for Change {
            type Error = ::audit_runtime::DecodeError;

            fn try_from(activity: &::audit_runtime::Activity) -> ::core::result::Result<Self, Self::Error> {
                let (schema, table) = (activity.schema_name.as_str(), activity.table_name.as_str());
                #try_body
            }
        }
    }
}
