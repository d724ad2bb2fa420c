//! The audit manifest (`audit.toml`): loading and validation against the schema.
//!
//! # Format
//!
//! ```toml
//! audit_schema = "audit"        # schema of the audit tables and functions; default "audit"
//! actor_id_type = "bigint"      # SQL type of transaction.actor_id; default "text"
//!
//! [schema]                      # exactly one of pg_dump, snapshot, ddl, live
//! pg_dump = "schema.sql"        # a `pg_dump --schema-only` file
//! # snapshot = "audit-schema.json"      # a JSON snapshot of the schema model
//! # ddl = ["migrations"]                # DDL files or directories, applied in order
//! # live = "DATABASE_URL"               # env var holding the URL of a live database
//! # write_snapshot = "audit-schema.json"  # with live only: keep a snapshot
//!
//! [migrations]
//! dir = "migrations"            # default "migrations"
//! format = "sqlx"               # sqlx (default) | refinery | diesel | plain
//!
//! [rust]
//! time = "chrono"               # chrono (default) | time
//! serde = false                 # derive Serialize/Deserialize for the generated types
//! partial_eq = false            # derive PartialEq (and Eq) for rows, patches and changes
//! [rust.types]                  # Rust types for SQL types (aliases like int8 accepted)
//! "public.money_bag" = "crate::MoneyBag"
//!
//! [activity]                    # partitioning of audit.activity by issued_at (pg_partman)
//! partition = "month"           # none (default) | day | week | month
//! retention = "13 months"       # optional: older partitions are dropped by maintenance
//! retention_keep_table = false  # detach expired partitions instead of dropping them
//!
//! [tables.article]              # `table` (schema public) or `schema.table`
//! exclude = ["search_vector", "updated_at"]
//! truncate = true               # record TRUNCATE as an activity; default false
//! rust_name = "Article"         # base name of the generated types
//! [tables.article.columns.price]
//! rust_type = "rust_decimal::Decimal"
//! rust_name = "amount"          # the field name; default derived from the column name
//! attributes = ["#[serde(default)]"]
//! ```
//!
//! Table keys follow SQL identifier rules: unquoted parts are folded to lower case as
//! PostgreSQL folds them (`Article` is `article`), double-quoted parts are literal
//! (`[tables.'"Odd Schema"."My Table"']`: TOML's own quotes are not SQL quotes, so the
//! SQL quotes go inside a TOML literal string). Every other name (columns,
//! `audit_schema`) is a single exact catalog name and is taken as written. Relative paths are relative to
//! the directory of the manifest.
//!
//! # Two steps
//!
//! [`Manifest::load`] / [`Manifest::parse`] check what is needed before a schema can be
//! read: TOML syntax, value types, the schema source and the migration settings, and
//! find every unknown key. [`Manifest::resolve`] checks everything else against the
//! schema model and reports all problems at once, unknown keys included. Every problem is a [`Diagnostic`] naming the manifest
//! file, line and column.

mod activity;
mod keys;
mod location;
pub(crate) mod names;
mod raw;
mod resolve;
mod rust_syntax;
mod settings;
mod sql_type;
mod suggest;

use crate::model::Schema;
use crate::spec::AuditSpec;
use crate::{Diagnostic, Error, Result};
use location::SourceFile;
use raw::RawManifest;
use serde::Deserialize;
use std::path::{Path, PathBuf};

pub use settings::{MigrationFormat, Migrations, SchemaSource};

/// The default `audit_schema`.
pub const DEFAULT_AUDIT_SCHEMA: &str = "audit";
/// The default `actor_id_type`.
pub const DEFAULT_ACTOR_ID_TYPE: &str = "text";
/// The default file name of the manifest.
pub const DEFAULT_FILE_NAME: &str = "audit.toml";

/// A parsed manifest whose schema source and migration settings are valid.
///
/// Validation against a schema happens in [`Manifest::resolve`].
#[derive(Debug, Clone)]
pub struct Manifest {
    file: SourceFile,
    raw: RawManifest,
    schema_source: SchemaSource,
    migrations: Migrations,
    /// Unknown keys, reported by [`Manifest::resolve`] together with every other mistake.
    unknown_keys: keys::UnknownKeys,
}

impl Manifest {
    /// Reads and parses the manifest at `path`.
    ///
    /// A file that cannot be read is an [`Error::Io`]; a file that is not UTF-8, not
    /// TOML, or not a manifest is an [`Error::Manifest`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        match String::from_utf8(bytes) {
            Ok(text) => Self::parse(path, &text),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]);
                let file = SourceFile::new(path, &prefix);
                Err(Error::Manifest(vec![file.at(
                    &(valid..valid),
                    format!("the manifest is not valid UTF-8 (byte {valid})"),
                )]))
            }
        }
    }

    /// Parses manifest `text`; `path` names it in diagnostics and is the base of
    /// relative paths.
    pub fn parse(path: impl AsRef<Path>, text: &str) -> Result<Self> {
        let file = SourceFile::new(path.as_ref(), text);
        let toml_error =
            |e: toml::de::Error| Error::Manifest(vec![settings::toml_error(&file, &e)]);
        let mut document = toml::de::DeTable::parse(text).map_err(toml_error)?;
        // Every unknown key is reported, not only the first one serde would stop at.
        let unknown_keys = keys::remove_unknown_keys(&file, document.get_mut());
        let raw =
            RawManifest::deserialize(toml::de::Deserializer::from(document)).map_err(toml_error)?;
        let base = base_dir(path.as_ref());
        let mut diagnostics = Vec::new();
        let schema_source =
            settings::schema_source(&file, &base, raw.schema.as_ref(), &mut diagnostics);
        let migrations = settings::migrations(&file, &base, &raw.migrations, &mut diagnostics);
        match (schema_source, diagnostics.is_empty()) {
            (Some(schema_source), true) => Ok(Self {
                file,
                raw,
                schema_source,
                migrations,
                unknown_keys,
            }),
            _ => {
                diagnostics.extend(unknown_keys.diagnostics);
                Err(manifest_error(diagnostics))
            }
        }
    }

    /// The unknown keys of the manifest, each with its position and, where there is
    /// one, the closest known key. [`Manifest::parse`] accepts a manifest whose only
    /// mistakes are unknown keys, so that [`Manifest::resolve`] can report them together
    /// with everything it finds against the schema; it fails when this is not empty.
    pub fn unknown_keys(&self) -> &[Diagnostic] {
        &self.unknown_keys.diagnostics
    }

    /// The manifest file, as given to [`Manifest::load`] or [`Manifest::parse`].
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Where the schema model comes from (paths absolute).
    pub fn schema_source(&self) -> &SchemaSource {
        &self.schema_source
    }

    /// Where audit migrations go and in which tool's layout.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// The schema of the audit tables and functions as written (not yet validated).
    pub fn audit_schema(&self) -> &str {
        self.raw
            .audit_schema
            .as_ref()
            .map_or(DEFAULT_AUDIT_SCHEMA, |s| s.get_ref())
    }

    /// Validates the manifest against `schema` and resolves it into an [`AuditSpec`].
    ///
    /// All problems are collected and returned together as [`Error::Manifest`], sorted
    /// by position in the file.
    /// Unknown keys found by [`Manifest::parse`] are part of the error.
    pub fn resolve(&self, schema: &Schema) -> Result<AuditSpec> {
        let unknown = &self.unknown_keys;
        match resolve::resolve(&self.file, &self.raw, schema, &unknown.split_table_keys) {
            Ok(spec) if unknown.diagnostics.is_empty() => Ok(spec),
            Ok(_) => Err(manifest_error(unknown.diagnostics.clone())),
            Err(mut diagnostics) => {
                diagnostics.extend(unknown.diagnostics.iter().cloned());
                Err(manifest_error(diagnostics))
            }
        }
    }
}

/// The error for a non-empty list of diagnostics, in file order.
fn manifest_error(mut diagnostics: Vec<Diagnostic>) -> Error {
    diagnostics.sort_by_key(|d| (d.line, d.column));
    Error::Manifest(diagnostics)
}

/// The absolute directory of the manifest. Not canonicalised: the manifest need not
/// exist on disk (tests parse text), and symlinked layouts should keep their paths.
fn base_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
        }
        // A bare file name: the manifest is in the current directory.
        _ => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}
