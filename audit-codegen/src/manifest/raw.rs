//! The manifest exactly as written: serde types with the span of every value, so that
//! validation can point at the offending line and column.
//!
//! Enumerated settings (`format`, `time`) are plain strings here and are checked by hand:
//! serde would stop at the first bad value, and a hand check can suggest the closest
//! valid one.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The whole `audit.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub audit_schema: Option<Spanned<String>>,
    pub actor_id_type: Option<Spanned<String>>,
    pub schema: Option<Spanned<RawSchemaSource>>,
    #[serde(default)]
    pub migrations: RawMigrations,
    #[serde(default)]
    pub rust: RawRust,
    #[serde(default)]
    pub activity: RawActivity,
    #[serde(default)]
    pub tables: BTreeMap<Spanned<String>, RawTable>,
}

/// `[activity]`: partitioning and retention of the activity table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawActivity {
    /// `none`, `day`, `week` or `month`; checked by hand for a suggestion.
    pub partition: Option<Spanned<String>>,
    /// An interval such as `13 months`.
    pub retention: Option<Spanned<String>>,
    pub retention_keep_table: Option<Spanned<bool>>,
}

/// `[schema]`: where the schema model comes from.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchemaSource {
    pub pg_dump: Option<Spanned<String>>,
    pub snapshot: Option<Spanned<String>>,
    pub ddl: Option<Spanned<Vec<Spanned<String>>>>,
    pub live: Option<Spanned<String>>,
    pub write_snapshot: Option<Spanned<String>>,
}

/// `[migrations]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMigrations {
    pub dir: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
}

/// `[rust]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRust {
    pub time: Option<Spanned<String>>,
    /// Derive serde's traits for the generated types.
    #[serde(default)]
    pub serde: bool,
    /// Derive `PartialEq` (and `Eq`) for the rows, patches and changes.
    #[serde(default)]
    pub partial_eq: bool,
    #[serde(default)]
    pub types: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `[tables.<key>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTable {
    #[serde(default)]
    pub exclude: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub truncate: bool,
    pub rust_name: Option<Spanned<String>>,
    /// The table's previous name, when it was renamed since history was written.
    pub renamed_from: Option<Spanned<String>>,
    /// Remove the keys of dropped columns from existing history.
    #[serde(default)]
    pub purge_dropped: bool,
    /// Remove the keys of newly excluded columns from existing history.
    #[serde(default)]
    pub purge_excluded: bool,
    #[serde(default)]
    pub columns: BTreeMap<Spanned<String>, RawColumn>,
}

/// `[tables.<key>.columns.<column>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawColumn {
    pub rust_type: Option<Spanned<String>>,
    /// The Rust field name, instead of the one derived from the column name.
    pub rust_name: Option<Spanned<String>>,
    #[serde(default)]
    pub attributes: Vec<Spanned<String>>,
    /// The column's previous name, when it was renamed since history was written.
    pub renamed_from: Option<Spanned<String>>,
}
