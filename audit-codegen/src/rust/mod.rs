//! Rendering of the typed Rust code (`$OUT_DIR/audit.rs`) with syn, quote and prettyplease.
//!
//! For each audited table the code has a row struct (`Article`), a patch of the changed
//! columns (`ArticlePatch`), a change enum (`ArticleChange`) decoding activity rows, and
//! the key type (`ArticleKey`) when the table has a primary key; a crate-wide `Change`
//! enum dispatches on the activity's table. `generate()` writes each table's items to a
//! file of its own (`$OUT_DIR/audit/Article.rs`), which `audit.rs` includes into one of
//! [`TABLE_MODULES`] private modules (`__tables_17`, chosen by a stable hash of the
//! table's Rust name; the types are re-exported): a schema change then leaves the other
//! tables' files, and the compiled code of the other modules, for incremental
//! compilation to reuse.
//!
//! Compile time: the code per table is kept to what a user's crate must compile for it.
//! Decoding is table-driven (`audit_runtime::codegen::decode_object`: one pass over the
//! JSON object, each value parsed straight into a typed slot, a field of the table's
//! patch, through one generic parse per column type shared by all tables; a row is
//! decoded into a patch and moved out of it by one pattern) rather than serde's derive, whose expansions made a
//! table cost about seven times more compile time; serde's derives are opt-in
//! (`RustOptions::serde`).
//!
//! User-defined enums and composites used by audited columns become Rust enums and
//! structs. See `audit_runtime::types` for the
//! type table.
//!
//! The output is a pure function of the [`AuditSpec`]: same spec, same bytes.
//!
//! Names: tables and types become `UpperCamelCase` (`blog_post` → `BlogPost`, a schema
//! other than `public` prefixes: `Sales.invoice` → `SalesInvoice`), columns
//! `snake_case`; keywords become raw identifiers (`r#type`) or get a trailing `_`
//! (`self_`, `Self_`), leading digits a prefix, common accented letters their ASCII
//! letter and other characters their code point (`日本` → `u65e5_u672c`). The JSON key
//! stays exact: decoding reads the column names of the row's `COLUMNS`, and with
//! `[rust] serde = true` the derives rename fields to them. Two tables, types or columns with one Rust
//! name are an [`Error::Generate`] naming both (for tables: set `rust_name`).
//!
//! Dates and times use chrono by default; with `time_crate = "time"` the `date`,
//! `time`, `timestamp` and `timestamptz` columns use `audit_runtime::types::time`
//! (enable audit-runtime's `time` feature); `timetz` stays chrono-based.
//!
//! Overrides: `spec.rust.type_overrides` replaces the mapping of a SQL type everywhere
//! (an override of a built-in type's name, `numeric`, covers its spellings with
//! modifiers, `numeric(8,3)`, unless one is overridden itself; columns of a NOT NULL
//! domain stay out of `Option` when the domain is overridden); a column override's
//! `rust_type` is used verbatim for the row field (nullability included: write
//! `Option<…>` yourself) and its attributes are added to the row field.
//! Override types must implement `Debug`, `Clone`, `PartialEq` and serde's traits.
//!
//! Schema evolution: keys of dropped columns are ignored; a nullable column absent from
//! an old row decodes as `None`; a `NOT NULL` column absent from an old full row is a
//! `DecodeError::MissingColumn` naming it (no truthful value exists; an override to
//! `Option<…>` makes such history decode).

mod change;
mod imports;
pub(crate) mod names;
mod table;
mod types;
mod user_types;

use crate::error::{Error, Result};
use crate::spec::AuditSpec;
use imports::Imports;
use quote::format_ident;
use std::collections::{BTreeMap, BTreeSet};
use table::TablePlan;
use types::TypeMapper;

/// The generated Rust code and what the caller should tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RustOutput {
    /// The whole code in one file, every table's module inline, formatted by
    /// prettyplease. `generate()` writes the same code split: [`RustOutput::split_code`]
    /// as `audit.rs` and [`RustOutput::table_files`].
    pub code: String,
    /// Columns whose type had no mapping and fell back to `serde_json::Value`; a build
    /// script prints each as `cargo:warning=`.
    pub warnings: Vec<String>,
    /// `code` as `include_audit!()` includes it: each table's items are in a file of their
    /// own ([`RustOutput::table_files`]), which this file includes into the table's module
    /// from the directory [`TABLE_DIR`] beside it. A schema change then rewrites the files
    /// of the tables it touches only, and incremental compilation reuses the others' work
    /// (in one file, every item after the change moves, and its code is compiled again).
    pub split_code: String,
    /// The file name (in [`TABLE_DIR`]) and contents of each table's items.
    pub table_files: Vec<(String, String)>,
}

/// The directory beside the generated `audit.rs` that holds one file per table.
pub const TABLE_DIR: &str = "audit";

/// The first line of the generated file.
const HEADER: &str =
    "// @generated by audit-codegen from the audit specification. Do not edit.\n\n";

/// Renders the typed Rust code for `spec`.
pub fn render(spec: &AuditSpec) -> Result<RustOutput> {
    let mut warnings = Vec::new();
    let mut mapper = TypeMapper::new(
        &spec.schema,
        &spec.rust.type_overrides,
        spec.rust.time_crate,
    );
    let mut registry = Registry::default();
    registry.claim("Change", "the crate-wide change enum", None)?;

    let mut plans = Vec::new();
    for audited in &spec.tables {
        let table = &audited.table;
        // More columns make expressions of the generated code nest deeper than the
        // printer's stack allows.
        table.check_column_count()?;
        let base = audited
            .rust_name
            .clone()
            .unwrap_or_else(|| names::table_base(&table.schema, &table.name));
        if syn::parse_str::<syn::Ident>(&base).is_err() {
            return Err(Error::Generate(format!(
                "rust_name `{base}` of table {}.{} is not a valid Rust identifier",
                table.schema, table.name
            )));
        }
        let origin = format!("table {}.{}", table.schema, table.name);
        let base_ident = names::camel_ident(&base).to_string();
        let stem = base_ident.trim_end_matches('_').to_owned();
        registry.claim(&base_ident, &origin, Some(&origin))?;
        for suffix in ["Patch", "Change", "Key"] {
            registry.claim(&format!("{stem}{suffix}"), &origin, Some(&origin))?;
        }
        plans.push(TablePlan::new(audited, base, &mut mapper, &mut warnings)?);
    }

    // A partition audited in its own right decodes as itself, not as its parent.
    let own: Vec<(String, String)> = plans.iter().map(|p| p.names[0].clone()).collect();
    for plan in &mut plans {
        let first = plan.names[0].clone();
        plan.names.retain(|n| *n == first || !own.contains(n));
    }

    let mut head = proc_macro2::TokenStream::new();
    for key in mapper.enums.clone() {
        let rust = mapper.user_names[&key].clone();
        registry.claim(&rust, &format!("enum type {key}"), None)?;
        let e = spec
            .schema
            .enums
            .iter()
            .find(|e| crate::model::QualifiedName::new(&e.schema, &e.name).to_sql() == key)
            .expect("the mapper only records enums of the schema");
        head.extend(user_types::render_enum(e, &rust));
    }
    for key in mapper.composites.clone() {
        let rust = mapper.user_names[&key].clone();
        registry.claim(&rust, &format!("composite type {key}"), None)?;
        let c = spec
            .schema
            .composites
            .iter()
            .find(|c| crate::model::QualifiedName::new(&c.schema, &c.name).to_sql() == key)
            .expect("the mapper only records composites of the schema");
        head.extend(user_types::render_composite(
            c,
            &rust,
            &mut mapper,
            &mut warnings,
        )?);
    }
    let audit_schema = &spec.audit_schema;
    let actor_id_type = &spec.actor_id_type;
    head.extend(quote::quote! {
        /// The schema of the audit trail (`activity`, `transaction`), unquoted.
        pub const AUDIT_SCHEMA: &str = #audit_schema;
        /// The SQL type of `transaction.actor_id`, as written in the manifest.
        pub const ACTOR_ID_TYPE: &str = #actor_id_type;
    });

    let mut code = String::from(HEADER);
    code.push_str(&unparse(head)?);
    let mut split_code = code.clone();
    let mut table_files = Vec::with_capacity(plans.len());
    let user_types: BTreeSet<String> = mapper.user_names.values().cloned().collect();
    let mut rendered = render_tables(spec, &plans)?;
    for (number, members) in table_modules(&plans) {
        let module = format_ident!("__tables_{number:02}");
        let uses = members
            .iter()
            .map(|&i| plans[i].imports(&user_types))
            .reduce(Imports::union)
            .map_or_else(proc_macro2::TokenStream::new, |imports| imports.to_tokens());
        let uses = unparse(uses)?;
        let exports = members.iter().flat_map(|&i| plans[i].exports());
        let export = unparse(quote::quote! {
            // Unused re-exports in a binary would warn where unused items did not.
            #[allow(unused_imports)]
            pub use self::#module::{#(#exports),*};
        })?;
        let open = format!(
            "#[allow(non_snake_case)]\nmod {module} {{\n{}",
            indent(&uses)
        );
        code.push_str(&open);
        split_code.push_str(&open);
        for &i in &members {
            let table = std::mem::take(&mut rendered[i]);
            code.push_str(&indent(&table));
            let file = plans[i].file_name();
            split_code.push_str(&format!("    include!(\"{TABLE_DIR}/{file}\");\n"));
            table_files.push((file, format!("{HEADER}{table}")));
        }
        code.push_str(&format!("}}\n{export}"));
        split_code.push_str(&format!("}}\n{export}"));
    }
    let tail = unparse(change::render(
        &plans,
        audit_schema,
        actor_id_type,
        &spec.rust,
    ))?;
    code.push_str(&tail);
    split_code.push_str(&tail);
    warnings.sort();
    warnings.dedup();
    Ok(RustOutput {
        code,
        warnings,
        split_code,
        table_files,
    })
}

/// How many modules hold the tables' items. Incremental compilation generates code per
/// module, and when a crate has more modules than codegen units (256 in the dev
/// profile), rustc merges the smallest modules' units, ranked by size: a table that
/// grows by one column changes how every unit is merged, and the whole crate's code is
/// generated again. So the tables are spread over a fixed number of modules, well below
/// that limit to leave room for the application's own, by a stable hash of their name:
/// a table always lives in the same module whatever else the schema holds, and a change
/// to it recompiles the code of its module alone (one table in 64).
pub const TABLE_MODULES: u64 = 64;

/// The tables' indexes in `plans`, grouped by the number of the module that holds their
/// items, in order.
fn table_modules(plans: &[TablePlan<'_>]) -> BTreeMap<u64, Vec<usize>> {
    let mut modules: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, plan) in plans.iter().enumerate() {
        let number = crate::hash::fnv1a(plan.file_name().as_bytes()) % TABLE_MODULES;
        modules.entry(number).or_default().push(i);
    }
    modules
}

/// `text` indented by one level, blank lines left empty.
fn indent(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str("    ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Formats generated items with prettyplease, their doc strings escaped first.
fn unparse(items: proc_macro2::TokenStream) -> Result<String> {
    let file: syn::File = syn::parse2(escape_docs(items))
        .map_err(|e| Error::Generate(format!("generated Rust does not parse (a bug): {e}")))?;
    Ok(prettyplease::unparse(&file))
}

/// What a thread needs to map and render one table again: the parts of its
/// [`TablePlan`] that can cross threads.
struct TableJob<'a> {
    audited: &'a crate::spec::AuditedTable,
    base: String,
    names: Vec<(String, String)>,
}

/// The formatted code of every table's items, in the order of `plans`.
///
/// Formatting is most of the cost of generation (a 20-column table is about 30 KB of
/// code), and tables are independent, so contiguous runs of tables are formatted on
/// scoped threads. Token streams cannot cross threads, so each thread maps its tables
/// again with its own type mapper; the mapping is a pure function of the table, and the
/// pieces are joined in order, so the output is the same bytes on any machine.
fn render_tables(spec: &AuditSpec, plans: &[TablePlan<'_>]) -> Result<Vec<String>> {
    let jobs: Vec<TableJob<'_>> = plans
        .iter()
        .map(|p| TableJob {
            audited: p.audited,
            base: p.base.clone(),
            names: p.names.clone(),
        })
        .collect();
    let render_run = |run: &[TableJob<'_>]| {
        let mut mapper = TypeMapper::new(
            &spec.schema,
            &spec.rust.type_overrides,
            spec.rust.time_crate,
        );
        let mut scratch = Vec::new();
        run.iter()
            .map(|job| {
                let mut plan =
                    TablePlan::new(job.audited, job.base.clone(), &mut mapper, &mut scratch)?;
                plan.names.clone_from(&job.names);
                unparse(plan.render(&spec.audit_schema, &spec.rust))
            })
            .collect::<Result<Vec<String>>>()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    // Small schemas are not worth a thread.
    if threads < 2 || jobs.len() < 16 {
        return render_run(&jobs);
    }
    let run_len = jobs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(run_len)
            .map(|run| scope.spawn(move || render_run(run)))
            .collect();
        let mut out = Vec::with_capacity(jobs.len());
        for handle in handles {
            match handle.join() {
                Ok(run) => out.extend(run?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(out)
    })
}

/// Rewrites every `#[doc = "…"]` in `tokens` so that SQL names quoted in docs cannot
/// break the file: control characters (a bare carriage return is an error in a doc
/// comment) and the Unicode bidirectional controls (which rustc refuses in comments) are
/// written as `\u{…}` escapes.
fn escape_docs(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    use proc_macro2::{Group, Literal, TokenTree};
    let is_doc = |group: &Group| {
        let inner: Vec<TokenTree> = group.stream().into_iter().collect();
        match inner.as_slice() {
            [
                TokenTree::Ident(name),
                TokenTree::Punct(eq),
                TokenTree::Literal(lit),
            ] if name == "doc" && eq.as_char() == '=' => {
                syn::parse_str::<syn::LitStr>(&lit.to_string())
                    .ok()
                    .map(|s| s.value())
            }
            _ => None,
        }
    };
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(group) => {
                let rebuilt = match is_doc(&group) {
                    Some(text) if text.chars().any(needs_doc_escape) => {
                        let escaped: String = text
                            .chars()
                            .map(|c| {
                                if needs_doc_escape(c) {
                                    c.escape_unicode().to_string()
                                } else {
                                    c.to_string()
                                }
                            })
                            .collect();
                        let lit = Literal::string(&escaped);
                        quote::quote!(doc = #lit)
                    }
                    _ => escape_docs(group.stream()),
                };
                let mut new = Group::new(group.delimiter(), rebuilt);
                new.set_span(group.span());
                TokenTree::Group(new)
            }
            other => other,
        })
        .collect()
}

/// Characters a doc comment must not hold literally: control characters and the
/// Unicode bidirectional formatting characters.
fn needs_doc_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The generated type names and where each came from, to report collisions.
#[derive(Default)]
struct Registry {
    names: BTreeMap<String, String>,
}

impl Registry {
    /// Claims `name` for `origin`; `table` is the table to suggest a `rust_name` for.
    fn claim(&mut self, name: &str, origin: &str, table: Option<&str>) -> Result<()> {
        match self.names.get(name) {
            None => {
                self.names.insert(name.to_owned(), origin.to_owned());
                Ok(())
            }
            Some(other) if other == origin => Ok(()),
            Some(other) => {
                let table = table.or(other.starts_with("table ").then_some(other.as_str()));
                let help = match table {
                    Some(t) => {
                        format!("; set `rust_name` for {t} in audit.toml to choose another name")
                    }
                    None => String::new(),
                };
                Err(Error::Generate(format!(
                    "the Rust name `{name}` is generated for both {other} and {origin}{help}"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_docs;

    #[test]
    fn docs_escape_what_would_not_compile() {
        let doc = "Column `a\rb\u{202e}c\nd` of `t`.";
        let out = escape_docs(quote::quote! { #[doc = #doc] pub struct S; }).to_string();
        assert!(out.contains(r"a\\u{d}b\\u{202e}c\\u{a}d"), "{out}");
        let file: syn::File = syn::parse_str(&out).unwrap();
        let printed = prettyplease::unparse(&file);
        assert!(!printed.contains(['\r', '\u{202e}']), "{printed}");
        // Other attributes and plain docs are left alone.
        let plain = quote::quote! { #[doc = " plain"] #[serde(rename = "a\rb")] pub struct S; };
        assert_eq!(escape_docs(plain.clone()).to_string(), plain.to_string());
    }
}
