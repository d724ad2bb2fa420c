//! The audit specification: the manifest validated and resolved against the schema.
//!
//! This is what the SQL and Rust renderers consume. It is a plain value (no file paths,
//! no spans) so rendering stays a pure function that tests can call with a hand-built
//! spec.

use crate::model::{Schema, Table};
use serde::{Deserialize, Serialize};

/// Everything the renderers need to know: which tables are audited, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSpec {
    /// The schema holding `transaction`, `activity` and the audit functions (default `audit`).
    pub audit_schema: String,
    /// The SQL type of `transaction.actor_id`, as `format_type()` prints it (default `text`).
    pub actor_id_type: String,
    /// The audited tables, sorted by schema and name.
    pub tables: Vec<AuditedTable>,
    /// Options of the generated Rust code.
    pub rust: RustOptions,
    /// The whole schema model, for resolving user-defined types of audited columns.
    pub schema: Schema,
    /// Renames of tables and columns known since history was first written (from the
    /// DDL-files source or declared in the manifest), in the order they happened.
    pub renames: Vec<Rename>,
    /// How `activity` is partitioned and how long its history is kept (`[activity]`).
    pub activity: ActivityOptions,
}

impl AuditSpec {
    /// A spec for `schema` with the defaults of an empty manifest: audit schema `audit`,
    /// actor ids of type `text`, no audited table.
    pub fn new(schema: Schema) -> Self {
        Self {
            audit_schema: "audit".to_owned(),
            actor_id_type: "text".to_owned(),
            tables: Vec::new(),
            rust: RustOptions::default(),
            schema,
            renames: Vec::new(),
            activity: ActivityOptions::default(),
        }
    }
}

/// The time range of one partition of `activity` (`[activity] partition`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Partition {
    /// One unpartitioned table (the default).
    #[default]
    None,
    /// One partition per day (UTC).
    Day,
    /// One partition per ISO week (Monday to Monday, UTC).
    Week,
    /// One partition per calendar month (UTC).
    Month,
}

impl Partition {
    /// Every setting with its manifest spelling, in order.
    pub const ALL: [(&'static str, Partition); 4] = [
        ("none", Partition::None),
        ("day", Partition::Day),
        ("week", Partition::Week),
        ("month", Partition::Month),
    ];

    /// The manifest spelling (`none`, `day`, `week`, `month`).
    pub fn name(self) -> &'static str {
        match self {
            Partition::None => "none",
            Partition::Day => "day",
            Partition::Week => "week",
            Partition::Month => "month",
        }
    }

    /// pg_partman's name of the interval (`daily`, `weekly`, `monthly`), `None` when
    /// unpartitioned.
    pub fn partman_interval(self) -> Option<&'static str> {
        match self {
            Partition::None => None,
            Partition::Day => Some("daily"),
            Partition::Week => Some("weekly"),
            Partition::Month => Some("monthly"),
        }
    }

    /// The PostgreSQL `date_trunc` field of the interval, `None` when unpartitioned.
    pub fn date_trunc_field(self) -> Option<&'static str> {
        match self {
            Partition::None => None,
            Partition::Day => Some("day"),
            Partition::Week => Some("week"),
            Partition::Month => Some("month"),
        }
    }
}

/// The `[activity]` settings: partitioning of the activity table by `issued_at`, managed
/// by pg_partman, and retention of its history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityOptions {
    /// The partition interval (`none`: one plain table).
    pub partition: Partition,
    /// How long history is kept, as a PostgreSQL interval in normal form (`13 months`):
    /// partitions whose whole range is older are dropped (or detached) by maintenance.
    /// `None` keeps everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    /// Detach expired partitions (keeping them as tables, for archiving) instead of
    /// dropping them.
    #[serde(default)]
    pub retention_keep_table: bool,
}

impl ActivityOptions {
    /// Whether `activity` is partitioned.
    pub fn is_partitioned(&self) -> bool {
        self.partition != Partition::None
    }
}

/// A rename of a table or column, used to keep existing history under current names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rename {
    /// `ALTER TABLE … RENAME COLUMN from TO to` on the table `table` (its name at the time).
    Column {
        /// The table as it was named when the column was renamed.
        table: crate::model::QualifiedName,
        /// The old column name.
        from: String,
        /// The new column name.
        to: String,
    },
    /// `ALTER TABLE from RENAME TO …` (or `SET SCHEMA`).
    Table {
        /// The old qualified name.
        from: crate::model::QualifiedName,
        /// The new qualified name.
        to: crate::model::QualifiedName,
    },
}

/// One audited table with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedTable {
    /// The table as the schema model describes it (all columns, excluded ones included).
    pub table: Table,
    /// Columns whose values never reach the audit trail, in the table's column order.
    pub excluded: Vec<String>,
    /// Whether a `TRUNCATE` of the table is recorded as a `truncate` activity.
    pub record_truncate: bool,
    /// The Rust base name of the generated types, overriding the derived one
    /// (`rust_name = "Post"` gives `Post`, `PostPatch`, `PostChange`, …).
    pub rust_name: Option<String>,
    /// Per-column overrides of the generated Rust field, keyed by column name (sorted).
    pub columns: Vec<ColumnOverride>,
    /// What happens to history when columns stop being audited.
    pub history: HistoryOptions,
}

/// What schema evolution does to existing history of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryOptions {
    /// Remove the keys of dropped columns from existing history (default: keep them).
    pub purge_dropped: bool,
    /// Remove the keys of newly excluded columns from existing history (default: keep).
    pub purge_excluded: bool,
}

impl AuditedTable {
    /// Audits every column of `table`, with no options set.
    pub fn new(table: Table) -> Self {
        Self {
            table,
            excluded: Vec::new(),
            record_truncate: false,
            rust_name: None,
            columns: Vec::new(),
            history: HistoryOptions::default(),
        }
    }

    /// The audited columns (every column that is not excluded), in ordinal order.
    pub fn audited_columns(&self) -> impl Iterator<Item = &crate::model::Column> {
        self.table
            .columns
            .iter()
            .filter(|c| !self.excluded.contains(&c.name))
    }
}

/// An override of how one column appears in generated Rust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnOverride {
    /// The column name.
    pub column: String,
    /// A Rust type path to use instead of the mapped one (must implement serde's traits).
    pub rust_type: Option<String>,
    /// The Rust field name to use instead of the one derived from the column name
    /// (a snake_case identifier that is not a keyword); the JSON key stays the column
    /// name.
    pub rust_name: Option<String>,
    /// Extra attributes for the generated field, e.g. `#[serde(skip_serializing)]`.
    pub attributes: Vec<String>,
}

/// Which crate represents dates and times in generated code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeCrate {
    /// `chrono` types (`NaiveDate`, `DateTime<Utc>`, …).
    #[default]
    Chrono,
    /// `time` types (`Date`, `OffsetDateTime`, …).
    Time,
}

/// Options of the generated Rust code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RustOptions {
    /// The date/time crate.
    pub time_crate: TimeCrate,
    /// Rust types to use for SQL types, keyed by canonical SQL type name (sorted).
    pub type_overrides: Vec<(String, String)>,
    /// Whether the row, patch, change and key types (and `Change`) derive serde's
    /// `Serialize` and `Deserialize` (`[rust] serde = true`). Decoding does not need
    /// them; they cost compile time in every table.
    pub serde: bool,
    /// Whether the row, patch and change types (and `Change`) derive `PartialEq` (and
    /// `Eq` where every field allows) (`[rust] partial_eq = true`). Keys always do.
    /// Nothing in the runtime compares them; a table's comparisons cost about a tenth of
    /// its compile time.
    pub partial_eq: bool,
}
