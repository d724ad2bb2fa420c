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
    let arms = variants.iter().map(|(v, change, names)| {
        let pats = names.iter().map(|(s, n)| quote!((#s, #n)));
        quote! {
            #(#pats)|* => match #change::decode(activity_id, verb, old_data, changed_data) {
                Ok(change) => Ok(Self::#v(change)),
                Err(e) => Err(e),
            },
        }
    });
    // With no audited table the parameters are otherwise unused.
    let unused = variants
        .is_empty()
        .then(|| quote!(let _ = (verb, old_data, changed_data);));
    let try_arms = variants.iter().map(|(v, change, names)| {
        let pats = names.iter().map(|(s, n)| quote!((#s, #n)));
        quote! {
            #(#pats)|* => match #change::try_from(activity) {
                Ok(change) => Ok(Self::#v(change)),
                Err(e) => Err(e),
            },
        }
    });
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
                #unused
                match (schema, table) {
                    #(#arms)*
                    _ => Err(::audit_runtime::codegen::unknown_table(activity_id, schema, table)),
                }
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
                match (activity.schema_name.as_str(), activity.table_name.as_str()) {
                    #(#try_arms)*
                    (schema, table) => Err(::audit_runtime::codegen::unknown_table(Some(activity.id), schema, table)),
                }
            }
        }
    }
}
