//! The lock file (`audit.lock`): the committed state of what earlier runs emitted.
//!
//! Generation compares the wanted audit state with this record to decide which new
//! migration, if any, is needed. It is JSON with sorted keys so it diffs cleanly in review.

use crate::error::{Diagnostic, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The version of the lock file format this crate writes.
pub const LOCK_FORMAT: u32 = 1;

/// Everything earlier runs emitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// The lock file format version ([`LOCK_FORMAT`]).
    pub format: u32,
    /// The audit schema as emitted, once its migration exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_schema: Option<AuditSchemaState>,
    /// Audited tables as emitted, keyed by their qualified SQL name (`public.article`).
    #[serde(default)]
    pub tables: BTreeMap<String, TableState>,
    /// Every migration file emitted, in the order they were emitted.
    #[serde(default)]
    pub migrations: Vec<EmittedMigration>,
    /// Renames already taken into account. Renames are replayed from DDL files and the
    /// manifest on every run; this keeps each one from being applied to history twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_renames: Vec<String>,
}

impl Default for Lock {
    fn default() -> Self {
        Self {
            format: LOCK_FORMAT,
            audit_schema: None,
            tables: BTreeMap::new(),
            migrations: Vec::new(),
            applied_renames: Vec::new(),
        }
    }
}

/// The audit schema's emitted state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSchemaState {
    /// Schema name.
    pub name: String,
    /// SQL type of `transaction.actor_id`.
    pub actor_id_type: String,
    /// Fingerprint of the SQL that created it; a different rendering means an upgrade.
    pub sql_hash: String,
    /// Fingerprint of what the SQL was rendered from: equal inputs skip the rendering.
    #[serde(default)]
    pub input_hash: String,
    /// The partitioning and retention of `activity` as emitted; absent while it is one
    /// unpartitioned table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<crate::spec::ActivityOptions>,
}

/// One audited table's emitted state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableState {
    /// The table's schema.
    pub schema: String,
    /// The table's name.
    pub name: String,
    /// The audited columns (excluded ones left out) with their types, in ordinal order.
    pub columns: Vec<ColumnState>,
    /// The excluded columns.
    #[serde(default)]
    pub excluded: Vec<String>,
    /// The primary key columns, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Vec<String>>,
    /// Whether TRUNCATE is recorded.
    #[serde(default)]
    pub record_truncate: bool,
    /// Fingerprint of the trigger SQL; a different rendering means an upgrade.
    pub sql_hash: String,
    /// Fingerprint of what the SQL was rendered from: equal inputs skip the rendering.
    #[serde(default)]
    pub input_hash: String,
}

/// One audited column's emitted state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnState {
    /// Column name.
    pub name: String,
    /// Column type as `format_type()` prints it.
    pub type_name: String,
}

/// A migration file that was emitted (and must never change again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmittedMigration {
    /// The version part of the file name.
    pub version: String,
    /// The descriptive part of the file name.
    pub name: String,
    /// The path relative to the migrations directory.
    pub path: String,
}

impl Lock {
    /// Reads the lock at `path`; a missing file is an empty lock (nothing emitted yet).
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Parses lock text; `path` is used in error messages.
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let lock: Self = serde_json::from_str(text).map_err(|e| {
            Error::Schema(Box::new(Diagnostic::new(
                path,
                e.line(),
                e.column(),
                format!("invalid lock file: {e}"),
            )))
        })?;
        if lock.format != LOCK_FORMAT {
            return Err(Error::Schema(Box::new(Diagnostic::new(
                path,
                1,
                1,
                format!(
                    "lock file format {} is not supported (this version writes {LOCK_FORMAT})",
                    lock.format
                ),
            ))));
        }
        Ok(lock)
    }

    /// The lock as JSON text: pretty, sorted keys, trailing newline.
    pub fn to_json(&self) -> String {
        let value = serde_json::to_value(self).expect("the lock always serialises");
        let mut text =
            serde_json::to_string_pretty(&value).expect("a JSON value always serialises");
        text.push('\n');
        text
    }
}

/// A stable 64-bit fingerprint (FNV-1a) of generated SQL, hex encoded. Not a security
/// measure: it only tells whether the SQL for an object would differ from what was emitted.
pub fn fingerprint(sql: &str) -> String {
    format!("{:016x}", crate::hash::fnv1a(sql.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_sensitive() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
        assert_ne!(fingerprint("SELECT 1"), fingerprint("SELECT 2"));
    }

    #[test]
    fn lock_round_trips() {
        let mut lock = Lock::default();
        lock.migrations.push(EmittedMigration {
            version: "6".into(),
            name: "audit_schema".into(),
            path: "6_audit_schema.sql".into(),
        });
        let text = lock.to_json();
        assert_eq!(Lock::parse(Path::new("audit.lock"), &text).unwrap(), lock);
    }

    #[test]
    fn unknown_format_is_refused() {
        let err = Lock::parse(Path::new("audit.lock"), r#"{"format": 9}"#).unwrap_err();
        assert!(err.to_string().contains("format 9"), "{err}");
    }
}
