//! Migration file names per migration tool, and the next free version in a directory.
//!
//! Each tool has its own file-name rule and its own ordering. New audit migrations must
//! sort after every migration already in the directory, so the audit migration for a table
//! runs after the user's migration that created it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The migration tool whose file layout is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MigrationFormat {
    /// sqlx: `<version>_<name>.sql`, or `.up.sql`/`.down.sql` pairs when the directory
    /// already uses reversible migrations. Versions are ordered as integers.
    #[default]
    Sqlx,
    /// refinery: `V<version>__<name>.sql`. Versions are ordered as integers.
    Refinery,
    /// diesel: `<version>_<name>/up.sql` and `down.sql`. Versions are ordered as strings.
    Diesel,
    /// Plain SQL files for psql: `<version>_<name>.sql`, zero-padded, each wrapped in a
    /// transaction. File names sort in apply order.
    Plain,
}

impl MigrationFormat {
    /// Every format with its manifest spelling.
    pub const ALL: [(&'static str, Self); 4] = [
        ("sqlx", Self::Sqlx),
        ("refinery", Self::Refinery),
        ("diesel", Self::Diesel),
        ("plain", Self::Plain),
    ];

    /// The manifest spelling (`sqlx`, `refinery`, `diesel`, `plain`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("sqlx", |(n, _)| n)
    }
}

impl fmt::Display for MigrationFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version found in (or made for) a migrations directory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    /// The version text as it stands in the file name.
    text: String,
    /// Its digits as a number, for integer-ordered tools and for incrementing.
    number: u128,
}

impl Version {
    fn parse(text: &str) -> Option<Self> {
        let digits: String = text.chars().filter(|c| *c != '-').collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            text: text.to_owned(),
            number: digits.parse().ok()?,
        })
    }

    /// The version one past this one, keeping its shape: the same width (zero padding)
    /// and the same dash positions (diesel's `2024-01-31-120000`).
    fn successor(&self) -> Self {
        let number = self.number + 1;
        let width = self.text.chars().filter(|c| *c != '-').count();
        let digits = format!("{number:0width$}");
        // Re-insert dashes where they stood, counted as "digits to their right", so a
        // carry that adds a digit only widens the leftmost group.
        let mut dashes = Vec::new();
        let mut seen = 0;
        for c in self.text.chars().rev() {
            if c == '-' {
                dashes.push(seen);
            } else {
                seen += 1;
            }
        }
        let mut text = String::new();
        for (i, c) in digits.chars().rev().enumerate() {
            if dashes.contains(&i) {
                text.push('-');
            }
            text.push(c);
        }
        Self {
            text: text.chars().rev().collect(),
            number,
        }
    }
}

/// What a migrations directory already holds, as far as naming is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryLayout {
    format: MigrationFormat,
    latest: Option<Version>,
    reversible: bool,
}

/// The version part and file names of one migration to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationName {
    /// The version text.
    pub version: String,
    /// The file holding the forward migration, relative to the migrations directory.
    pub up: String,
    /// The file holding the reverse migration, when the format has one.
    pub down: Option<String>,
}

impl DirectoryLayout {
    /// Reads the layout from the names of the directory's entries (files and
    /// sub-directories, not recursive).
    pub fn scan<S: AsRef<str>>(format: MigrationFormat, entries: &[S]) -> Self {
        let mut latest: Option<Version> = None;
        let mut reversible = false;
        for entry in entries {
            let entry = entry.as_ref();
            let Some(version) = version_of(format, entry) else {
                continue;
            };
            if format == MigrationFormat::Sqlx && entry.ends_with(".up.sql") {
                reversible = true;
            }
            let newer = match &latest {
                None => true,
                Some(current) => match format {
                    MigrationFormat::Diesel => version.text > current.text,
                    _ => version.number > current.number,
                },
            };
            if newer {
                latest = Some(version);
            }
        }
        Self {
            format,
            latest,
            reversible,
        }
    }

    /// Whether the directory uses reversible (up/down) migrations.
    pub fn reversible(&self) -> bool {
        self.reversible || self.format == MigrationFormat::Diesel
    }

    /// Allocates the next version for a migration called `name` and returns its file
    /// names. Successive calls give successive versions.
    pub fn next(&mut self, name: &str) -> MigrationName {
        let version = match &self.latest {
            Some(latest) => latest.successor(),
            None => Version {
                text: match self.format {
                    MigrationFormat::Plain | MigrationFormat::Diesel => "0001".to_owned(),
                    _ => "1".to_owned(),
                },
                number: 1,
            },
        };
        self.latest = Some(version.clone());
        let v = &version.text;
        let (up, down) = match self.format {
            MigrationFormat::Sqlx if self.reversible => (
                format!("{v}_{name}.up.sql"),
                Some(format!("{v}_{name}.down.sql")),
            ),
            MigrationFormat::Sqlx | MigrationFormat::Plain => (format!("{v}_{name}.sql"), None),
            MigrationFormat::Refinery => (format!("V{v}__{name}.sql"), None),
            MigrationFormat::Diesel => (
                format!("{v}_{name}/up.sql"),
                Some(format!("{v}_{name}/down.sql")),
            ),
        };
        MigrationName {
            version: version.text,
            up,
            down,
        }
    }
}

/// The version of a directory entry, if it is a migration of `format`.
fn version_of(format: MigrationFormat, entry: &str) -> Option<Version> {
    match format {
        MigrationFormat::Sqlx | MigrationFormat::Plain => {
            let stem = entry.strip_suffix(".sql")?;
            let (version, name) = stem.split_once('_')?;
            (!name.is_empty() && !version.contains('-'))
                .then(|| Version::parse(version))
                .flatten()
        }
        MigrationFormat::Refinery => {
            let rest = entry
                .strip_prefix('V')
                .or_else(|| entry.strip_prefix('U'))?;
            let (version, name) = rest.split_once("__")?;
            (name.ends_with(".sql") || name.ends_with(".rs"))
                .then(|| Version::parse(version))
                .flatten()
        }
        MigrationFormat::Diesel => {
            let (version, name) = entry.split_once('_')?;
            (!name.is_empty() && !entry.contains('.'))
                .then(|| Version::parse(version))
                .flatten()
        }
    }
}

/// A file-name-safe form of `text`: ASCII lower-case letters, digits and single
/// underscores (every tool accepts that as a migration name).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlx_sequential_versions_follow_the_users() {
        let entries = ["1_create.sql", "2_more.sql", "5_last.sql", "README.md"];
        let mut layout = DirectoryLayout::scan(MigrationFormat::Sqlx, &entries);
        assert_eq!(layout.next("audit_schema").up, "6_audit_schema.sql");
        assert_eq!(layout.next("audit_article").up, "7_audit_article.sql");
    }

    #[test]
    fn sqlx_timestamped_and_reversible() {
        let entries = [
            "20240101120000_create.up.sql",
            "20240101120000_create.down.sql",
            "20240301090000_more.up.sql",
        ];
        let mut layout = DirectoryLayout::scan(MigrationFormat::Sqlx, &entries);
        let name = layout.next("audit_schema");
        assert_eq!(name.up, "20240301090001_audit_schema.up.sql");
        assert_eq!(
            name.down.as_deref(),
            Some("20240301090001_audit_schema.down.sql")
        );
    }

    #[test]
    fn refinery_and_plain_and_diesel() {
        let mut refinery =
            DirectoryLayout::scan(MigrationFormat::Refinery, &["V1__init.sql", "V3__x.rs"]);
        assert_eq!(refinery.next("audit").up, "V4__audit.sql");
        let mut plain = DirectoryLayout::scan(MigrationFormat::Plain, &["0009_init.sql"]);
        assert_eq!(plain.next("audit").up, "0010_audit.sql");
        let mut diesel = DirectoryLayout::scan(
            MigrationFormat::Diesel,
            &[
                "00000000000000_diesel_initial_setup",
                "2024-01-31-235959_create_posts",
            ],
        );
        let name = diesel.next("audit");
        assert_eq!(name.up, "2024-01-31-235960_audit/up.sql");
        assert!(name.version.as_str() > "2024-01-31-235959");
    }

    #[test]
    fn empty_directory_starts_at_one() {
        let mut layout = DirectoryLayout::scan::<&str>(MigrationFormat::Sqlx, &[]);
        assert_eq!(layout.next("audit_schema").up, "1_audit_schema.sql");
        let mut plain = DirectoryLayout::scan::<&str>(MigrationFormat::Plain, &[]);
        assert_eq!(plain.next("audit_schema").up, "0001_audit_schema.sql");
    }

    #[test]
    fn slugs_are_safe() {
        assert_eq!(slug("public.Order Items"), "public_order_items");
        assert_eq!(slug("\"café\""), "caf");
        assert_eq!(slug("!!!"), "x");
    }
}
