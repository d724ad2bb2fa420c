//! What a module of tables imports from the file that includes the generated code.
//!
//! The tables' items live in private modules (see `TABLE_MODULES`). A glob import of the
//! parent (`use super::*`) would make every name of the include site visible, as the
//! types a user writes in `audit.toml` expect, but it costs the compiler in the product
//! of the numbers of modules and tables: every module imports the re-exports of every
//! table (about 1.7 s of name resolution for 500 modules of one table). So a module
//! imports by name the generated enums and composites its tables' fields use, and falls
//! back on the glob only when a field type names a path relative to the include site (a
//! user's override such as `MoneyBag` or `money::Bag`) or a field carries user
//! attributes, whose paths cannot be told apart from a crate's.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use std::collections::BTreeSet;

/// Names every module sees without an import: primitive types, the prelude's types and
/// the keywords that can appear inside a type.
const ALWAYS_VISIBLE: &[&str] = &[
    "bool", "char", "str", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64",
    "u128", "usize", "f32", "f64", "String", "Vec", "Option", "Box", "crate", "dyn", "mut",
    "const",
];

/// What a table's module imports from its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imports {
    /// These names (generated user types), each by name; none for an empty set.
    Names(BTreeSet<String>),
    /// Everything (`use super::*`): a field needs a name of the include site.
    Glob,
}

impl Imports {
    /// What a module holding the items of two tables imports: everything when either
    /// needs the glob, else both sets of names.
    pub fn union(self, other: Imports) -> Imports {
        match (self, other) {
            (Imports::Names(mut a), Imports::Names(b)) => {
                a.extend(b);
                Imports::Names(a)
            }
            _ => Imports::Glob,
        }
    }

    /// The `use` items of a module that is a child of the include site.
    pub fn to_tokens(&self) -> TokenStream {
        match self {
            Imports::Glob => quote::quote! {
                #[allow(unused_imports)]
                use super::*;
            },
            Imports::Names(names) if names.is_empty() => TokenStream::new(),
            Imports::Names(names) => {
                let names = names.iter().map(|n| quote::format_ident!("{}", n));
                quote::quote!(use super::{#(#names),*};)
            }
        }
    }
}

/// The imports the field `types` need, where `user_types` are the names of the enums
/// and composites generated next to the tables.
pub fn needed<'a>(
    types: impl IntoIterator<Item = &'a TokenStream>,
    user_types: &BTreeSet<String>,
) -> Imports {
    let mut names = BTreeSet::new();
    for ty in types {
        if !collect(ty.clone(), user_types, &mut names) {
            return Imports::Glob;
        }
    }
    Imports::Names(names)
}

/// Adds to `names` the user types that start a path in `tokens`; `false` when a path
/// starts with any other name a module would not see without the glob.
fn collect(
    tokens: TokenStream,
    user_types: &BTreeSet<String>,
    names: &mut BTreeSet<String>,
) -> bool {
    // The two tokens before the current one: `::` is two joint colons, and a lifetime
    // is a quote followed by its name.
    let mut before: [Option<(char, Spacing)>; 2] = [None, None];
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                if !collect(group.stream(), user_types, names) {
                    return false;
                }
                before = [None, None];
            }
            TokenTree::Punct(punct) => {
                before = [before[1], Some((punct.as_char(), punct.spacing()))];
            }
            TokenTree::Ident(ident) => {
                let after_path_separator = matches!(
                    before,
                    [Some((':', Spacing::Joint)), Some((':', Spacing::Alone))]
                );
                let lifetime = matches!(before[1], Some(('\'', _)));
                if !after_path_separator && !lifetime {
                    let name = ident.to_string();
                    if user_types.contains(&name) {
                        names.insert(name);
                    } else if !ALWAYS_VISIBLE.contains(&name.as_str()) {
                        return false;
                    }
                }
                before = [None, None];
            }
            TokenTree::Literal(_) => before = [None, None],
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn imports(types: &[TokenStream]) -> Imports {
        let user: BTreeSet<String> = ["Mood", "Address"].iter().map(|s| s.to_string()).collect();
        needed(types, &user)
    }

    fn names(list: &[&str]) -> Imports {
        Imports::Names(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn absolute_paths_and_prelude_types_need_nothing() {
        assert_eq!(
            imports(&[
                quote!(i64),
                quote!(Option<String>),
                quote!(::audit_runtime::types::Array<::audit_runtime::types::Timestamptz>),
                quote!(crate::MoneyBag),
                quote!(Vec<u8>),
            ]),
            names(&[])
        );
    }

    #[test]
    fn generated_user_types_are_imported_by_name() {
        assert_eq!(
            imports(&[
                quote!(Mood),
                quote!(::audit_runtime::types::Array<Address>),
                quote!(Mood)
            ]),
            names(&["Address", "Mood"])
        );
    }

    #[test]
    fn paths_relative_to_the_include_site_need_the_glob() {
        assert_eq!(imports(&[quote!(MoneyBag)]), Imports::Glob);
        assert_eq!(imports(&[quote!(rust_decimal::Decimal)]), Imports::Glob);
        assert_eq!(imports(&[quote!(Option<money::Bag>)]), Imports::Glob);
        assert_eq!(imports(&[quote!(self::Bag)]), Imports::Glob);
        assert_eq!(imports(&[quote!(super::Bag)]), Imports::Glob);
    }

    #[test]
    fn a_union_is_the_glob_when_either_side_is() {
        assert_eq!(
            names(&["Mood"]).union(names(&["Address"])),
            names(&["Address", "Mood"])
        );
        assert_eq!(names(&["Mood"]).union(Imports::Glob), Imports::Glob);
        assert_eq!(Imports::Glob.union(names(&[])), Imports::Glob);
        assert!(names(&[]).to_tokens().is_empty());
        assert_eq!(
            names(&["Mood", "Address"]).to_tokens().to_string(),
            quote!(
                use super::{Address, Mood};
            )
            .to_string()
        );
    }

    #[test]
    fn lifetimes_are_not_paths() {
        assert_eq!(imports(&[quote!(&'static str)]), names(&[]));
    }
}
