//! The items generated for one audited table: row, patch, change enum, key.

use super::imports::{self, Imports};
use super::names;
use super::types::{Mapped, TypeMapper};
use crate::error::{Error, Result};
use crate::spec::{AuditedTable, RustOptions};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// One audited column as it appears in generated code.
pub struct Field {
    /// The SQL column name (the JSON key).
    pub column: String,
    /// The Rust field name.
    pub ident: Ident,
    /// The mapped type (without the `Option` for nullability).
    pub ty: Mapped,
    /// Whether the row field is `Option<T>`.
    pub nullable: bool,
    /// The column's SQL type, for docs and errors.
    pub sql_type: String,
    /// Extra attributes from the manifest.
    pub attributes: Vec<syn::Attribute>,
    /// Whether the type came from a per-column override (then it is used verbatim).
    pub overridden: bool,
}

impl Field {
    /// The row field's type.
    pub fn row_type(&self) -> TokenStream {
        let t = &self.ty.tokens;
        if self.nullable && !self.overridden {
            quote!(Option<#t>)
        } else {
            quote!(#t)
        }
    }

    fn expected(&self) -> String {
        let null = if self.nullable { "" } else { " NOT NULL" };
        format!("{}{null} ({})", self.sql_type, self.ty.display)
    }

    fn rename(&self) -> TokenStream {
        let key = &self.column;
        if names::unraw(&self.ident) == *key {
            quote!()
        } else {
            quote!(#[serde(rename = #key)])
        }
    }
}

/// Everything known about one table before its items are rendered.
pub struct TablePlan<'a> {
    /// The audited table.
    pub audited: &'a AuditedTable,
    /// The base name (`Article`).
    pub base: String,
    /// The audited columns.
    pub fields: Vec<Field>,
    /// The table and its partitions (all levels), as `(schema, name)`: activity of a
    /// partitioned table is recorded under the partition's name.
    pub names: Vec<(String, String)>,
}

impl<'a> TablePlan<'a> {
    /// Maps every audited column, failing on two columns with one Rust name.
    pub fn new(
        audited: &'a AuditedTable,
        base: String,
        mapper: &mut TypeMapper<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<Self> {
        let table = &audited.table;
        let qualified = format!("{}.{}", table.schema, table.name);
        let mut fields: Vec<Field> = Vec::new();
        for over in &audited.columns {
            if !audited.audited_columns().any(|c| c.name == over.column) {
                return Err(Error::Generate(format!(
                    "a column override names `{}`, which is not an audited column of {qualified}",
                    over.column
                )));
            }
        }
        for column in audited.audited_columns() {
            let what = format!("column {qualified}.{}", column.name);
            let over = audited.columns.iter().find(|o| o.column == column.name);
            let (ty, overridden) = match over.and_then(|o| o.rust_type.as_deref()) {
                Some(rust) => (TypeMapper::parse_override(rust, &what)?, true),
                None => (mapper.map(&column.type_name, &what, warnings)?, false),
            };
            let attributes = over
                .map(|o| {
                    o.attributes
                        .iter()
                        .map(|a| parse_attribute(a, &what))
                        .collect::<Result<Vec<_>>>()
                })
                .transpose()?
                .unwrap_or_default()
                .into_iter()
                .flatten()
                .collect();
            let ident = match over.and_then(|o| o.rust_name.as_deref()) {
                Some(name) => syn::parse_str::<Ident>(name).map_err(|_| {
                    Error::Generate(format!(
                        "rust_name `{name}` of {what} is not a Rust identifier"
                    ))
                })?,
                None => names::snake(&column.name),
            };
            if let Some(other) = fields.iter().find(|f| f.ident == ident) {
                return Err(Error::Generate(format!(
                    "columns `{}` and `{}` of table {qualified} both map to the Rust field \
                     `{ident}`; set `rust_name` for one of them in audit.toml \
                     ([tables.<table>.columns.<column>] rust_name = \"…\"), or exclude it",
                    other.column, column.name
                )));
            }
            fields.push(Field {
                column: column.name.clone(),
                ident,
                nullable: column.nullable && !ty.domain_not_null,
                ty,
                sql_type: column.type_name.clone(),
                attributes,
                overridden,
            });
        }
        Ok(Self {
            names: partition_family(mapper.schema, table),
            audited,
            base,
            fields,
        })
    }

    /// The name of the file (in the table directory) that holds the table's items.
    pub fn file_name(&self) -> String {
        format!("{}.rs", names::unraw(&names::camel_ident(&self.base)))
    }

    /// The table's type names: row, patch, change and key.
    fn type_names(&self) -> (Ident, Ident, Ident, Ident) {
        let row = names::camel_ident(&self.base);
        let stem = row.to_string();
        let stem = stem.trim_end_matches('_');
        let patch = format_ident!("{stem}Patch");
        let change = format_ident!("{stem}Change");
        let key = format_ident!("{stem}Key");
        (row, patch, change, key)
    }

    /// The types the table's items export: the row, the patch, the change and, when the
    /// table has one, the key.
    pub fn exports(&self) -> Vec<Ident> {
        let (row, patch, change, key) = self.type_names();
        let mut exports = vec![row, patch, change];
        exports.extend(self.key_fields().map(|_| key));
        exports
    }

    /// What the module holding the table's items must import from the include site for
    /// its field types; `user_types` are the names of the generated enums and composites.
    pub fn imports(&self, user_types: &std::collections::BTreeSet<String>) -> Imports {
        if self.fields.iter().any(|f| !f.attributes.is_empty()) {
            Imports::Glob
        } else {
            imports::needed(self.fields.iter().map(|f| &f.ty.tokens), user_types)
        }
    }

    /// The key columns' fields, when the table has a primary key made only of audited
    /// columns.
    fn key_fields(&self) -> Option<Vec<&Field>> {
        let pk = self.audited.table.primary_key.as_ref()?;
        pk.iter()
            .map(|c| self.fields.iter().find(|f| f.column == *c))
            .collect()
    }

    /// The position of each field's column in the row's `COLUMNS`, which lists the
    /// columns in the order `jsonb` keeps object keys (shorter first, then bytewise), so
    /// that the runtime finds each key of a recorded row at the next position.
    fn slots(&self) -> (Vec<usize>, Vec<&Field>) {
        let mut order: Vec<&Field> = self.fields.iter().collect();
        order.sort_by(|a, b| {
            (a.column.len(), a.column.as_bytes()).cmp(&(b.column.len(), b.column.as_bytes()))
        });
        let slots = self
            .fields
            .iter()
            .map(|f| {
                order
                    .iter()
                    .position(|o| o.column == f.column)
                    .expect("every field is in the order")
            })
            .collect();
        (slots, order)
    }

    /// Renders the row struct, patch, change enum and key; `audit_schema` is where the
    /// table's history lives, for the history queries. With `options.serde`, every item
    /// derives serde's `Serialize` and `Deserialize`; a row whose columns carry attributes
    /// from the manifest derives them anyway (the attributes are serde's), and is decoded
    /// through its `Deserialize`. With `options.partial_eq` the row, patch and change
    /// derive `PartialEq` (and `Eq` where the fields allow); the key always does.
    /// The items name the generated enums and composites unqualified: the module that
    /// holds them imports what [`TablePlan::imports`] says.
    pub fn render(&self, audit_schema: &str, options: &RustOptions) -> TokenStream {
        let serde = options.serde;
        let table = &self.audited.table;
        let qualified = format!("{}.{}", table.schema, table.name);
        let schema_lit = &table.schema;
        let name_lit = &table.name;
        let (row, patch, change, key) = self.type_names();
        let rt = quote!(::audit_runtime::codegen);
        // `compare`: whether the type derives `PartialEq` (and `Eq` when `eq`).
        let derive = |compare: bool, eq: bool, extra: TokenStream, serde: bool| {
            let compare = match (compare, eq) {
                (false, _) => quote!(),
                (true, false) => quote!(PartialEq,),
                (true, true) => quote!(PartialEq, Eq,),
            };
            let serde = serde.then(|| {
                quote! {
                    #[derive(#rt::serde::Serialize, #rt::serde::Deserialize)]
                    #[serde(crate = "::audit_runtime::codegen::serde")]
                }
            });
            quote! {
                #[derive(Debug, Clone, #extra #compare)]
                #serde
            }
        };
        let all_eq = self.fields.iter().all(|f| f.ty.eq && !f.overridden);
        let row_serde = serde || self.fields.iter().any(|f| !f.attributes.is_empty());

        // The row.
        let row_fields = self.fields.iter().map(|f| {
            let doc = format!(
                " Column `{}` of `{qualified}` (`{}`{}).",
                f.column,
                f.sql_type,
                if f.nullable { "" } else { ", NOT NULL" }
            );
            let ident = &f.ident;
            let ty = f.row_type();
            let rename = row_serde.then(|| f.rename());
            let attrs = &f.attributes;
            quote! { #[doc = #doc] #rename #(#attrs)* pub #ident: #ty, }
        });
        let row_doc = format!(" A row of `{qualified}` as recorded in the audit trail.");
        let (slots, order) = self.slots();
        let columns = order.iter().map(|f| {
            let name = &f.column;
            let expected = f.expected();
            quote!(#rt::Column { name: #name, expected: #expected })
        });
        // One typed slot per column, passed to the runtime in `COLUMNS` order: the
        // patch's fields (`Option` of the row field's type, so `Option<Option<T>>` for a
        // nullable column). A row is decoded into a patch too, then moved out of it.
        let mut by_slot: Vec<usize> = (0..self.fields.len()).collect();
        by_slot.sort_by_key(|&i| slots[i]);
        let patch_slot_refs = by_slot.iter().map(|&i| {
            let ident = &self.fields[i].ident;
            quote!(&mut patch.#ident)
        });
        // Every column excluded: nothing to fill, and no unused `mut`.
        // A struct literal rather than `Self::default()`, and `match` rather than `?`:
        // neither instantiates a generic function per table (the derived `default` and
        // `?`'s conversions would be compiled once per table type).
        let patch_body = if self.fields.is_empty() {
            quote! {
                match #rt::decode_object(ctx, part, text, #row::COLUMNS, &mut [], object) {
                    Ok(()) => Ok(Self {}),
                    Err(e) => Err(e),
                }
            }
        } else {
            let idents = self.fields.iter().map(|f| &f.ident);
            quote! {
                let mut patch = Self { #(#idents: None),* };
                match #rt::decode_object(ctx, part, text, #row::COLUMNS, &mut [#(#patch_slot_refs),*], object) {
                    Ok(()) => Ok(patch),
                    Err(e) => Err(e),
                }
            }
        };
        // The filled fields are moved out by one pattern: no call per column, and no
        // second set of slots.
        let filled = if self.fields.is_empty() {
            quote!(Ok(#patch {}) => Ok(Self {}),)
        } else {
            let locals: Vec<Ident> = (0..self.fields.len())
                .map(|i| format_ident!("s{}", i))
                .collect();
            let idents: Vec<&Ident> = self.fields.iter().map(|f| &f.ident).collect();
            quote! {
                Ok(#patch { #(#idents: Some(#locals)),* }) => Ok(Self { #(#idents: #locals),* }),
                Ok(_) => #rt::unfilled(),
            }
        };
        let row_body = quote! {
            match #patch::decode_object(ctx, part, text, #rt::Object::Row) {
                #filled
                Err(e) => Err(e),
            }
        };
        // The column-by-column decoder, and for a row with serde attributes the decoder
        // through its Deserialize, which falls back on it for precise errors.
        let decode_sig = |name: Ident| {
            quote! {
                fn #name(
                    ctx: #rt::Context<'_>,
                    part: ::audit_runtime::DataPart,
                    text: &str,
                ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError>
            }
        };
        let row_decode = if self.fields.iter().any(|f| !f.attributes.is_empty()) {
            let columns_sig = decode_sig(format_ident!("decode_columns"));
            let json_sig = decode_sig(format_ident!("decode_json"));
            quote! {
                #[doc = " Decodes a row from JSON text through its `Deserialize` implementation."]
                #[doc(hidden)]
                pub #json_sig {
                    #rt::decode_serde(ctx, part, text, Self::decode_columns)
                }

                #columns_sig {
                    #row_body
                }
            }
        } else {
            let json_sig = decode_sig(format_ident!("decode_json"));
            quote! {
                #[doc = " Decodes a row from JSON text."]
                #[doc(hidden)]
                pub #json_sig {
                    #row_body
                }
            }
        };

        // The patch.
        let patch_fields = self.fields.iter().map(|f| {
            let ident = &f.ident;
            let t = &f.ty.tokens;
            let (ty, with, doc) = if f.nullable && !f.overridden {
                (
                    quote!(Option<Option<#t>>),
                    "::audit_runtime::codegen::nullable_patch",
                    format!(
                        " New value of `{}` (`{}`): `None` if unchanged, `Some(None)` if set to NULL.",
                        f.column, f.sql_type
                    ),
                )
            } else {
                let t = f.row_type();
                (
                    quote!(Option<#t>),
                    "::audit_runtime::codegen::required_patch",
                    format!(" New value of `{}` (`{}`): `None` if unchanged.", f.column, f.sql_type),
                )
            };
            let attrs = serde.then(|| {
                let rename = f.rename();
                quote! {
                    #rename
                    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = #with)]
                }
            });
            quote! {
                #[doc = #doc]
                #attrs
                pub #ident: #ty,
            }
        });
        // One call per column: the runtime writes each changed value.
        let apply = if self.fields.is_empty() {
            // Every column excluded: nothing to apply, and no unused-variable warning.
            quote!(let _ = row;)
        } else {
            let idents = self.fields.iter().map(|f| &f.ident);
            quote!(#(#rt::apply(&mut row.#idents, &self.#idents);)*)
        };
        // A pattern: no call, no trait object per column.
        let is_empty = {
            let idents = self.fields.iter().map(|f| &f.ident);
            quote! {
                match self {
                    Self { #(#idents: None),* } => true,
                    #[allow(unreachable_patterns)]
                    _ => false,
                }
            }
        };
        let patch_doc =
            format!(" The columns of `{qualified}` an update changed, with their new values.");

        // The change.
        let truncate = self.audited.record_truncate;
        let truncate_variant = truncate.then(|| {
            quote! {
                /// The table was truncated.
                Truncate,
            }
        });
        // `parts` only returns `Truncate` for a table that records it.
        let truncate_arm = if truncate {
            quote!(Ok(Self::Truncate))
        } else {
            quote!(Err(#rt::unexpected_verb(ctx, verb)))
        };
        let truncate_none = truncate.then(|| quote!(Self::Truncate => None,));
        let truncate_verb =
            truncate.then(|| quote!(Self::Truncate => ::audit_runtime::Verb::Truncate,));
        let change_doc = format!(" One recorded change of `{qualified}`.");
        let family_schemas = self.names.iter().map(|(s, _)| s);
        let family_names = self.names.iter().map(|(_, n)| n);

        let key_items = self.render_key(
            (&row, &key, &change),
            &qualified,
            &|eq, extra| derive(true, eq, extra, serde),
            audit_schema,
            serde,
        );
        let compare = options.partial_eq;
        let derive_row = derive(compare, all_eq, quote!(), row_serde);
        let derive_patch = derive(compare, all_eq, quote!(Default,), serde);
        let derive_change = derive(compare, all_eq, quote!(), serde);
        let change_serde = serde.then(|| quote!(#[serde(rename_all = "snake_case")]));

        let items = quote! {
            #[doc = #row_doc]
            #derive_row
            pub struct #row { #(#row_fields)* }

            impl #row {
                #[doc = " The columns of the row in `jsonb` key order, for decoding."]
                #[doc(hidden)]
                pub const COLUMNS: &'static [#rt::Column] = &[#(#columns),*];

                #row_decode
            }

            #[doc = #patch_doc]
            #derive_patch
            pub struct #patch { #(#patch_fields)* }

            impl #patch {
                #[doc = " Decodes a patch, or with `Object::Row` a whole row, from JSON text into"]
                #[doc = " the patch's fields."]
                #[doc(hidden)]
                pub fn decode_object(
                    ctx: #rt::Context<'_>,
                    part: ::audit_runtime::DataPart,
                    text: &str,
                    object: #rt::Object,
                ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError> {
                    #patch_body
                }

                /// Writes the changed values into `row`, turning the old row into the new one.
                pub fn apply(&self, row: &mut #row) {
                    #apply
                }

                /// Whether no column changed.
                #[allow(clippy::match_like_matches_macro)]
                pub fn is_empty(&self) -> bool {
                    #is_empty
                }
            }

            #[doc = #change_doc]
            #[allow(clippy::large_enum_variant)]
            #derive_change
            #change_serde
            pub enum #change {
                /// A row was inserted.
                Insert {
                    /// The inserted row.
                    new: #row,
                },
                /// A row was updated.
                Update {
                    /// The row before the update.
                    old: #row,
                    /// The columns that changed, with their new values.
                    changed: #patch,
                },
                /// A row was deleted.
                Delete {
                    /// The deleted row.
                    old: #row,
                },
                #truncate_variant
            }

            impl #change {
                /// The table's schema.
                pub const SCHEMA: &'static str = #schema_lit;
                /// The table's name.
                pub const TABLE: &'static str = #name_lit;
                /// The table and its partitions, whose activity this type decodes.
                pub const TABLES: &'static [(&'static str, &'static str)] = &[#((#family_schemas, #family_names)),*];

                /// Decodes a change from the raw JSON text of an activity's parts.
                pub fn decode(
                    activity_id: Option<i64>,
                    verb: &str,
                    old_data: Option<&str>,
                    changed_data: Option<&str>,
                ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError> {
                    let ctx = #rt::Context { activity_id, table: #qualified };
                    let old_part = ::audit_runtime::DataPart::OldData;
                    let new_part = ::audit_runtime::DataPart::ChangedData;
                    match #rt::parts(ctx, verb, old_data, changed_data, #truncate) {
                        Ok(#rt::Parts::Insert { new }) => match #row::decode_json(ctx, new_part, new) {
                            Ok(new) => Ok(Self::Insert { new }),
                            Err(e) => Err(e),
                        },
                        Ok(#rt::Parts::Update { old, changed }) => match #row::decode_json(ctx, old_part, old) {
                            Ok(old) => match #patch::decode_object(ctx, new_part, changed, #rt::Object::Patch) {
                                Ok(changed) => Ok(Self::Update { old, changed }),
                                Err(e) => Err(e),
                            },
                            Err(e) => Err(e),
                        },
                        Ok(#rt::Parts::Delete { old }) => match #row::decode_json(ctx, old_part, old) {
                            Ok(old) => Ok(Self::Delete { old }),
                            Err(e) => Err(e),
                        },
                        Ok(#rt::Parts::Truncate) => #truncate_arm,
                        Err(e) => Err(e),
                    }
                }

                /// The verb of this change.
                pub fn verb(&self) -> ::audit_runtime::Verb {
                    match self {
                        Self::Insert { .. } => ::audit_runtime::Verb::Insert,
                        Self::Update { .. } => ::audit_runtime::Verb::Update,
                        Self::Delete { .. } => ::audit_runtime::Verb::Delete,
                        #truncate_verb
                    }
                }

                /// The row before the change (updates and deletes).
                pub fn old_row(&self) -> Option<&#row> {
                    match self {
                        Self::Update { old, .. } | Self::Delete { old } => Some(old),
                        _ => None,
                    }
                }

                /// The row after the change: the inserted row, or the old row with the
                /// patch applied; `None` after a delete or truncate.
                pub fn new_row(&self) -> Option<#row> {
                    match self {
                        Self::Insert { new } => Some(new.clone()),
                        Self::Update { old, changed } => {
                            let mut row = old.clone();
                            changed.apply(&mut row);
                            Some(row)
                        }
                        Self::Delete { .. } => None,
                        #truncate_none
                    }
                }
            }

            impl ::core::convert::TryFrom<&::audit_runtime::Activity> for #change {
                type Error = ::audit_runtime::DecodeError;

                fn try_from(activity: &::audit_runtime::Activity) -> ::core::result::Result<Self, Self::Error> {
                    match #rt::check_table(activity, Self::TABLES) {
                        Ok(()) => Self::decode(
                            Some(activity.id),
                            activity.verb.as_str(),
                            activity.old_data_text(),
                            activity.changed_data_text(),
                        ),
                        Err(e) => Err(e),
                    }
                }
            }

            #key_items
        };
        items
    }

    /// Renders the key items; `(row, key, change)` are the table's type names.
    fn render_key(
        &self,
        (row, key, change): (&Ident, &Ident, &Ident),
        qualified: &str,
        derive: &dyn Fn(bool, TokenStream) -> TokenStream,
        audit_schema: &str,
        serde: bool,
    ) -> TokenStream {
        let Some(fields) = self.key_fields() else {
            return quote!();
        };
        let eq = fields.iter().all(|f| f.ty.eq && !f.overridden);
        let doc = format!(
            " The primary key of `{qualified}` ({}), as recorded in `activity.object_id`.",
            fields
                .iter()
                .map(|f| format!("`{}`", f.column))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let idents: Vec<&Ident> = fields.iter().map(|f| &f.ident).collect();
        let types: Vec<TokenStream> = fields.iter().map(|f| f.row_type()).collect();
        let key_fields = fields.iter().map(|f| {
            let doc = format!(" Key column `{}` (`{}`).", f.column, f.sql_type);
            let ident = &f.ident;
            let ty = f.row_type();
            let rename = serde.then(|| f.rename());
            quote! { #[doc = #doc] #rename pub #ident: #ty, }
        });
        let expected = fields
            .iter()
            .map(|f| format!("{} ({})", f.sql_type, f.ty.display))
            .collect::<Vec<_>>()
            .join(", ");
        // A single-column key is the JSON value itself, a composite key an array.
        let decode = if fields.len() == 1 {
            let ident = idents[0];
            let ty = &types[0];
            quote! {
                match ::audit_runtime::codegen::decode_key::<#ty>(ctx, object_id, #expected) {
                    Ok(#ident) => Ok(Self { #ident }),
                    Err(e) => Err(e),
                }
            }
        } else {
            let vars: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("k{}", i)).collect();
            quote! {
                match ::audit_runtime::codegen::decode_key::<(#(#types,)*)>(ctx, object_id, #expected) {
                    Ok((#(#vars,)*)) => Ok(Self { #(#idents: #vars),* }),
                    Err(e) => Err(e),
                }
            }
        };
        let rt = quote!(::audit_runtime::codegen);
        let derive_key = derive(eq, if eq { quote!(Hash,) } else { quote!() });
        // object_id: the JSON of the value itself, or of a tuple (an array) for a
        // composite key, matching how the triggers record it.
        let object_id = if fields.len() == 1 {
            let ident = idents[0];
            quote!(#rt::object_id(&key.#ident))
        } else {
            quote!(#rt::object_id(&(#(&key.#idents,)*)))
        };
        let key_columns = fields.iter().map(|f| &f.column);
        let table = &self.audited.table;
        let (schema_lit, name_lit) = (&table.schema, &table.name);
        quote! {
            #[doc = #doc]
            #derive_key
            pub struct #key { #(#key_fields)* }

            impl #key {
                /// Decodes a key from the raw JSON text of `activity.object_id`.
                pub fn decode(
                    activity_id: Option<i64>,
                    object_id: &str,
                ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError> {
                    let ctx = #rt::Context { activity_id, table: #qualified };
                    #decode
                }
            }

            impl ::core::convert::TryFrom<&::audit_runtime::Activity> for #key {
                type Error = ::audit_runtime::DecodeError;

                fn try_from(activity: &::audit_runtime::Activity) -> ::core::result::Result<Self, Self::Error> {
                    let ctx = #rt::Context { activity_id: Some(activity.id), table: #qualified };
                    match #rt::check_table(activity, #change::TABLES) {
                        Ok(()) => match #rt::required(
                            ctx,
                            activity.verb.as_str(),
                            ::audit_runtime::DataPart::ObjectId,
                            activity.object_id_text(),
                        ) {
                            Ok(object_id) => Self::decode(Some(activity.id), object_id),
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    }
                }
            }

            impl ::audit_runtime::AuditedTable for #change {
                type Key = #key;
                type Row = #row;

                const AUDIT_SCHEMA: &'static str = #audit_schema;
                const SCHEMA: &'static str = #schema_lit;
                const TABLE: &'static str = #name_lit;
                const KEY_COLUMNS: &'static [&'static str] = &[#(#key_columns),*];

                fn object_id(key: &#key) -> String {
                    #object_id
                }

                fn decode(
                    activity_id: Option<i64>,
                    verb: &str,
                    old_data: Option<&str>,
                    changed_data: Option<&str>,
                ) -> ::core::result::Result<Self, ::audit_runtime::DecodeError> {
                    Self::decode(activity_id, verb, old_data, changed_data)
                }

                fn row_after(&self) -> Option<#row> {
                    self.new_row()
                }
            }

            impl #row {
                /// The row's primary key.
                #[allow(clippy::clone_on_copy)]
                pub fn key(&self) -> #key {
                    #key { #(#idents: self.#idents.clone()),* }
                }
            }
        }
    }
}

/// `table` and every partition below it, sorted after the table itself.
fn partition_family(
    schema: &crate::model::Schema,
    table: &crate::model::Table,
) -> Vec<(String, String)> {
    let mut family = vec![(table.schema.clone(), table.name.clone())];
    let mut i = 0;
    while i < family.len() {
        let (ps, pn) = family[i].clone();
        let mut children: Vec<(String, String)> = schema
            .tables
            .iter()
            .filter(|t| {
                t.partition_of
                    .as_ref()
                    .is_some_and(|p| p.schema == ps && p.name == pn)
            })
            .map(|t| (t.schema.clone(), t.name.clone()))
            .collect();
        children.sort();
        family.extend(children);
        i += 1;
    }
    family
}

/// Parses one attribute written in the manifest, e.g. `#[serde(skip_serializing)]`.
fn parse_attribute(text: &str, what: &str) -> Result<Vec<syn::Attribute>> {
    use syn::parse::Parser;
    syn::Attribute::parse_outer
        .parse_str(text)
        .map_err(|e| Error::Generate(format!("invalid attribute `{text}` for {what}: {e}")))
}
