//! The schema model: the tables and user-defined types an audit is generated from.
//!
//! Every schema source (live database, JSON snapshot, `pg_dump` file, DDL files) produces
//! this same model, so the rest of the generator never knows where the schema came from.
//! Everything in it is sorted ([`Schema::normalize`]) so two sources describing the same
//! database compare equal and serialise to the same bytes.
//!
//! Type names are kept exactly as PostgreSQL's `format_type()` prints them with an empty
//! `search_path`: built-in types unqualified (`integer`, `character varying(20)`,
//! `timestamp with time zone`), user-defined types schema-qualified and quoted where
//! PostgreSQL would quote them (`public.mood`, `"Sales"."Money Bag"`), arrays with one `[]`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A schema-qualified name of a table or type, as stored in the catalog (unquoted).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualifiedName {
    /// The schema (namespace) name.
    pub schema: String,
    /// The object name within the schema.
    pub name: String,
}

impl QualifiedName {
    /// A qualified name from its two parts.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// The name as PostgreSQL's `quote_qualified_identifier` prints it (`public.mood`,
    /// `"Sales"."Order"`).
    pub fn to_sql(&self) -> String {
        format!(
            "{}.{}",
            crate::ident::quote_ident(&self.schema),
            crate::ident::quote_ident(&self.name)
        )
    }
}

impl fmt::Display for QualifiedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sql())
    }
}

/// A whole database schema: the tables and the user-defined types they may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Ordinary and partitioned tables, sorted by schema and name.
    pub tables: Vec<Table>,
    /// Enum types, sorted by schema and name.
    #[serde(default)]
    pub enums: Vec<EnumType>,
    /// Domains, sorted by schema and name.
    #[serde(default)]
    pub domains: Vec<DomainType>,
    /// Composite types (`CREATE TYPE … AS (…)`), sorted by schema and name.
    #[serde(default)]
    pub composites: Vec<CompositeType>,
}

/// What kind of relation a table is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// A plain heap table (`relkind = 'r'`).
    #[default]
    Ordinary,
    /// A partitioned table (`relkind = 'p'`); its rows live in its partitions.
    Partitioned,
}

/// The most columns a PostgreSQL table has (`MaxHeapAttributeNumber`). A model with more
/// (a DDL file PostgreSQL itself would refuse) is an error for the renderers.
pub const MAX_COLUMNS: usize = 1600;

/// One table and its columns in ordinal order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The schema the table lives in.
    pub schema: String,
    /// The table name (unquoted).
    pub name: String,
    /// Ordinary or partitioned.
    #[serde(default)]
    pub kind: TableKind,
    /// The parent table when this table is a partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<QualifiedName>,
    /// The columns in ordinal order; dropped columns are absent.
    pub columns: Vec<Column>,
    /// The primary key's column names in key order, if the table has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Vec<String>>,
}

impl Table {
    /// The table's qualified name.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// The column named `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column named `name`, mutably.
    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// Fails naming the table when it has more columns than PostgreSQL allows
    /// ([`MAX_COLUMNS`]).
    pub fn check_column_count(&self) -> crate::Result<()> {
        if self.columns.len() > MAX_COLUMNS {
            return Err(crate::Error::Generate(format!(
                "{} has {} columns; a PostgreSQL table has at most {MAX_COLUMNS}",
                self.qualified_name(),
                self.columns.len()
            )));
        }
        Ok(())
    }
}

/// How an identity column gets its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// The column name (unquoted).
    pub name: String,
    /// The type as `format_type()` prints it (see the module docs).
    pub type_name: String,
    /// For an array column, the element type in the same form; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_type: Option<String>,
    /// Whether the column accepts NULL (`NOT NULL` and primary keys make it `false`).
    pub nullable: bool,
    /// The default expression in normalised form ([`crate::sqltext::normalize_expr`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Identity column kind, if the column is an identity column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// The generation expression of a `GENERATED ALWAYS AS (…) STORED` column, normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
}

impl Column {
    /// A nullable column of `type_name` (an array's element type derived from its `[]`),
    /// without default, identity or generation expression.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        let type_name = type_name.into();
        Self {
            name: name.into(),
            element_type: type_name.strip_suffix("[]").map(str::to_owned),
            type_name,
            nullable: true,
            default: None,
            identity: None,
            generated: None,
        }
    }
}

/// An enum type and its labels in sort order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumType {
    /// The schema the type lives in.
    pub schema: String,
    /// The type name (unquoted).
    pub name: String,
    /// The labels in their declared order (`enumsortorder`).
    pub labels: Vec<String>,
}

/// A domain over a base type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainType {
    /// The schema the domain lives in.
    pub schema: String,
    /// The domain name (unquoted).
    pub name: String,
    /// The base type, as `format_type()` prints it.
    pub base_type: String,
    /// Whether the domain accepts NULL (`false` for `NOT NULL` domains).
    pub nullable: bool,
    /// The domain's default expression, normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A composite type (`CREATE TYPE name AS (…)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeType {
    /// The schema the type lives in.
    pub schema: String,
    /// The type name (unquoted).
    pub name: String,
    /// The attributes in ordinal order.
    pub attributes: Vec<Attribute>,
}

/// One attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// The attribute name (unquoted).
    pub name: String,
    /// The attribute type, as `format_type()` prints it.
    pub type_name: String,
}

/// What a type name refers to, as resolved against a [`Schema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeRef<'a> {
    /// A built-in (or extension) type that is not a user-defined enum, domain or composite.
    Builtin(&'a str),
    /// An array of the given element type.
    Array(&'a str),
    /// A user-defined enum.
    Enum(&'a EnumType),
    /// A user-defined domain.
    Domain(&'a DomainType),
    /// A user-defined composite.
    Composite(&'a CompositeType),
}

impl Schema {
    /// Sorts tables and types by schema and name so equal schemas are equal values.
    pub fn normalize(&mut self) {
        self.tables
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.enums
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.domains
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        self.composites
            .sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    }

    /// The table `schema.name`, if present.
    pub fn table(&self, schema: &str, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// The table `schema.name`, mutably.
    pub fn table_mut(&mut self, schema: &str, name: &str) -> Option<&mut Table> {
        self.tables
            .iter_mut()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// Resolves a canonical type name (as stored in [`Column::type_name`]) to what it is.
    pub fn resolve_type<'a>(&'a self, type_name: &'a str) -> TypeRef<'a> {
        if let Some(element) = type_name.strip_suffix("[]") {
            return TypeRef::Array(element);
        }
        let matches =
            |schema: &str, name: &str| QualifiedName::new(schema, name).to_sql() == type_name;
        if let Some(e) = self.enums.iter().find(|e| matches(&e.schema, &e.name)) {
            return TypeRef::Enum(e);
        }
        if let Some(d) = self.domains.iter().find(|d| matches(&d.schema, &d.name)) {
            return TypeRef::Domain(d);
        }
        if let Some(c) = self.composites.iter().find(|c| matches(&c.schema, &c.name)) {
            return TypeRef::Composite(c);
        }
        TypeRef::Builtin(type_name)
    }

    /// Serialises the model as the JSON snapshot format: pretty, object keys sorted, with
    /// a trailing newline, so snapshots diff cleanly and are byte-stable.
    pub fn to_snapshot_json(&self) -> String {
        let mut sorted = self.clone();
        sorted.normalize();
        // Going through `Value` sorts object keys (serde_json's map is a BTreeMap).
        let value = serde_json::to_value(&sorted).expect("the schema model always serialises");
        let mut text =
            serde_json::to_string_pretty(&value).expect("a JSON value always serialises");
        text.push('\n');
        text
    }
}
