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
//! [rust.types]                  # Rust types for SQL types (aliases like int8 accepted)
//! "public.money_bag" = "crate::MoneyBag"
//!
//! [tables.article]              # `table` (schema public) or `schema.table`
//! exclude = ["search_vector", "updated_at"]
//! truncate = true               # record TRUNCATE as an activity; default false
//! rust_name = "Article"         # base name of the generated types
//! [tables.article.columns.price]
//! rust_type = "rust_decimal::Decimal"
//! attributes = ["#[serde(default)]"]
//! ```
//!
//! Table keys follow SQL identifier rules: unquoted parts are folded to lower case as
//! PostgreSQL folds them (`Article` is `article`), double-quoted parts are literal
//! (`[tables.'"Odd Schema"."My Table"']`). Every other name (columns, `audit_schema`) is
//! a single exact catalog name and is taken as written. Relative paths are relative to
//! the directory of the manifest.
//!
//! # Two steps
//!
//! [`Manifest::load`] / [`Manifest::parse`] check what is needed before a schema can be
//! read: TOML syntax, unknown keys, value types, the schema source and the migration
//! settings. [`Manifest::resolve`] checks everything else against the schema model and
//! reports all problems at once. Every problem is a [`Diagnostic`] naming the manifest
//! file, line and column.

mod location;
mod names;
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
        let raw: RawManifest = toml::from_str(text)
            .map_err(|e| Error::Manifest(vec![settings::toml_error(&file, &e)]))?;
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
            }),
            _ => Err(manifest_error(diagnostics)),
        }
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
    pub fn resolve(&self, schema: &Schema) -> Result<AuditSpec> {
        resolve::resolve(&self.file, &self.raw, schema).map_err(manifest_error)
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
