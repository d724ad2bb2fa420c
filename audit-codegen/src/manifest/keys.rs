//! Unknown keys, every one of them. serde's `deny_unknown_fields` stops at the first
//! unknown key, so the parsed document is walked first: each key the manifest does not
//! know is reported (with its line, column and the closest known key) and removed, and
//! only then is the document deserialized.

use super::location::SourceFile;
use super::raw::{
    RawActivity, RawColumn, RawManifest, RawMigrations, RawRust, RawSchemaSource, RawTable,
};
use super::suggest::closest;
use crate::Diagnostic;
use serde::Deserialize;
use serde::de::{self, Visitor};
use std::collections::BTreeSet;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// What the walk found.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnknownKeys {
    /// One diagnostic per unknown key.
    pub diagnostics: Vec<Diagnostic>,
    /// Keys of `[tables.<key>]` entries that hold a table-valued unknown key, the usual
    /// sign of `[tables.blog.post]` written for table `blog.post`: their diagnostic says
    /// so, and the entry is not reported again as an unknown table.
    pub split_table_keys: BTreeSet<String>,
}

/// Reports and removes every key of `root` that the manifest does not define.
pub(crate) fn remove_unknown_keys(file: &SourceFile, root: &mut DeTable<'_>) -> UnknownKeys {
    let mut found = UnknownKeys::default();
    let mut walk = Walk {
        file,
        found: &mut found,
    };
    walk.check(root, fields_of::<RawManifest>(), Level::Other);
    if let Some(DeValue::Table(schema)) = root.get_mut("schema").map(Spanned::get_mut) {
        walk.check(schema, fields_of::<RawSchemaSource>(), Level::Other);
    }
    if let Some(DeValue::Table(migrations)) = root.get_mut("migrations").map(Spanned::get_mut) {
        walk.check(migrations, fields_of::<RawMigrations>(), Level::Other);
    }
    if let Some(DeValue::Table(activity)) = root.get_mut("activity").map(Spanned::get_mut) {
        walk.check(activity, fields_of::<RawActivity>(), Level::Other);
    }
    if let Some(DeValue::Table(rust)) = root.get_mut("rust").map(Spanned::get_mut) {
        // `[rust.types]` maps any SQL type name: no key of it is unknown here.
        walk.check(rust, fields_of::<RawRust>(), Level::Other);
    }
    if let Some(DeValue::Table(tables)) = root.get_mut("tables").map(Spanned::get_mut) {
        for (key, table) in tables.iter_mut() {
            let DeValue::Table(table) = table.get_mut() else {
                continue;
            };
            walk.check(table, fields_of::<RawTable>(), Level::Table(key.get_ref()));
            if let Some(DeValue::Table(columns)) = table.get_mut("columns").map(Spanned::get_mut) {
                for (_, column) in columns.iter_mut() {
                    if let DeValue::Table(column) = column.get_mut() {
                        walk.check(column, fields_of::<RawColumn>(), Level::Other);
                    }
                }
            }
        }
    }
    found
}

/// Where a checked table sits, for the hint about table names outside `public`.
#[derive(Clone, Copy)]
enum Level<'k> {
    /// `[tables.<key>]`.
    Table(&'k str),
    /// Any other table.
    Other,
}

struct Walk<'a> {
    file: &'a SourceFile,
    found: &'a mut UnknownKeys,
}

impl Walk<'_> {
    fn check(&mut self, table: &mut DeTable<'_>, known: &'static [&'static str], level: Level<'_>) {
        let mut unknown = Vec::new();
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                continue;
            }
            let is_table = matches!(value.get_ref(), DeValue::Table(_));
            unknown.push(name.to_owned());
            let message = format!("unknown field `{name}`, {}", expected(known));
            let mut help =
                closest(name, known.iter().copied()).map(|c| format!("did you mean `{c}`?"));
            if help.is_none()
                && is_table
                && let Level::Table(parent) = level
            {
                self.found.split_table_keys.insert(parent.to_owned());
                help = Some(split_table_hint(parent, name));
            }
            let mut diagnostic = self.file.at(&key.span(), message);
            diagnostic.help = help;
            self.found.diagnostics.push(diagnostic);
        }
        for key in unknown {
            table.remove(key.as_str());
        }
    }
}

/// `[tables.blog.post]` is TOML for table `blog` with a key `post`: the hint names the
/// key that was meant. TOML quotes (`[tables."Sales"."Order Lines"]`) do not reach the
/// manifest either, so names that need SQL quoting are quoted in the hint.
fn split_table_hint(parent: &str, name: &str) -> String {
    let bare = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let key = if bare(parent) && bare(name) {
        // Written as SQL would: folded to lower case like the rest of the manifest.
        format!("\"{parent}.{name}\"")
    } else {
        let table = crate::model::QualifiedName::new(parent, name);
        super::names::toml_key(&super::names::table_key(&table))
    };
    format!("a table outside schema public needs a quoted key: [tables.{key}]")
}

/// serde's wording of the accepted keys, so messages read as before.
fn expected(known: &[&str]) -> String {
    match known {
        [] => "there are no fields".to_owned(),
        [one] => format!("expected `{one}`"),
        [a, b] => format!("expected `{a}` or `{b}`"),
        many => format!(
            "expected one of {}",
            many.iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The field names serde accepts for struct `T`: the one list of known keys, so a field
/// added to a raw struct is known here without further edits.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The capturing deserializer always fails once it has seen the field list.
    let _ = T::deserialize(FieldCapture(&mut fields));
    fields
}

/// A deserializer that records the field list of the struct asking for it.
struct FieldCapture<'f>(&'f mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldCapture<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("only the field list is wanted"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("only the field list is wanted"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
        identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lists_come_from_the_raw_structs() {
        assert!(fields_of::<RawTable>().contains(&"exclude"));
        assert!(fields_of::<RawTable>().contains(&"columns"));
        assert!(fields_of::<RawColumn>().contains(&"rust_name"));
        assert!(fields_of::<RawManifest>().contains(&"tables"));
        assert_eq!(fields_of::<RawMigrations>(), ["dir", "format"]);
    }

    #[test]
    fn wording_matches_serde() {
        assert_eq!(expected(&["a"]), "expected `a`");
        assert_eq!(expected(&["a", "b"]), "expected `a` or `b`");
        assert_eq!(expected(&["a", "b", "c"]), "expected one of `a`, `b`, `c`");
    }
}
