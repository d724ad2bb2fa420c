//! The DDL-files source: applies `CREATE`/`ALTER` statements of migration files in order.
//!
//! Each file is read into tokens ([`crate::sqltext`]), split into statements, and every
//! statement that shapes tables or user-defined types is applied to a [`Schema`] being
//! built; everything else (`INSERT`, `CREATE INDEX`, `CREATE FUNCTION`, `GRANT`, …) is
//! skipped. A statement that does shape tables or types but cannot be understood is an
//! [`Error::Schema`] pointing at its file, line and column: silently guessing would give
//! the audit a wrong idea of the tables.
//!
//! Limitation: defaults and generation expressions are kept as written (whitespace
//! collapsed), while a live database prints them deparsed (`'ok'::public.mood`,
//! `(a * 2)`). Write them in PostgreSQL's deparsed form to get a model identical to live
//! introspection. `serial` columns are expanded exactly as PostgreSQL does.
//!
//! Unqualified names follow `SET search_path` (reset to `public` at the start of each
//! file, as each migration usually runs in its own session); a name not found on the path
//! is taken to be in its first schema (extension types such as `citext` included).
//! `CREATE TABLE … AS` is refused since its columns come from a query.
//!
//! The same machinery reads `pg_dump` output ([`super::dump`]), which is DDL too.

use crate::error::{Diagnostic, Error, Result};
use crate::ident::{quote_ident, quote_literal};
use crate::model::{
    Attribute, Column, CompositeType, DomainType, EnumType, Identity, QualifiedName, Schema, Table,
    TableKind,
};
use crate::sqltext::{
    Cursor, Problem, Token, TokenKind, TypeResolver, normalize_expr, object_name, read_type,
    serial_default, serial_type, split_statements, strip_meta_commands, tokenize,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The schema of PostgreSQL's default `search_path` (`"$user", public`; no schemas named
/// after roles are assumed).
const DEFAULT_SCHEMA: &str = "public";

/// The model built from DDL files, with the renames they made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DdlSchema {
    /// The tables and types after every statement was applied.
    pub schema: Schema,
    /// Column and table renames, in the order they were applied.
    pub renames: Vec<Rename>,
}

/// One rename made by a DDL statement, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// What was renamed.
    pub change: Renamed,
    /// The file of the statement.
    pub file: PathBuf,
    /// The 1-based line the statement starts on.
    pub line: usize,
}

/// What a [`Rename`] renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    /// `ALTER TABLE … RENAME [COLUMN] from TO to`; `table` is the table's name at the time.
    Column {
        /// The table whose column was renamed.
        table: QualifiedName,
        /// The old column name.
        from: String,
        /// The new column name.
        to: String,
    },
    /// `ALTER TABLE from RENAME TO …` or `ALTER TABLE from SET SCHEMA …`.
    Table {
        /// The old qualified name.
        from: QualifiedName,
        /// The new qualified name.
        to: QualifiedName,
    },
}

/// Reads the DDL files `paths` and applies them in the given order.
pub fn read(paths: &[PathBuf]) -> Result<DdlSchema> {
    let mut texts = Vec::with_capacity(paths.len());
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        texts.push((path.as_path(), text));
    }
    parse(texts.iter().map(|(p, t)| (*p, t.as_str())))
}

/// Reads the migration files of `dir` in order (see [`migration_files`]) and applies them.
pub fn read_dir(dir: &Path) -> Result<DdlSchema> {
    read(&migration_files(dir)?)
}

/// The migration files of `dir`, in the order migration tools apply them: the `*.sql`
/// files sorted by file name (numbers in names compared as numbers), where a reversible migration (`*.up.sql`/`*.down.sql`, as
/// sqlx writes them) contributes only its `.up.sql`; for diesel-style directories
/// (`<dir>/<version_name>/up.sql`) the `up.sql` of each subdirectory, by directory name.
pub fn migration_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        entries.push(entry.path());
    }
    entries.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    Ok(entries.into_iter().filter_map(migration_file).collect())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Compares names with runs of digits compared as numbers, so `V2__b.sql` comes before
/// `V10__a.sql` as migration tools apply them; zero-padded names sort as plain text does.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        let (Some(ca), Some(cb)) = (a.chars().next(), b.chars().next()) else {
            return a.len().cmp(&b.len());
        };
        if ca.is_ascii_digit() && cb.is_ascii_digit() {
            let (na, ra) = split_digits(a);
            let (nb, rb) = split_digits(b);
            let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
            let order = ta
                .len()
                .cmp(&tb.len())
                .then(ta.cmp(tb))
                .then(na.len().cmp(&nb.len()));
            if order.is_ne() {
                return order;
            }
            (a, b) = (ra, rb);
        } else {
            if ca != cb {
                return ca.cmp(&cb);
            }
            (a, b) = (&a[ca.len_utf8()..], &b[cb.len_utf8()..]);
        }
    }
}

/// Splits a leading run of ASCII digits off `s`.
fn split_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at(end)
}

/// The file to apply for one directory entry, if any.
fn migration_file(path: PathBuf) -> Option<PathBuf> {
    if path.is_dir() {
        let up = path.join("up.sql");
        return up.is_file().then_some(up);
    }
    let name = path.file_name()?.to_str()?;
    let is_sql = name.ends_with(".sql") && !name.ends_with(".down.sql");
    is_sql.then_some(path)
}

/// Applies DDL texts in order; each pair is a file path (for error messages) and its text.
pub fn parse<'a>(files: impl IntoIterator<Item = (&'a Path, &'a str)>) -> Result<DdlSchema> {
    let mut applier = Applier::new(Mode::Ddl);
    for (path, text) in files {
        applier.apply_file(path, text)?;
    }
    Ok(applier.finish())
}

/// How strict the applier is about statements on relations it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Migration files: an `ALTER TABLE` on an unknown table is an error.
    Ddl,
    /// `pg_dump` output: `ALTER TABLE` also targets sequences, views and foreign tables,
    /// which the model leaves out, so those statements are skipped.
    Dump,
}

/// The schema being built statement by statement.
pub(crate) struct Applier {
    mode: Mode,
    schema: Schema,
    /// The primary key constraint name of each table that has one, so that `DROP
    /// CONSTRAINT` can tell the primary key from other constraints.
    pk_names: HashMap<QualifiedName, String>,
    renames: Vec<Rename>,
    /// The file being applied, for renames.
    file: PathBuf,
    /// The schemas of the `search_path` in effect, `$user` and `pg_*` left out.
    search_path: Vec<String>,
}

/// Resolves unqualified names like PostgreSQL does with a `search_path`: the first schema
/// of the path that has the object, or (for new objects and unknown names) the first
/// schema of the path.
struct Resolver<'s> {
    schema: &'s Schema,
    search_path: &'s [String],
}

impl Resolver<'_> {
    /// The schema new objects are created in.
    fn creation_schema(&self) -> String {
        self.search_path
            .first()
            .cloned()
            .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned())
    }

    /// The name a new object written as `(schema, name)` gets.
    fn new_name(&self, (schema, name): (Option<String>, String)) -> QualifiedName {
        QualifiedName::new(schema.unwrap_or_else(|| self.creation_schema()), name)
    }

    /// The existing table written as `(schema, name)` (or where it would be).
    fn table_name(&self, (schema, name): (Option<String>, String)) -> QualifiedName {
        let exists = |s: &String| self.schema.table(s, &name).is_some();
        let schema = schema.or_else(|| self.search_path.iter().find(|s| exists(s)).cloned());
        self.new_name((schema, name))
    }

    /// The existing user-defined type written as `(schema, name)` (or where it would be).
    fn type_name(&self, (schema, name): (Option<String>, String)) -> QualifiedName {
        let schema = schema.unwrap_or_else(|| self.schema_of_type(&name));
        QualifiedName::new(schema, name)
    }

    fn has_type(&self, schema: &str, name: &str) -> bool {
        let is = |s: &str, n: &str| s == schema && n == name;
        self.schema.enums.iter().any(|t| is(&t.schema, &t.name))
            || self.schema.domains.iter().any(|t| is(&t.schema, &t.name))
            || self
                .schema
                .composites
                .iter()
                .any(|t| is(&t.schema, &t.name))
    }
}

impl TypeResolver for Resolver<'_> {
    fn schema_of_type(&self, name: &str) -> String {
        self.search_path
            .iter()
            .find(|s| self.has_type(s, name))
            .cloned()
            .unwrap_or_else(|| self.creation_schema())
    }
}

/// One sub-command of `ALTER TABLE`, read but not yet applied.
enum Action {
    /// `ADD [COLUMN] [IF NOT EXISTS] definition`.
    AddColumn { if_not_exists: bool, def: ColumnDef },
    /// `DROP [COLUMN] [IF EXISTS] name`.
    DropColumn { if_exists: bool, name: String },
    /// `ALTER [COLUMN] name [SET DATA] TYPE type`.
    AlterType {
        column: String,
        type_name: String,
        element_type: Option<String>,
    },
    /// `SET NOT NULL` (true) or `DROP NOT NULL` (false) of a column.
    SetNotNull(String, bool),
    /// `SET DEFAULT expr` or `DROP DEFAULT` (None) of a column.
    SetDefault(String, Option<String>),
    /// `ADD GENERATED … AS IDENTITY`, `SET GENERATED …` or `DROP IDENTITY` (None).
    SetIdentity(String, Option<Identity>),
    /// `DROP EXPRESSION`: a generated column becomes a plain one.
    DropExpression(String),
    /// `ADD [CONSTRAINT name] PRIMARY KEY (columns)`.
    AddPrimaryKey {
        name: Option<String>,
        columns: Vec<String>,
    },
    /// `DROP CONSTRAINT name`.
    DropConstraint { name: String },
    /// A sub-command that does not change the model (`OWNER TO`, `ADD CONSTRAINT … UNIQUE`).
    Ignored,
}

impl Action {
    /// Whether PostgreSQL applies the action to the partitions too (without `ONLY`).
    fn recurses(&self) -> bool {
        !matches!(
            self,
            Action::SetIdentity(..) | Action::DropExpression(_) | Action::Ignored
        )
    }
}

/// A column definition and whether it declared itself the primary key.
struct ColumnDef {
    column: Column,
    /// `Some(constraint name)` when the column said `PRIMARY KEY`.
    primary_key: Option<Option<String>>,
}

type Step<T = ()> = std::result::Result<T, Problem>;

impl Applier {
    pub(crate) fn new(mode: Mode) -> Self {
        Self {
            mode,
            schema: Schema::default(),
            pk_names: HashMap::new(),
            renames: Vec::new(),
            file: PathBuf::new(),
            search_path: vec![DEFAULT_SCHEMA.to_owned()],
        }
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            schema: &self.schema,
            search_path: &self.search_path,
        }
    }

    /// Applies every statement of one file.
    pub(crate) fn apply_file(&mut self, path: &Path, text: &str) -> Result<()> {
        self.file = path.to_path_buf();
        // Each file starts in a new session as far as the search path goes.
        self.search_path = vec![DEFAULT_SCHEMA.to_owned()];
        let text = strip_meta_commands(text);
        let tokens = tokenize(&text).map_err(|p| diagnostic(path, p))?;
        for statement in split_statements(&tokens) {
            let mut cursor = Cursor::new(&text, statement);
            self.statement(&mut cursor)
                .map_err(|p| diagnostic(path, p))?;
        }
        Ok(())
    }

    /// The finished model, sorted.
    pub(crate) fn finish(mut self) -> DdlSchema {
        self.schema.normalize();
        DdlSchema {
            schema: self.schema,
            renames: self.renames,
        }
    }

    fn statement(&mut self, c: &mut Cursor<'_>) -> Step {
        let line = c.peek().map_or(1, |t| t.line);
        if c.eat_kw("create") {
            self.create(c)
        } else if c.eat_kws(&["alter", "table"]) {
            self.alter_table(c, line)
        } else if c.eat_kws(&["alter", "type"]) {
            self.alter_type(c)
        } else if c.eat_kws(&["alter", "domain"]) {
            self.alter_domain(c)
        } else if c.eat_kws(&["alter", "sequence"]) {
            self.alter_sequence(c)
        } else if c.eat_kws(&["drop", "table"]) {
            self.drop_tables(c)
        } else if c.eat_kws(&["drop", "type"]) || c.eat_kws(&["drop", "domain"]) {
            self.drop_types(c)
        } else if c.eat_kws(&["drop", "schema"]) {
            self.drop_schemas(c)
        } else if let Some(path) = search_path_change(c)? {
            self.search_path = path;
            Ok(())
        } else {
            Ok(())
        }
    }

    fn create(&mut self, c: &mut Cursor<'_>) -> Step {
        c.eat_kw("global");
        c.eat_kw("local");
        let temporary = c.eat_kw("temporary") || c.eat_kw("temp");
        c.eat_kw("unlogged");
        if c.eat_kw("table") {
            // Temporary tables vanish with the session that made them.
            return if temporary {
                Ok(())
            } else {
                self.create_table(c)
            };
        }
        if c.eat_kw("type") {
            return self.create_type(c);
        }
        if c.eat_kw("domain") {
            return self.create_domain(c);
        }
        Ok(())
    }

    // ----- CREATE TABLE -----

    fn create_table(&mut self, c: &mut Cursor<'_>) -> Step {
        let if_not_exists = c.eat_kws(&["if", "not", "exists"]);
        let name_at = c.clone();
        let name = self.resolver().new_name(c.qualified_name()?);
        if self.table(&name).is_some() {
            return if if_not_exists {
                Ok(())
            } else {
                Err(name_at.problem(format!("table {name} already exists")))
            };
        }
        let mut table = Table {
            schema: name.schema.clone(),
            name: name.name.clone(),
            kind: TableKind::Ordinary,
            partition_of: None,
            columns: Vec::new(),
            primary_key: None,
        };
        let mut pk_name = None;
        if c.eat_kws(&["partition", "of"]) {
            let parent_at = c.clone();
            let parent = self.resolver().table_name(c.qualified_name()?);
            let Some(parent_table) = self.table(&parent) else {
                return Err(parent_at.problem(format!("unknown table {parent}")));
            };
            inherit_from_parent(&mut table, parent_table);
            table.partition_of = Some(parent);
            if c.peek_kind(&TokenKind::LParen) {
                pk_name = table_elements(c, &mut table, &self.resolver())?;
            }
        } else if c.eat_kw("of") {
            let type_at = c.clone();
            // A type name, not `read_type`: the parenthesis that follows is the element
            // list, not a type modifier.
            let type_name = self.resolver().type_name(c.qualified_name()?).to_sql();
            let composite = self
                .schema
                .composites
                .iter()
                .find(|t| QualifiedName::new(&t.schema, &t.name).to_sql() == type_name);
            let Some(composite) = composite else {
                return Err(type_at.problem(format!("unknown composite type {type_name}")));
            };
            table.columns = composite
                .attributes
                .iter()
                .map(typed_table_column)
                .collect();
            if c.peek_kind(&TokenKind::LParen) {
                pk_name = table_elements(c, &mut table, &self.resolver())?;
            }
        } else if c.peek_kw("as") {
            return Err(c.problem("CREATE TABLE … AS is not supported"));
        } else {
            pk_name = table_elements(c, &mut table, &self.resolver())?;
        }
        let parents = table_options(c, &mut table)?;
        if !parents.is_empty() {
            self.inherit_columns(&mut table, parents)?;
        }
        if table.primary_key.is_some() {
            let pk_name = pk_name.unwrap_or_else(|| object_name(&table.name, None, "pkey"));
            self.pk_names.insert(name, pk_name);
        }
        self.schema.tables.push(table);
        Ok(())
    }

    /// Merges the columns of `INHERITS` parents into `table` as PostgreSQL does: the
    /// parents' columns first (same names merged), then the table's own; a column both
    /// declare keeps the parent's place, is NOT NULL if either says so and takes the
    /// table's own default before the parent's.
    fn inherit_columns(&self, table: &mut Table, parents: Vec<(RawName, Cursor<'_>)>) -> Step {
        let mut merged: Vec<Column> = Vec::new();
        for (parent, at) in parents {
            let parent = self.resolver().table_name(parent);
            let Some(parent_table) = self.table(&parent) else {
                return Err(at.problem(format!("unknown table {parent}")));
            };
            for column in &parent_table.columns {
                match merged.iter_mut().find(|m| m.name == column.name) {
                    Some(existing) => existing.nullable &= column.nullable,
                    None => merged.push(Column {
                        identity: None,
                        ..column.clone()
                    }),
                }
            }
        }
        for own in std::mem::take(&mut table.columns) {
            match merged.iter_mut().find(|m| m.name == own.name) {
                Some(inherited) => {
                    inherited.nullable &= own.nullable;
                    if own.default.is_some() {
                        inherited.default = own.default;
                    }
                }
                None => merged.push(own),
            }
        }
        table.columns = merged;
        Ok(())
    }

    // ----- CREATE TYPE / DOMAIN -----

    fn create_type(&mut self, c: &mut Cursor<'_>) -> Step {
        let name_at = c.clone();
        let name = self.resolver().new_name(c.qualified_name()?);
        if !c.eat_kw("as") {
            // Shell and base types (`CREATE TYPE x (INPUT = …)`) are not in the model.
            return Ok(());
        }
        if self.has_type(&name) {
            return Err(name_at.problem(format!("type {name} already exists")));
        }
        if c.eat_kw("enum") {
            let labels = string_list(c)?;
            self.schema.enums.push(EnumType {
                schema: name.schema,
                name: name.name,
                labels,
            });
        } else if c.peek_kind(&TokenKind::LParen) {
            let attributes = composite_attributes(c, &self.resolver())?;
            self.schema.composites.push(CompositeType {
                schema: name.schema,
                name: name.name,
                attributes,
            });
        }
        // Range types (`AS RANGE`) are not in the model either.
        Ok(())
    }

    fn create_domain(&mut self, c: &mut Cursor<'_>) -> Step {
        let name_at = c.clone();
        let name = self.resolver().new_name(c.qualified_name()?);
        if self.has_type(&name) {
            return Err(name_at.problem(format!("type {name} already exists")));
        }
        c.eat_kw("as");
        let base = read_type(c, &self.resolver())?;
        let mut domain = DomainType {
            schema: name.schema,
            name: name.name,
            base_type: base.type_name,
            nullable: true,
            default: None,
        };
        while !c.at_end() {
            domain_constraint(c, &mut domain)?;
        }
        self.schema.domains.push(domain);
        Ok(())
    }

    fn has_type(&self, name: &QualifiedName) -> bool {
        self.resolver().has_type(&name.schema, &name.name)
    }

    // ----- ALTER TYPE / DOMAIN -----

    fn alter_type(&mut self, c: &mut Cursor<'_>) -> Step {
        let name_at = c.clone();
        let name = self.resolver().type_name(c.qualified_name()?);
        if c.eat_kws(&["owner", "to"])
            || c.peek_kw("set") && !c.peek_nth(1).is_some_and(|t| t.is_kw("schema"))
        {
            return Ok(());
        }
        if !self.has_type(&name) {
            // Base and range types are not in the model; in a dump every type it alters
            // was created before, so only migrations can get here with a mistake.
            return if self.mode == Mode::Ddl && self.mentions_modelled_change(c) {
                Err(name_at.problem(format!("unknown type {name}")))
            } else {
                Ok(())
            };
        }
        if c.eat_kws(&["rename", "to"]) {
            let to = QualifiedName::new(name.schema.clone(), c.ident()?);
            return self.rename_type(&name, &to).map_err(|m| name_at.problem(m));
        }
        if c.eat_kws(&["set", "schema"]) {
            let to = QualifiedName::new(c.ident()?, name.name.clone());
            return self.rename_type(&name, &to).map_err(|m| name_at.problem(m));
        }
        if let Some(labels) = self.enum_labels_mut(&name) {
            return alter_enum(c, labels);
        }
        if let Some(index) = self.composite_index(&name) {
            // Changed on a copy: reading attribute types needs the whole schema.
            let mut composite = self.schema.composites[index].clone();
            alter_composite(c, &mut composite, &self.resolver())?;
            self.schema.composites[index] = composite;
            return Ok(());
        }
        Err(c.syntax_error("unsupported ALTER TYPE sub-command"))
    }

    /// Whether an `ALTER TYPE` sub-command would change a type of the model.
    fn mentions_modelled_change(&self, c: &Cursor<'_>) -> bool {
        ["add", "rename", "drop", "alter"]
            .iter()
            .any(|kw| c.peek_kw(kw))
    }

    fn composite_index(&self, name: &QualifiedName) -> Option<usize> {
        self.schema
            .composites
            .iter()
            .position(|t| t.schema == name.schema && t.name == name.name)
    }

    /// Renames a user-defined type and every reference to it, as the catalog (which refers
    /// to types by OID) would print them afterwards.
    fn rename_type(
        &mut self,
        from: &QualifiedName,
        to: &QualifiedName,
    ) -> std::result::Result<(), String> {
        if self.has_type(to) {
            return Err(format!("cannot rename {from}: type {to} already exists"));
        }
        let renamed = |schema: &mut String, name: &mut String| {
            if *schema == from.schema && *name == from.name {
                schema.clone_from(&to.schema);
                name.clone_from(&to.name);
            }
        };
        self.schema
            .enums
            .iter_mut()
            .for_each(|t| renamed(&mut t.schema, &mut t.name));
        self.schema
            .domains
            .iter_mut()
            .for_each(|t| renamed(&mut t.schema, &mut t.name));
        self.schema
            .composites
            .iter_mut()
            .for_each(|t| renamed(&mut t.schema, &mut t.name));
        let (old, new) = (from.to_sql(), to.to_sql());
        for_each_type_reference(&mut self.schema, |type_name| retype(type_name, &old, &new));
        for_each_expression(&mut self.schema, |expr| {
            *expr = replace_cast(expr, &old, &new);
        });
        Ok(())
    }

    fn enum_labels_mut(&mut self, name: &QualifiedName) -> Option<&mut Vec<String>> {
        self.schema
            .enums
            .iter_mut()
            .find(|e| e.schema == name.schema && e.name == name.name)
            .map(|e| &mut e.labels)
    }

    fn alter_domain(&mut self, c: &mut Cursor<'_>) -> Step {
        let name_at = c.clone();
        let name = self.resolver().type_name(c.qualified_name()?);
        let domain = self
            .schema
            .domains
            .iter_mut()
            .find(|d| d.schema == name.schema && d.name == name.name);
        let Some(domain) = domain else {
            return Err(name_at.problem(format!("unknown domain {name}")));
        };
        if c.eat_kws(&["set", "default"]) {
            domain.default = default_expr(c, |_| false)?;
        } else if c.eat_kws(&["drop", "default"]) {
            domain.default = None;
        } else if c.eat_kws(&["set", "not", "null"]) {
            domain.nullable = false;
        } else if c.eat_kws(&["drop", "not", "null"]) {
            domain.nullable = true;
        }
        // Constraints, owner and the rest do not change the model.
        Ok(())
    }

    /// Follows sequence renames and moves into the `nextval('…'::regclass)` defaults that
    /// name the sequence, which the catalog (referring to it by OID) prints anew.
    fn alter_sequence(&mut self, c: &mut Cursor<'_>) -> Step {
        c.eat_kws(&["if", "exists"]);
        // Sequences are not tracked: an unqualified one is taken to be in the first schema
        // of the path.
        let from = self.resolver().new_name(c.qualified_name()?);
        let to = if c.eat_kws(&["rename", "to"]) {
            QualifiedName::new(from.schema.clone(), c.ident()?)
        } else if c.eat_kws(&["set", "schema"]) {
            QualifiedName::new(c.ident()?, from.name.clone())
        } else {
            return Ok(());
        };
        let nextval =
            |q: &QualifiedName| format!("nextval({}::regclass)", quote_literal(&q.to_sql()));
        let (old, new) = (nextval(&from), nextval(&to));
        for_each_expression(&mut self.schema, |expr| {
            if *expr == old {
                expr.clone_from(&new);
            }
        });
        Ok(())
    }

    // ----- DROP -----

    fn drop_tables(&mut self, c: &mut Cursor<'_>) -> Step {
        let if_exists = c.eat_kws(&["if", "exists"]);
        loop {
            let name_at = c.clone();
            let name = self.resolver().table_name(c.qualified_name()?);
            if self.table(&name).is_some() {
                self.remove_table(&name);
            } else if !if_exists {
                return Err(name_at.problem(format!("unknown table {name}")));
            }
            if !c.eat(&TokenKind::Comma) {
                return Ok(());
            }
        }
    }

    /// Removes a table and, as PostgreSQL does, its partitions.
    fn remove_table(&mut self, name: &QualifiedName) {
        for partition in self.partitions(name) {
            self.remove_table(&partition);
        }
        self.schema
            .tables
            .retain(|t| !(t.schema == name.schema && t.name == name.name));
        self.pk_names.remove(name);
    }

    fn drop_types(&mut self, c: &mut Cursor<'_>) -> Step {
        c.eat_kws(&["if", "exists"]);
        let mut names = vec![self.resolver().type_name(c.qualified_name()?)];
        while c.eat(&TokenKind::Comma) {
            names.push(self.resolver().type_name(c.qualified_name()?));
        }
        let cascade = c.eat_kw("cascade");
        for name in names {
            self.remove_type(&name, cascade);
        }
        Ok(())
    }

    /// Removes a type; with `cascade`, the columns and attributes of that type go too, as
    /// PostgreSQL drops them.
    fn remove_type(&mut self, name: &QualifiedName, cascade: bool) {
        let keep = |schema: &str, n: &str| !(schema == name.schema && n == name.name);
        self.schema.enums.retain(|t| keep(&t.schema, &t.name));
        self.schema.domains.retain(|t| keep(&t.schema, &t.name));
        self.schema.composites.retain(|t| keep(&t.schema, &t.name));
        if !cascade {
            return;
        }
        let sql = name.to_sql();
        let array = format!("{sql}[]");
        let uses = |type_name: &str| type_name == sql || type_name == array;
        for table in &mut self.schema.tables {
            table.columns.retain(|c| !uses(&c.type_name));
        }
        for composite in &mut self.schema.composites {
            composite.attributes.retain(|a| !uses(&a.type_name));
        }
        let dependent_domains: Vec<_> = self
            .schema
            .domains
            .iter()
            .filter(|d| uses(&d.base_type))
            .map(|d| QualifiedName::new(&d.schema, &d.name))
            .collect();
        for domain in dependent_domains {
            self.remove_type(&domain, true);
        }
    }

    /// `DROP SCHEMA … CASCADE` drops every table and type in it.
    fn drop_schemas(&mut self, c: &mut Cursor<'_>) -> Step {
        c.eat_kws(&["if", "exists"]);
        let mut schemas = vec![c.ident()?];
        while c.eat(&TokenKind::Comma) {
            schemas.push(c.ident()?);
        }
        let in_schemas = |schema: &str| schemas.iter().any(|s| s == schema);
        let tables: Vec<_> = self
            .schema
            .tables
            .iter()
            .filter(|t| in_schemas(&t.schema))
            .map(Table::qualified_name)
            .collect();
        for table in tables {
            self.remove_table(&table);
        }
        let mut types = Vec::new();
        types.extend(
            self.schema
                .enums
                .iter()
                .map(|t| (t.schema.clone(), t.name.clone())),
        );
        types.extend(
            self.schema
                .domains
                .iter()
                .map(|t| (t.schema.clone(), t.name.clone())),
        );
        types.extend(
            self.schema
                .composites
                .iter()
                .map(|t| (t.schema.clone(), t.name.clone())),
        );
        for (schema, name) in types.into_iter().filter(|(s, _)| in_schemas(s)) {
            self.remove_type(&QualifiedName::new(schema, name), true);
        }
        Ok(())
    }

    // ----- ALTER TABLE -----

    fn alter_table(&mut self, c: &mut Cursor<'_>, line: usize) -> Step {
        let if_exists = c.eat_kws(&["if", "exists"]);
        let only = c.eat_kw("only");
        let name_at = c.clone();
        let name = self.resolver().table_name(c.qualified_name()?);
        eat_star(c);
        let known = self.table(&name).is_some();
        let unknown_is_fine = if_exists || self.mode == Mode::Dump;
        if !known {
            return if unknown_is_fine || is_ignorable_alter(c) {
                Ok(())
            } else {
                Err(name_at.problem(format!("unknown table {name}")))
            };
        }
        if c.eat_kw("rename") {
            return self.alter_table_rename(c, name, &name_at, line);
        }
        if c.eat_kws(&["set", "schema"]) {
            let schema = c.ident()?;
            let to = QualifiedName::new(schema, name.name.clone());
            return self
                .rename_table(name, to, line)
                .map_err(|m| name_at.problem(m));
        }
        if c.eat_kws(&["attach", "partition"]) {
            return self.attach_partition(c, &name);
        }
        if c.eat_kws(&["detach", "partition"]) {
            let partition = self.resolver().table_name(c.qualified_name()?);
            if let Some(t) = self.table_mut(&partition) {
                t.partition_of = None;
            }
            return Ok(());
        }
        loop {
            let at = c.clone();
            let action = alter_action(c, &name, &self.resolver())?;
            self.apply_action(&name, action, only, &at)?;
            if !c.eat(&TokenKind::Comma) {
                break;
            }
        }
        if c.at_end() {
            Ok(())
        } else {
            Err(c.syntax_error("expected , or the end of the ALTER TABLE statement"))
        }
    }

    fn alter_table_rename(
        &mut self,
        c: &mut Cursor<'_>,
        name: QualifiedName,
        name_at: &Cursor<'_>,
        line: usize,
    ) -> Step {
        if c.eat_kw("to") {
            let to = QualifiedName::new(name.schema.clone(), c.ident()?);
            return self
                .rename_table(name, to, line)
                .map_err(|m| name_at.problem(m));
        }
        if c.eat_kw("constraint") {
            let from = c.ident()?;
            c.expect_kws(&["to"])?;
            let to = c.ident()?;
            if let Some(pk) = self.pk_names.get_mut(&name).filter(|pk| **pk == from) {
                *pk = to;
            }
            return Ok(());
        }
        c.eat_kw("column");
        let at = c.clone();
        let from = c.ident()?;
        c.expect_kws(&["to"])?;
        let to = c.ident()?;
        for target in self.targets(&name, false) {
            self.rename_column(&target, &from, &to, line)
                .map_err(|m| at.problem(m))?;
        }
        Ok(())
    }

    fn rename_column(
        &mut self,
        table: &QualifiedName,
        from: &str,
        to: &str,
        line: usize,
    ) -> std::result::Result<(), String> {
        let t = self
            .table_mut(table)
            .ok_or_else(|| format!("unknown table {table}"))?;
        if t.column(to).is_some() {
            return Err(format!(
                "column {} of {table} already exists",
                quote_ident(to)
            ));
        }
        let column = t
            .column_mut(from)
            .ok_or_else(|| format!("table {table} has no column {}", quote_ident(from)))?;
        column.name = to.to_owned();
        for key in t.primary_key.iter_mut().flatten() {
            if key == from {
                *key = to.to_owned();
            }
        }
        self.renames.push(Rename {
            change: Renamed::Column {
                table: table.clone(),
                from: from.to_owned(),
                to: to.to_owned(),
            },
            file: self.file.clone(),
            line,
        });
        Ok(())
    }

    fn rename_table(
        &mut self,
        from: QualifiedName,
        to: QualifiedName,
        line: usize,
    ) -> std::result::Result<(), String> {
        if self.table(&to).is_some() {
            return Err(format!("cannot rename {from}: table {to} already exists"));
        }
        for t in &mut self.schema.tables {
            if t.schema == from.schema && t.name == from.name {
                if from.schema != to.schema {
                    move_sequence_defaults(t, &from.schema, &to.schema);
                }
                t.schema.clone_from(&to.schema);
                t.name.clone_from(&to.name);
            }
            if t.partition_of.as_ref() == Some(&from) {
                t.partition_of = Some(to.clone());
            }
        }
        // The constraint keeps its name when the table is renamed.
        if let Some(pk) = self.pk_names.remove(&from) {
            self.pk_names.insert(to.clone(), pk);
        }
        self.renames.push(Rename {
            change: Renamed::Table { from, to },
            file: self.file.clone(),
            line,
        });
        Ok(())
    }

    fn attach_partition(&mut self, c: &mut Cursor<'_>, parent: &QualifiedName) -> Step {
        let at = c.clone();
        let child = self.resolver().table_name(c.qualified_name()?);
        if self.ancestors(parent).contains(&child) {
            return Err(at.problem(format!("{child} cannot be a partition of itself")));
        }
        let parent_key = self.table(parent).and_then(|t| t.primary_key.clone());
        let Some(table) = self.table_mut(&child) else {
            return if self.mode == Mode::Dump {
                Ok(())
            } else {
                Err(at.problem(format!("unknown table {child}")))
            };
        };
        table.partition_of = Some(parent.clone());
        // Attaching creates the parent's primary key on the partition when it lacks one.
        if let (Some(key), None) = (parent_key, &table.primary_key) {
            set_primary_key(table, &key).map_err(|m| at.problem(m))?;
            let pk_name = object_name(&child.name, None, "pkey");
            self.pk_names.insert(child, pk_name);
        }
        Ok(())
    }

    /// `name` and the tables it is a partition of, up to the root.
    fn ancestors(&self, name: &QualifiedName) -> Vec<QualifiedName> {
        let mut chain = vec![name.clone()];
        while let Some(parent) = self
            .table(chain.last().unwrap_or(name))
            .and_then(|t| t.partition_of.clone())
        {
            // The model is built acyclic, but a bound keeps a mistake from looping.
            if chain.contains(&parent) || chain.len() > self.schema.tables.len() {
                break;
            }
            chain.push(parent);
        }
        chain
    }

    /// The table and, unless `only`, its partitions (recursively), which PostgreSQL
    /// changes together.
    fn targets(&self, name: &QualifiedName, only: bool) -> Vec<QualifiedName> {
        let mut targets = vec![name.clone()];
        if !only {
            for partition in self.partitions(name) {
                targets.extend(self.targets(&partition, false));
            }
        }
        targets
    }

    fn partitions(&self, parent: &QualifiedName) -> Vec<QualifiedName> {
        self.schema
            .tables
            .iter()
            .filter(|t| t.partition_of.as_ref() == Some(parent))
            .map(Table::qualified_name)
            .collect()
    }

    fn apply_action(
        &mut self,
        name: &QualifiedName,
        action: Action,
        only: bool,
        at: &Cursor<'_>,
    ) -> Step {
        if let Action::DropConstraint {
            name: constraint, ..
        } = &action
        {
            // Other constraints (unique, check, foreign keys) are not in the model, and
            // one of an unknown name may well be one of them, so only the primary key's
            // name does anything. PostgreSQL drops the partitions' keys with it.
            if self.pk_names.get(name) != Some(constraint) {
                return Ok(());
            }
        }
        let targets = self.targets(name, only || !action.recurses());
        for target in targets {
            let is_root = &target == name;
            self.apply_to(&target, &action, is_root)
                .map_err(|m| at.problem(m))?;
        }
        Ok(())
    }

    fn apply_to(
        &mut self,
        name: &QualifiedName,
        action: &Action,
        is_root: bool,
    ) -> std::result::Result<(), String> {
        let table = self
            .table_mut(name)
            .ok_or_else(|| format!("unknown table {name}"))?;
        match action {
            Action::AddColumn { if_not_exists, def } => {
                add_column(table, def, *if_not_exists)?;
                if let Some(constraint) = &def.primary_key {
                    let key = [def.column.name.clone()];
                    self.add_primary_key(name, constraint.as_ref().filter(|_| is_root), &key)?;
                }
            }
            Action::DropColumn {
                if_exists,
                name: column,
            } => {
                if drop_column(table, column, *if_exists)? {
                    self.pk_names.remove(name);
                }
            }
            Action::AlterType {
                column,
                type_name,
                element_type,
            } => {
                let col = existing_column(table, column)?;
                col.type_name.clone_from(type_name);
                col.element_type.clone_from(element_type);
            }
            Action::SetNotNull(column, not_null) => {
                existing_column(table, column)?.nullable = !*not_null;
            }
            Action::SetDefault(column, default) => {
                existing_column(table, column)?.default.clone_from(default);
            }
            Action::SetIdentity(column, identity) => {
                let col = existing_column(table, column)?;
                col.identity = *identity;
                if identity.is_some() {
                    col.nullable = false;
                }
            }
            Action::DropExpression(column) => {
                existing_column(table, column)?.generated = None;
            }
            Action::AddPrimaryKey {
                name: constraint,
                columns,
            } => {
                self.add_primary_key(name, constraint.as_ref().filter(|_| is_root), columns)?;
            }
            Action::DropConstraint { .. } => {
                // Resolved in `apply_action`: only the primary key matters here.
                table.primary_key = None;
                self.pk_names.remove(name);
            }
            Action::Ignored => {}
        }
        Ok(())
    }

    fn add_primary_key(
        &mut self,
        name: &QualifiedName,
        constraint: Option<&String>,
        columns: &[String],
    ) -> std::result::Result<(), String> {
        let table = self
            .table_mut(name)
            .ok_or_else(|| format!("unknown table {name}"))?;
        if table.primary_key.is_some() {
            return Err(format!("table {name} already has a primary key"));
        }
        set_primary_key(table, columns)?;
        let pk_name = constraint
            .cloned()
            .unwrap_or_else(|| object_name(&name.name, None, "pkey"));
        self.pk_names.insert(name.clone(), pk_name);
        Ok(())
    }

    fn table(&self, name: &QualifiedName) -> Option<&Table> {
        self.schema.table(&name.schema, &name.name)
    }

    fn table_mut(&mut self, name: &QualifiedName) -> Option<&mut Table> {
        self.schema.table_mut(&name.schema, &name.name)
    }
}

/// `ALTER TABLE … SET SCHEMA` moves the sequences the table's columns own (serial
/// columns), so their `nextval('schema.seq'::regclass)` defaults print the new schema.
/// Without ownership information every `nextval` of a sequence in the old schema is taken
/// to be owned, which is what serial columns produce.
fn move_sequence_defaults(table: &mut Table, from: &str, to: &str) {
    let literal_schema = |schema: &str| quote_ident(schema).replace('\'', "''");
    let old_prefix = format!("nextval('{}.", literal_schema(from));
    let new_prefix = format!("nextval('{}.", literal_schema(to));
    for column in &mut table.columns {
        if let Some(default) = &mut column.default
            && let Some(rest) = default.strip_prefix(&old_prefix)
        {
            *default = format!("{new_prefix}{rest}");
        }
    }
}

/// Calls `f` on every type name of the model (columns, element types, attributes,
/// domain base types).
fn for_each_type_reference(schema: &mut Schema, mut f: impl FnMut(&mut String)) {
    for column in schema.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
        f(&mut column.type_name);
        if let Some(element) = &mut column.element_type {
            f(element);
        }
    }
    for attribute in schema
        .composites
        .iter_mut()
        .flat_map(|t| t.attributes.iter_mut())
    {
        f(&mut attribute.type_name);
    }
    for domain in &mut schema.domains {
        f(&mut domain.base_type);
    }
}

/// Calls `f` on every default and generation expression of the model.
fn for_each_expression(schema: &mut Schema, mut f: impl FnMut(&mut String)) {
    for column in schema.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
        column
            .default
            .iter_mut()
            .chain(column.generated.iter_mut())
            .for_each(&mut f);
    }
    for domain in &mut schema.domains {
        domain.default.iter_mut().for_each(&mut f);
    }
}

/// Replaces the canonical type name `old` (or its array) by `new`.
fn retype(type_name: &mut String, old: &str, new: &str) {
    if type_name == old {
        *type_name = new.to_owned();
    } else if type_name.strip_suffix("[]") == Some(old) {
        *type_name = format!("{new}[]");
    }
}

/// Replaces casts to `old` (`::old`, `::old[]`) by casts to `new` in an expression, as the
/// deparser would print them after a type rename.
fn replace_cast(expr: &str, old: &str, new: &str) -> String {
    let pattern = format!("::{old}");
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(at) = rest.find(&pattern) {
        let after = &rest[at + pattern.len()..];
        // `::public.mood_x` is another type: the name must end here.
        let ends = !after.starts_with(|ch: char| ch.is_alphanumeric() || ch == '_' || ch == '$');
        out.push_str(&rest[..at]);
        out.push_str(if ends { "::" } else { &pattern });
        if ends {
            out.push_str(new);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Turns a [`Problem`] in `path` into the crate's error.
fn diagnostic(path: &Path, p: Problem) -> Error {
    Error::Schema(Box::new(Diagnostic::new(path, p.line, p.column, p.message)))
}

/// Reads a change of `search_path`: `SET [SESSION|LOCAL] search_path {TO|=} …`, `RESET
/// search_path`, or `SELECT [pg_catalog.]set_config('search_path', '…', …)` as `pg_dump`
/// writes it. `None` when the statement is something else.
fn search_path_change(c: &mut Cursor<'_>) -> Step<Option<Vec<String>>> {
    if c.eat_kws(&["reset", "search_path"]) {
        return Ok(Some(vec![DEFAULT_SCHEMA.to_owned()]));
    }
    if c.eat_kw("set") {
        let _ = c.eat_kw("session") || c.eat_kw("local");
        if !c.eat_kw("search_path") {
            return Ok(None);
        }
        return set_search_path(c).map(Some);
    }
    if c.eat_kw("select") {
        if c.eat_kw("pg_catalog") {
            c.expect(&TokenKind::Period, ".")?;
        }
        if !c.eat_kw("set_config") {
            return Ok(None);
        }
        c.expect(&TokenKind::LParen, "(")?;
        if string(c)? != "search_path" {
            return Ok(None);
        }
        c.expect(&TokenKind::Comma, ",")?;
        return Ok(Some(search_path_from_config(&string(c)?)));
    }
    Ok(None)
}

/// Reads `{TO|=} DEFAULT` or `{TO|=} schema, …` (names or string literals).
fn set_search_path(c: &mut Cursor<'_>) -> Step<Vec<String>> {
    let equals = c.peek().is_some_and(|t| t.kind == TokenKind::Other) && c.rest().starts_with('=');
    if !(c.eat_kw("to") || equals && c.next_token().is_some()) {
        return Err(c.syntax_error("expected TO or ="));
    }
    if c.eat_kw("default") {
        return Ok(vec![DEFAULT_SCHEMA.to_owned()]);
    }
    let mut schemas = Vec::new();
    loop {
        let schema = match c.peek().map(|t| &t.kind) {
            Some(TokenKind::String(s)) => s.clone(),
            Some(TokenKind::Word { value, .. }) => value.clone(),
            _ => return Err(c.syntax_error("expected a schema name")),
        };
        c.next_token();
        schemas.push(schema);
        if !c.eat(&TokenKind::Comma) {
            return Ok(searched_schemas(schemas));
        }
    }
}

/// Splits a `search_path` setting value (`"$user", public`) into schema names, folding
/// unquoted names and unquoting quoted ones.
fn search_path_from_config(value: &str) -> Vec<String> {
    let schemas = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => s.to_ascii_lowercase(),
            },
        )
        .collect();
    searched_schemas(schemas)
}

/// Leaves out `$user` (no role schemas are assumed) and system schemas, which hold no
/// tables or types of the model.
fn searched_schemas(schemas: Vec<String>) -> Vec<String> {
    schemas
        .into_iter()
        .filter(|s| s != "$user" && !s.starts_with("pg_"))
        .collect()
}

/// A name as written: optional schema and name.
type RawName = (Option<String>, String);

/// Skips the `*` of `ALTER TABLE name *` (descendants included, the default anyway).
fn eat_star(c: &mut Cursor<'_>) {
    if c.peek().is_some_and(|t| t.kind == TokenKind::Other) && c.rest().starts_with('*') {
        c.next_token();
    }
}

/// Whether an `ALTER TABLE` on an unknown relation only does things the model ignores
/// (for example `OWNER TO` on a view or sequence).
fn is_ignorable_alter(c: &Cursor<'_>) -> bool {
    let mut probe = c.clone();
    loop {
        if !is_ignorable_subcommand(&probe) {
            return false;
        }
        probe.skip_element();
        if !probe.eat(&TokenKind::Comma) {
            return probe.at_end();
        }
    }
}

/// Sub-commands that never change tables' columns, keys or partitioning.
fn is_ignorable_subcommand(c: &Cursor<'_>) -> bool {
    const IGNORED: [&str; 12] = [
        "owner", "enable", "disable", "replica", "cluster", "reset", "validate", "inherit", "no",
        "force", "of", "not",
    ];
    if IGNORED.iter().any(|kw| c.peek_kw(kw)) {
        return true;
    }
    // `SET` is ignorable except for `SET SCHEMA` (a rename) and `SET DATA TYPE` (which
    // only follows ALTER COLUMN).
    c.peek_kw("set") && !c.peek_nth(1).is_some_and(|t| t.is_kw("schema"))
}

/// Reads one `ALTER TABLE` sub-command.
fn alter_action(c: &mut Cursor<'_>, table: &QualifiedName, names: &Resolver<'_>) -> Step<Action> {
    if is_ignorable_subcommand(c) {
        c.skip_element();
        return Ok(Action::Ignored);
    }
    if c.eat_kw("add") {
        return alter_add(c, table, names);
    }
    if c.eat_kw("drop") {
        return alter_drop(c);
    }
    if c.eat_kw("alter") {
        if c.eat_kw("constraint") {
            c.skip_element();
            return Ok(Action::Ignored);
        }
        c.eat_kw("column");
        let column = c.ident()?;
        return alter_column(c, column, names);
    }
    Err(c.syntax_error("unsupported ALTER TABLE sub-command"))
}

fn alter_add(c: &mut Cursor<'_>, table: &QualifiedName, names: &Resolver<'_>) -> Step<Action> {
    if starts_table_constraint(c) {
        let name = if c.eat_kw("constraint") {
            Some(c.ident()?)
        } else {
            None
        };
        return Ok(match table_constraint(c)? {
            TableConstraint::PrimaryKey(columns) => Action::AddPrimaryKey { name, columns },
            TableConstraint::NotNull(column) => Action::SetNotNull(column, true),
            TableConstraint::Other => Action::Ignored,
        });
    }
    c.eat_kw("column");
    let if_not_exists = c.eat_kws(&["if", "not", "exists"]);
    let def = column_def(c, table, names)?;
    Ok(Action::AddColumn { if_not_exists, def })
}

fn alter_drop(c: &mut Cursor<'_>) -> Step<Action> {
    if c.eat_kw("constraint") {
        // Without tracking other constraints, IF EXISTS changes nothing here.
        c.eat_kws(&["if", "exists"]);
        let name = c.ident()?;
        eat_drop_behavior(c);
        return Ok(Action::DropConstraint { name });
    }
    c.eat_kw("column");
    let if_exists = c.eat_kws(&["if", "exists"]);
    let name = c.ident()?;
    eat_drop_behavior(c);
    Ok(Action::DropColumn { if_exists, name })
}

fn eat_drop_behavior(c: &mut Cursor<'_>) {
    let _ = c.eat_kw("cascade") || c.eat_kw("restrict");
}

/// Reads what follows `ALTER [COLUMN] name`.
fn alter_column(c: &mut Cursor<'_>, column: String, names: &Resolver<'_>) -> Step<Action> {
    if c.eat_kws(&["set", "data", "type"]) || c.eat_kw("type") {
        let ty = read_type(c, names)?;
        // COLLATE and USING do not change the model.
        c.skip_element();
        return Ok(Action::AlterType {
            column,
            type_name: ty.type_name,
            element_type: ty.element_type,
        });
    }
    if c.eat_kws(&["set", "not", "null"]) {
        return Ok(Action::SetNotNull(column, true));
    }
    if c.eat_kws(&["drop", "not", "null"]) {
        return Ok(Action::SetNotNull(column, false));
    }
    if c.eat_kws(&["set", "default"]) {
        let default = default_expr(c, |_| false)?;
        return Ok(Action::SetDefault(column, default));
    }
    if c.eat_kws(&["drop", "default"]) {
        return Ok(Action::SetDefault(column, None));
    }
    if c.eat_kws(&["drop", "expression"]) {
        c.eat_kws(&["if", "exists"]);
        return Ok(Action::DropExpression(column));
    }
    if c.eat_kws(&["drop", "identity"]) {
        c.eat_kws(&["if", "exists"]);
        return Ok(Action::SetIdentity(column, None));
    }
    if c.eat_kws(&["add", "generated"]) {
        let identity = identity_kind(c)?;
        c.expect_kws(&["as", "identity"])?;
        c.skip_element();
        return Ok(Action::SetIdentity(column, Some(identity)));
    }
    if c.eat_kws(&["set", "generated"]) {
        let identity = identity_kind(c)?;
        // Sequence options may follow (`SET INCREMENT BY 2`); they do not matter here.
        c.skip_element();
        return Ok(Action::SetIdentity(column, Some(identity)));
    }
    if c.peek_kw("set") || c.peek_kw("reset") || c.peek_kw("restart") {
        // Statistics, storage, compression, attribute options, sequence options.
        c.skip_element();
        return Ok(Action::Ignored);
    }
    Err(c.syntax_error(format!(
        "unsupported ALTER COLUMN sub-command for column {}",
        quote_ident(&column)
    )))
}

fn identity_kind(c: &mut Cursor<'_>) -> Step<Identity> {
    if c.eat_kw("always") {
        Ok(Identity::Always)
    } else if c.eat_kws(&["by", "default"]) {
        Ok(Identity::ByDefault)
    } else {
        Err(c.syntax_error("expected ALWAYS or BY DEFAULT"))
    }
}

/// Copies what a partition takes from its parent: the columns (identity excepted, as in
/// PostgreSQL 15) and the primary key.
fn inherit_from_parent(table: &mut Table, parent: &Table) {
    table.columns = parent
        .columns
        .iter()
        .map(|c| Column {
            identity: None,
            ..c.clone()
        })
        .collect();
    table.primary_key.clone_from(&parent.primary_key);
}

/// A column of a typed table (`CREATE TABLE … OF type`) from an attribute of its type.
fn typed_table_column(attribute: &Attribute) -> Column {
    let element_type = attribute.type_name.strip_suffix("[]").map(str::to_owned);
    Column {
        name: attribute.name.clone(),
        type_name: attribute.type_name.clone(),
        element_type,
        nullable: true,
        default: None,
        identity: None,
        generated: None,
    }
}

/// Reads `( element, … )` of `CREATE TABLE` into `table`; returns the primary key's
/// constraint name when one was given.
fn table_elements(
    c: &mut Cursor<'_>,
    table: &mut Table,
    names: &Resolver<'_>,
) -> Step<Option<String>> {
    c.expect(&TokenKind::LParen, "(")?;
    let mut pk_name = None;
    if c.eat(&TokenKind::RParen) {
        return Ok(pk_name);
    }
    loop {
        if let Some(name) = table_element(c, table, names)? {
            pk_name = Some(name);
        }
        if c.eat(&TokenKind::RParen) {
            return Ok(pk_name);
        }
        c.expect(&TokenKind::Comma, ", or )")?;
    }
}

/// Reads one column or table constraint; returns the primary key's constraint name when
/// the element named one.
fn table_element(
    c: &mut Cursor<'_>,
    table: &mut Table,
    names: &Resolver<'_>,
) -> Step<Option<String>> {
    let at = c.clone();
    if starts_table_constraint(c) {
        let name = if c.eat_kw("constraint") {
            Some(c.ident()?)
        } else {
            None
        };
        return match table_constraint(c)? {
            TableConstraint::PrimaryKey(columns) => primary_key_element(table, &columns, name, &at),
            TableConstraint::NotNull(column) => {
                existing_column(table, &column)
                    .map_err(|m| at.problem(m))?
                    .nullable = false;
                Ok(None)
            }
            TableConstraint::Other => Ok(None),
        };
    }
    if c.eat_kw("like") {
        return like_clause(c, table, names);
    }
    let existing = c.peek().and_then(|t| match &t.kind {
        TokenKind::Word { value, .. } => table.column(value).map(|_| value.clone()),
        _ => None,
    });
    if let Some(name) = existing {
        // A partition or typed table may add constraints to the columns it got from its
        // parent or type. (In a plain table a repeated name is an error PostgreSQL
        // reports; the file is assumed to have run.)
        c.next_token();
        c.eat_kws(&["with", "options"]);
        let Some(column) = table.column_mut(&name) else {
            return Ok(None);
        };
        let pk = column_constraints(c, column)?;
        return match pk {
            Some(pk_name) => primary_key_element(table, &[name], pk_name, &at),
            None => Ok(None),
        };
    }
    let def = column_def(c, &table.qualified_name(), names)?;
    add_column(table, &def, false).map_err(|m| at.problem(m))?;
    match def.primary_key {
        Some(pk_name) => primary_key_element(table, &[def.column.name], pk_name, &at),
        None => Ok(None),
    }
}

/// Whether a table constraint (rather than a column) starts at the cursor. `EXCLUDE` is
/// not a reserved word, so a column may be named `exclude`; the constraint is followed by
/// `USING` or `(`.
fn starts_table_constraint(c: &Cursor<'_>) -> bool {
    const RESERVED_STARTS: [&str; 5] = ["constraint", "primary", "unique", "check", "foreign"];
    RESERVED_STARTS.iter().any(|kw| c.peek_kw(kw))
        || c.peek_kw("exclude")
            && c.peek_nth(1)
                .is_some_and(|t| t.is_kw("using") || t.kind == TokenKind::LParen)
}

/// What `LIKE source [INCLUDING …|EXCLUDING …]` copies besides names, types and NOT NULL.
#[derive(Default)]
struct LikeOptions {
    defaults: bool,
    generated: bool,
    identity: bool,
    indexes: bool,
}

/// Reads `LIKE source [{INCLUDING|EXCLUDING} option]…` and copies the source's columns
/// (and, with `INCLUDING INDEXES`, its primary key) into `table`.
fn like_clause(
    c: &mut Cursor<'_>,
    table: &mut Table,
    names: &Resolver<'_>,
) -> Step<Option<String>> {
    let at = c.clone();
    let source = names.table_name(c.qualified_name()?);
    let Some(source) = names.schema.table(&source.schema, &source.name) else {
        return Err(at.problem(format!("unknown table {source}")));
    };
    let options = like_options(c)?;
    for column in &source.columns {
        let copy = Column {
            default: column.default.clone().filter(|_| options.defaults),
            generated: column.generated.clone().filter(|_| options.generated),
            identity: column.identity.filter(|_| options.identity),
            ..column.clone()
        };
        let def = ColumnDef {
            column: copy,
            primary_key: None,
        };
        add_column(table, &def, false).map_err(|m| at.problem(m))?;
    }
    match source.primary_key.as_ref().filter(|_| options.indexes) {
        // The copied key gets the new table's default constraint name.
        Some(key) => primary_key_element(table, key, None, &at),
        None => Ok(None),
    }
}

fn like_options(c: &mut Cursor<'_>) -> Step<LikeOptions> {
    let mut options = LikeOptions::default();
    loop {
        let including = if c.eat_kw("including") {
            true
        } else if c.eat_kw("excluding") {
            false
        } else {
            return Ok(options);
        };
        let option = c.ident()?;
        match option.as_str() {
            "defaults" => options.defaults = including,
            "generated" => options.generated = including,
            "identity" => options.identity = including,
            "indexes" => options.indexes = including,
            "all" => {
                options = LikeOptions {
                    defaults: including,
                    generated: including,
                    identity: including,
                    indexes: including,
                }
            }
            // Comments, compression, constraints, statistics, storage: not in the model.
            _ => {}
        }
    }
}

/// Sets a primary key declared inside `CREATE TABLE`.
fn primary_key_element(
    table: &mut Table,
    columns: &[String],
    name: Option<String>,
    at: &Cursor<'_>,
) -> Step<Option<String>> {
    if table.primary_key.is_some() && table.partition_of.is_none() {
        return Err(at.problem(format!(
            "table {} has more than one primary key",
            table.qualified_name()
        )));
    }
    set_primary_key(table, columns).map_err(|m| at.problem(m))?;
    Ok(name)
}

/// Marks `columns` as the primary key (which makes them NOT NULL).
fn set_primary_key(table: &mut Table, columns: &[String]) -> std::result::Result<(), String> {
    for name in columns {
        existing_column(table, name)?.nullable = false;
    }
    table.primary_key = Some(columns.to_vec());
    Ok(())
}

fn existing_column<'t>(
    table: &'t mut Table,
    name: &str,
) -> std::result::Result<&'t mut Column, String> {
    let qualified = table.qualified_name();
    table
        .column_mut(name)
        .ok_or_else(|| format!("table {qualified} has no column {}", quote_ident(name)))
}

fn add_column(
    table: &mut Table,
    def: &ColumnDef,
    if_not_exists: bool,
) -> std::result::Result<(), String> {
    if table.column(&def.column.name).is_some() {
        return if if_not_exists {
            Ok(())
        } else {
            Err(format!(
                "column {} of {} already exists",
                quote_ident(&def.column.name),
                table.qualified_name()
            ))
        };
    }
    table.columns.push(def.column.clone());
    Ok(())
}

/// Drops a column; returns whether the primary key went with it (PostgreSQL drops a
/// constraint whose column is dropped).
fn drop_column(
    table: &mut Table,
    name: &str,
    if_exists: bool,
) -> std::result::Result<bool, String> {
    if table.column(name).is_none() {
        return if if_exists {
            Ok(false)
        } else {
            Err(format!(
                "table {} has no column {}",
                table.qualified_name(),
                quote_ident(name)
            ))
        };
    }
    table.columns.retain(|c| c.name != name);
    let in_key = table
        .primary_key
        .as_ref()
        .is_some_and(|key| key.iter().any(|k| k == name));
    if in_key {
        table.primary_key = None;
    }
    Ok(in_key)
}

/// A table constraint as far as the model cares.
enum TableConstraint {
    /// `PRIMARY KEY (columns)`.
    PrimaryKey(Vec<String>),
    /// `NOT NULL column` (PostgreSQL 18 dumps NOT NULL as named table constraints).
    NotNull(String),
    /// `UNIQUE`, `CHECK`, `FOREIGN KEY`, `EXCLUDE`: not in the model.
    Other,
}

/// Reads a table constraint after its optional `CONSTRAINT name`.
fn table_constraint(c: &mut Cursor<'_>) -> Step<TableConstraint> {
    if c.eat_kws(&["primary", "key"]) {
        let columns = c.ident_list()?;
        // Index parameters and deferrability do not matter here.
        c.skip_element();
        return Ok(TableConstraint::PrimaryKey(columns));
    }
    if c.eat_kws(&["not", "null"]) {
        let column = c.ident()?;
        c.skip_element();
        return Ok(TableConstraint::NotNull(column));
    }
    if ["unique", "check", "foreign", "exclude"]
        .iter()
        .any(|kw| c.peek_kw(kw))
    {
        c.skip_element();
        return Ok(TableConstraint::Other);
    }
    Err(c.syntax_error("expected PRIMARY KEY, NOT NULL, UNIQUE, CHECK, FOREIGN KEY or EXCLUDE"))
}

/// Reads `name type [constraints]` of a column; `serial` types are expanded here since
/// their default names the table.
fn column_def(c: &mut Cursor<'_>, table: &QualifiedName, names: &Resolver<'_>) -> Step<ColumnDef> {
    let name = c.ident()?;
    let mut column = match serial_type(c) {
        Some(int_type) => {
            c.next_token();
            Column {
                name: name.clone(),
                type_name: int_type.to_owned(),
                element_type: None,
                nullable: false,
                default: Some(serial_default(&table.schema, &table.name, &name)),
                identity: None,
                generated: None,
            }
        }
        None => {
            let ty = read_type(c, names)?;
            Column {
                name,
                type_name: ty.type_name,
                element_type: ty.element_type,
                nullable: true,
                default: None,
                identity: None,
                generated: None,
            }
        }
    };
    let primary_key = column_constraints(c, &mut column)?;
    Ok(ColumnDef {
        column,
        primary_key,
    })
}

/// Whether the cursor is at the end of a table element or sub-command.
fn at_element_end(c: &Cursor<'_>) -> bool {
    c.at_end() || c.peek_kind(&TokenKind::Comma) || c.peek_kind(&TokenKind::RParen)
}

/// Keywords that start a column constraint and so end a `DEFAULT` expression.
fn is_constraint_start(t: &Token) -> bool {
    const STARTS: [&str; 11] = [
        "constraint",
        "not",
        "null",
        "primary",
        "unique",
        "check",
        "references",
        "generated",
        "collate",
        "deferrable",
        "initially",
    ];
    STARTS.iter().any(|kw| t.is_kw(kw))
}

/// Reads the constraints of a column definition into `column`; returns `Some(constraint
/// name)` when the column is declared the primary key.
fn column_constraints(c: &mut Cursor<'_>, column: &mut Column) -> Step<Option<Option<String>>> {
    let mut primary_key = None;
    while !at_element_end(c) {
        let constraint_name = if c.eat_kw("constraint") {
            Some(c.ident()?)
        } else {
            None
        };
        if c.eat_kws(&["not", "null"]) {
            column.nullable = false;
        } else if c.eat_kw("null") {
            column.nullable = true;
        } else if c.eat_kw("default") {
            column.default = default_expr(c, is_constraint_start)?;
        } else if c.eat_kws(&["primary", "key"]) {
            column.nullable = false;
            primary_key = Some(constraint_name);
            index_parameters(c)?;
        } else if c.eat_kw("unique") {
            c.eat_kws(&["nulls", "not", "distinct"]);
            c.eat_kws(&["nulls", "distinct"]);
            index_parameters(c)?;
        } else if c.eat_kw("check") {
            c.paren_group()?;
            c.eat_kws(&["no", "inherit"]);
        } else if c.eat_kw("references") {
            references(c)?;
        } else if c.eat_kw("generated") {
            generated(c, column)?;
        } else if c.eat_kw("collate") {
            c.qualified_name()?;
        } else if c.eat_kw("deferrable") || c.eat_kws(&["not", "deferrable"]) {
            // Deferrability changes nothing in the model.
        } else if c.eat_kw("initially") {
            if !(c.eat_kw("deferred") || c.eat_kw("immediate")) {
                return Err(c.syntax_error("expected DEFERRED or IMMEDIATE"));
            }
        } else if c.eat_kw("compression") || c.eat_kw("storage") {
            c.ident()?;
        } else {
            return Err(c.syntax_error(format!(
                "unexpected text in the definition of column {}",
                quote_ident(&column.name)
            )));
        }
    }
    Ok(primary_key)
}

/// Reads a `DEFAULT` expression up to a top-level token `stop` accepts: `None` for
/// `NULL` (PostgreSQL stores no default for it).
fn default_expr(c: &mut Cursor<'_>, stop: impl Fn(&Token) -> bool) -> Step<Option<String>> {
    let text = c.raw_until(stop);
    if text.is_empty() {
        return Err(c.syntax_error("expected an expression"));
    }
    if text.eq_ignore_ascii_case("null") {
        return Ok(None);
    }
    Ok(Some(normalize_expr(text)))
}

/// Skips `INCLUDE (…)`, `WITH (…)` and `USING INDEX TABLESPACE x` after a key.
fn index_parameters(c: &mut Cursor<'_>) -> Step {
    loop {
        if c.eat_kw("include") || c.eat_kw("with") {
            c.paren_group()?;
        } else if c.eat_kws(&["using", "index", "tablespace"]) {
            c.ident()?;
        } else {
            return Ok(());
        }
    }
}

/// Skips the rest of a `REFERENCES` column constraint.
fn references(c: &mut Cursor<'_>) -> Step {
    c.qualified_name()?;
    if c.peek_kind(&TokenKind::LParen) {
        c.paren_group()?;
    }
    loop {
        if c.eat_kw("match") {
            c.ident()?;
        } else if c.eat_kw("on") {
            if !(c.eat_kw("delete") || c.eat_kw("update")) {
                return Err(c.syntax_error("expected DELETE or UPDATE"));
            }
            referential_action(c)?;
        } else {
            return Ok(());
        }
    }
}

fn referential_action(c: &mut Cursor<'_>) -> Step {
    if c.eat_kws(&["no", "action"]) || c.eat_kw("restrict") || c.eat_kw("cascade") {
        return Ok(());
    }
    if c.eat_kws(&["set", "null"]) || c.eat_kws(&["set", "default"]) {
        if c.peek_kind(&TokenKind::LParen) {
            c.paren_group()?;
        }
        return Ok(());
    }
    Err(c.syntax_error("expected a referential action"))
}

/// Reads what follows `GENERATED` in a column definition.
fn generated(c: &mut Cursor<'_>, column: &mut Column) -> Step {
    if c.eat_kws(&["always", "as", "identity"]) {
        set_identity(c, column, Identity::Always)
    } else if c.eat_kws(&["by", "default", "as", "identity"]) {
        set_identity(c, column, Identity::ByDefault)
    } else if c.eat_kws(&["always", "as"]) {
        let expr = c.paren_group()?;
        column.generated = Some(normalize_expr(expr));
        // STORED, or VIRTUAL (PostgreSQL 18, where it is also the default).
        let _ = c.eat_kw("stored") || c.eat_kw("virtual");
        Ok(())
    } else {
        Err(c.syntax_error("expected ALWAYS AS IDENTITY, BY DEFAULT AS IDENTITY or ALWAYS AS (…)"))
    }
}

fn set_identity(c: &mut Cursor<'_>, column: &mut Column, identity: Identity) -> Step {
    column.identity = Some(identity);
    column.nullable = false;
    if c.peek_kind(&TokenKind::LParen) {
        c.paren_group()?;
    }
    Ok(())
}

/// Reads what follows `CREATE TABLE … ( … )`: `PARTITION BY` makes the table
/// partitioned; `INHERITS (…)` names parents, returned with where each was named.
fn table_options<'a>(c: &mut Cursor<'a>, table: &mut Table) -> Step<Vec<(RawName, Cursor<'a>)>> {
    let mut parents = Vec::new();
    while !c.at_end() {
        if c.eat_kws(&["partition", "by"]) {
            table.kind = TableKind::Partitioned;
        } else if c.eat_kw("inherits") {
            c.expect(&TokenKind::LParen, "(")?;
            loop {
                parents.push((c.clone(), c.qualified_name()?));
                if !c.eat(&TokenKind::Comma) {
                    break;
                }
            }
            c.expect(&TokenKind::RParen, ")")?;
        } else if c.peek_kind(&TokenKind::LParen) {
            c.paren_group()?;
        } else {
            c.next_token();
        }
    }
    Ok(parents.into_iter().map(|(at, name)| (name, at)).collect())
}

/// Reads a string literal.
fn string(c: &mut Cursor<'_>) -> Step<String> {
    match c.peek() {
        Some(Token {
            kind: TokenKind::String(s),
            ..
        }) => {
            c.next_token();
            Ok(s.clone())
        }
        _ => Err(c.syntax_error("expected a string literal")),
    }
}

/// Reads `( 'a', 'b', … )`.
fn string_list(c: &mut Cursor<'_>) -> Step<Vec<String>> {
    c.expect(&TokenKind::LParen, "(")?;
    let mut items = Vec::new();
    if c.eat(&TokenKind::RParen) {
        return Ok(items);
    }
    loop {
        items.push(string(c)?);
        if c.eat(&TokenKind::RParen) {
            return Ok(items);
        }
        c.expect(&TokenKind::Comma, ", or )")?;
    }
}

/// Reads `( name type [COLLATE x], … )` of a composite type.
fn composite_attributes(c: &mut Cursor<'_>, names: &Resolver<'_>) -> Step<Vec<Attribute>> {
    c.expect(&TokenKind::LParen, "(")?;
    let mut attributes = Vec::new();
    if c.eat(&TokenKind::RParen) {
        return Ok(attributes);
    }
    loop {
        let name = c.ident()?;
        let ty = read_type(c, names)?;
        if c.eat_kw("collate") {
            c.qualified_name()?;
        }
        attributes.push(Attribute {
            name,
            type_name: ty.type_name,
        });
        if c.eat(&TokenKind::RParen) {
            return Ok(attributes);
        }
        c.expect(&TokenKind::Comma, ", or )")?;
    }
}

/// Reads one `DEFAULT`, `NOT NULL`, `NULL`, `CHECK` or `COLLATE` clause of a domain.
fn domain_constraint(c: &mut Cursor<'_>, domain: &mut DomainType) -> Step {
    if c.eat_kw("constraint") {
        c.ident()?;
    }
    if c.eat_kw("default") {
        let stop = |t: &Token| {
            ["constraint", "not", "null", "check", "collate"]
                .iter()
                .any(|k| t.is_kw(k))
        };
        domain.default = default_expr(c, stop)?;
    } else if c.eat_kws(&["not", "null"]) {
        domain.nullable = false;
    } else if c.eat_kw("null") {
        domain.nullable = true;
    } else if c.eat_kw("check") {
        c.paren_group()?;
        c.eat_kws(&["not", "valid"]);
    } else if c.eat_kw("collate") {
        c.qualified_name()?;
    } else {
        return Err(c.syntax_error("unexpected text in CREATE DOMAIN"));
    }
    Ok(())
}

/// Reads `ADD VALUE …` or `RENAME VALUE … TO …` of an enum.
fn alter_enum(c: &mut Cursor<'_>, labels: &mut Vec<String>) -> Step {
    if c.eat_kws(&["add", "value"]) {
        return add_enum_value(c, labels);
    }
    if c.eat_kws(&["rename", "value"]) {
        let at = c.clone();
        let from = string(c)?;
        c.expect_kws(&["to"])?;
        let to = string(c)?;
        let Some(label) = labels.iter_mut().find(|l| **l == from) else {
            return Err(at.problem(format!("unknown enum label {from:?}")));
        };
        *label = to;
        return Ok(());
    }
    Err(c.syntax_error("unsupported ALTER TYPE sub-command"))
}

/// Reads `ADD/DROP/ALTER ATTRIBUTE` (comma-separated) or `RENAME ATTRIBUTE` of a composite.
fn alter_composite(
    c: &mut Cursor<'_>,
    composite: &mut CompositeType,
    names: &Resolver<'_>,
) -> Step {
    if c.eat_kws(&["rename", "attribute"]) {
        let at = c.clone();
        let from = c.ident()?;
        c.expect_kws(&["to"])?;
        let to = c.ident()?;
        let attribute = composite.attributes.iter_mut().find(|a| a.name == from);
        let Some(attribute) = attribute else {
            return Err(at.problem(format!("unknown attribute {}", quote_ident(&from))));
        };
        attribute.name = to;
        return Ok(());
    }
    loop {
        alter_composite_action(c, composite, names)?;
        if !c.eat(&TokenKind::Comma) {
            return Ok(());
        }
    }
}

fn alter_composite_action(
    c: &mut Cursor<'_>,
    composite: &mut CompositeType,
    names: &Resolver<'_>,
) -> Step {
    let at = c.clone();
    if c.eat_kws(&["add", "attribute"]) {
        let name = c.ident()?;
        let ty = read_type(c, names)?;
        c.skip_element();
        composite.attributes.push(Attribute {
            name,
            type_name: ty.type_name,
        });
        return Ok(());
    }
    if c.eat_kws(&["drop", "attribute"]) {
        c.eat_kws(&["if", "exists"]);
        let name = c.ident()?;
        c.skip_element();
        composite.attributes.retain(|a| a.name != name);
        return Ok(());
    }
    if c.eat_kws(&["alter", "attribute"]) {
        let name = c.ident()?;
        if !(c.eat_kws(&["set", "data", "type"]) || c.eat_kw("type")) {
            return Err(c.syntax_error("expected TYPE"));
        }
        let ty = read_type(c, names)?;
        c.skip_element();
        let attribute = composite.attributes.iter_mut().find(|a| a.name == name);
        let Some(attribute) = attribute else {
            return Err(at.problem(format!("unknown attribute {}", quote_ident(&name))));
        };
        attribute.type_name = ty.type_name;
        return Ok(());
    }
    Err(c.syntax_error("unsupported ALTER TYPE sub-command"))
}

/// Reads `[IF NOT EXISTS] 'label [BEFORE|AFTER 'other']` and inserts the label.
fn add_enum_value(c: &mut Cursor<'_>, labels: &mut Vec<String>) -> Step {
    let if_not_exists = c.eat_kws(&["if", "not", "exists"]);
    let label = string(c)?;
    if labels.contains(&label) {
        return if if_not_exists {
            Ok(())
        } else {
            Err(c.problem(format!("enum label {label:?} already exists")))
        };
    }
    let before = c.eat_kw("before");
    if before || c.eat_kw("after") {
        let at = c.clone();
        let neighbour = string(c)?;
        let Some(index) = labels.iter().position(|l| *l == neighbour) else {
            return Err(at.problem(format!("unknown enum label {neighbour:?}")));
        };
        labels.insert(if before { index } else { index + 1 }, label);
    } else {
        labels.push(label);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(files: &[(&str, &str)]) -> Result<DdlSchema> {
        parse(files.iter().map(|(p, t)| (Path::new(*p), *t)))
    }

    fn error_at(files: &[(&str, &str)]) -> Diagnostic {
        match apply(files) {
            Err(Error::Schema(d)) => *d,
            other => panic!("expected a schema error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_table_in_alter_names_file_and_line() {
        let d = error_at(&[
            ("001_init.sql", "CREATE TABLE a (id int);\n"),
            (
                "002_alter.sql",
                "-- a comment\nCREATE INDEX i ON a (id);\n\nALTER TABLE\n  missing ADD COLUMN x int;\n",
            ),
        ]);
        assert_eq!(d.file, Path::new("002_alter.sql"));
        assert_eq!((d.line, d.column), (5, 3));
        assert_eq!(
            d.to_string(),
            "002_alter.sql:5:3: unknown table public.missing"
        );
        assert!(
            d.message.contains("unknown table public.missing"),
            "{}",
            d.message
        );
    }

    #[test]
    fn unsupported_sub_command_names_file_and_line() {
        let d = error_at(&[(
            "m.sql",
            "CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int,\n  FROBNICATE b;\n",
        )]);
        assert_eq!(d.file, Path::new("m.sql"));
        assert_eq!((d.line, d.column), (3, 3));
        assert!(d.to_string().starts_with("m.sql:3:3: "), "{d}");
        assert!(
            d.message.contains("unsupported ALTER TABLE sub-command"),
            "{}",
            d.message
        );
    }

    #[test]
    fn garbage_in_create_table_names_file_and_line() {
        let d = error_at(&[(
            "schema.sql",
            "CREATE TABLE ok (id int);\n\nCREATE TABLE t (\n  id int PRIMARY KEY,\n  name text WHATEVER 3\n);\n",
        )]);
        assert_eq!(d.file, Path::new("schema.sql"));
        assert_eq!((d.line, d.column), (5, 13));
        assert_eq!(
            d.to_string(),
            "schema.sql:5:13: unexpected text in the definition of column name, found `WHATEVER`"
        );
    }

    #[test]
    fn unknown_column_in_alter_is_an_error() {
        let d = error_at(&[(
            "m.sql",
            "CREATE TABLE a (id int);\nALTER TABLE a RENAME COLUMN nope TO yes;\n",
        )]);
        assert_eq!(d.line, 2);
        assert!(d.message.contains("no column nope"), "{}", d.message);
    }

    #[test]
    fn unterminated_string_is_an_error_with_a_line() {
        let d = error_at(&[("m.sql", "CREATE TABLE a (id int);\nSELECT 'oops;\n")]);
        assert_eq!(d.line, 2);
    }

    #[test]
    fn alter_table_sub_commands_apply_in_order() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TABLE IF NOT EXISTS t (a int, b text, c int);
             CREATE TABLE IF NOT EXISTS t (zzz int);
             ALTER TABLE t ADD COLUMN d serial, DROP COLUMN c, ALTER b SET NOT NULL;
             ALTER TABLE ONLY t ALTER COLUMN a SET DATA TYPE bigint USING a::bigint;
             ALTER TABLE t ALTER a SET DEFAULT 7, ADD CONSTRAINT t_key PRIMARY KEY (a, b);
             ALTER TABLE t RENAME b TO bee;
             ALTER TABLE t RENAME TO tt;
             ALTER TABLE tt DROP CONSTRAINT t_key;
             ALTER TABLE IF EXISTS nothing ADD COLUMN x int;
             INSERT INTO tt VALUES (1, 'x');",
        )])
        .unwrap();
        let t = schema.schema.table("public", "tt").unwrap();
        let names: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "bee", "d"]);
        assert_eq!(t.primary_key, None);
        let a = t.column("a").unwrap();
        assert_eq!((a.type_name.as_str(), a.nullable), ("bigint", false));
        assert_eq!(a.default.as_deref(), Some("7"));
        assert_eq!(
            t.column("d").unwrap().default.as_deref(),
            Some("nextval('public.t_d_seq'::regclass)")
        );
        assert_eq!(schema.renames.len(), 2);
        assert_eq!(schema.renames[0].line, 6);
    }

    #[test]
    fn enum_values_are_added_where_asked() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TYPE m AS ENUM ('b');
             ALTER TYPE m ADD VALUE 'd';
             ALTER TYPE m ADD VALUE 'a' BEFORE 'b';
             ALTER TYPE public.m ADD VALUE IF NOT EXISTS 'c' AFTER 'b';
             ALTER TYPE m ADD VALUE IF NOT EXISTS 'c';",
        )])
        .unwrap();
        assert_eq!(schema.schema.enums[0].labels, ["a", "b", "c", "d"]);
    }

    #[test]
    fn migration_files_take_up_migrations_in_name_order() {
        let dir = std::env::temp_dir().join(format!("ddl-migration-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("2024-01-02_b")).unwrap();
        std::fs::create_dir_all(dir.join("2024-01-01_a")).unwrap();
        for f in [
            "2_x.up.sql",
            "10_later.sql",
            "2_x.down.sql",
            "1_init.sql",
            "notes.txt",
            "2024-01-02_b/up.sql",
            "2024-01-02_b/down.sql",
            "2024-01-01_a/up.sql",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let files: Vec<_> = migration_files(&dir)
            .unwrap()
            .into_iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            files,
            [
                "1_init.sql",
                "2_x.up.sql",
                "10_later.sql",
                "2024-01-01_a/up.sql",
                "2024-01-02_b/up.sql"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn partitions_follow_their_parent() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TABLE p (a int NOT NULL, b text DEFAULT 'x'::text, c int GENERATED ALWAYS AS IDENTITY)
                 PARTITION BY LIST (a);
             CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);
             CREATE TABLE p2 (a int NOT NULL, b text, c int NOT NULL);
             ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (2);
             ALTER TABLE p ADD COLUMN d date, ADD PRIMARY KEY (a, c);
             ALTER TABLE ONLY p ALTER COLUMN b DROP DEFAULT;
             ALTER TABLE p RENAME COLUMN d TO day;",
        )])
        .unwrap();
        let p1 = schema.schema.table("public", "p1").unwrap();
        let names: Vec<_> = p1.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "day"]);
        assert_eq!(
            p1.column("b").unwrap().default.as_deref(),
            Some("'x'::text")
        );
        assert_eq!(p1.column("c").unwrap().identity, None);
        assert_eq!(p1.primary_key, Some(vec!["a".to_owned(), "c".to_owned()]));
        let p = schema.schema.table("public", "p").unwrap();
        assert_eq!(p.kind, TableKind::Partitioned);
        assert_eq!(p.column("b").unwrap().default, None);
        let p2 = schema.schema.table("public", "p2").unwrap();
        assert_eq!(p2.partition_of, Some(QualifiedName::new("public", "p")));
        assert!(p2.column("day").is_some());
        assert_eq!(schema.renames.len(), 3);
    }

    #[test]
    fn primary_keys_are_dropped_by_their_constraint_name_only() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TABLE a (id int PRIMARY KEY, u int UNIQUE);
             CREATE TABLE b (id int CONSTRAINT b_key PRIMARY KEY);
             ALTER TABLE a DROP CONSTRAINT a_u_key;
             ALTER TABLE b DROP CONSTRAINT b_pkey;
             ALTER TABLE a RENAME CONSTRAINT a_pkey TO a_key;
             ALTER TABLE a RENAME TO c;
             ALTER TABLE c DROP CONSTRAINT a_key;",
        )])
        .unwrap();
        assert_eq!(
            schema.schema.table("public", "c").unwrap().primary_key,
            None
        );
        let b = schema.schema.table("public", "b").unwrap();
        assert_eq!(b.primary_key.as_deref(), Some(&["id".to_owned()][..]));
    }

    #[test]
    fn type_renames_reach_columns_and_cast_defaults() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TYPE mood AS ENUM ('ok');
             CREATE TABLE t (m mood DEFAULT 'ok'::public.mood, ms mood[], mx public.mood_x);
             ALTER TYPE mood RENAME TO feeling;",
        )])
        .unwrap();
        let t = schema.schema.table("public", "t").unwrap();
        let m = t.column("m").unwrap();
        assert_eq!(m.type_name, "public.feeling");
        assert_eq!(m.default.as_deref(), Some("'ok'::public.feeling"));
        assert_eq!(t.column("ms").unwrap().type_name, "public.feeling[]");
        assert_eq!(t.column("mx").unwrap().type_name, "public.mood_x");
    }

    #[test]
    fn postgres_18_not_null_constraints_and_virtual_columns_are_read() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TABLE t (a int, b int GENERATED ALWAYS AS ((a + 1)) VIRTUAL,
                             CONSTRAINT t_a_not_null NOT NULL a);
             CREATE TABLE u (x int);
             ALTER TABLE u ADD CONSTRAINT u_x_not_null NOT NULL x;",
        )])
        .unwrap();
        let t = schema.schema.table("public", "t").unwrap();
        assert!(!t.column("a").unwrap().nullable);
        assert_eq!(t.column("b").unwrap().generated.as_deref(), Some("(a + 1)"));
        let u = schema.schema.table("public", "u").unwrap();
        assert!(!u.column("x").unwrap().nullable);
    }

    #[test]
    fn statements_that_do_not_shape_tables_are_skipped() {
        let schema = apply(&[(
            "m.sql",
            "BEGIN;
             CREATE TABLE t (id int);
             CREATE TEMP TABLE scratch (x int);
             CREATE OR REPLACE VIEW v AS SELECT 1;
             CREATE INDEX ON t (id);
             INSERT INTO t VALUES (1);
             DO $$ BEGIN EXECUTE 'ALTER TABLE t DROP COLUMN id'; END $$;
             GRANT SELECT ON t TO PUBLIC;
             ALTER TABLE t OWNER TO someone;
             ALTER TABLE view_or_sequence OWNER TO someone;
             COMMIT;",
        )])
        .unwrap();
        assert_eq!(schema.schema.tables.len(), 1);
        assert_eq!(schema.schema.tables[0].columns.len(), 1);
    }

    #[test]
    fn a_table_cannot_become_its_own_partition() {
        let d = error_at(&[(
            "m.sql",
            "CREATE TABLE p (a int) PARTITION BY LIST (a);
             CREATE TABLE q PARTITION OF p FOR VALUES IN (1) PARTITION BY LIST (a);
             ALTER TABLE q ATTACH PARTITION p FOR VALUES IN (1);",
        )]);
        assert_eq!(d.line, 3);
        assert!(d.message.contains("partition of itself"), "{}", d.message);
    }

    #[test]
    fn like_copies_columns_and_what_the_options_include() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TABLE src (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                               v text NOT NULL DEFAULT 'x'::text);
             CREATE TABLE plain (LIKE src, extra int);
             CREATE TABLE full_copy (LIKE src INCLUDING ALL EXCLUDING IDENTITY);",
        )])
        .unwrap();
        let plain = schema.schema.table("public", "plain").unwrap();
        let names: Vec<_> = plain.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "v", "extra"]);
        assert_eq!(plain.primary_key, None);
        let v = plain.column("v").unwrap();
        assert_eq!((v.nullable, v.default.as_deref()), (false, None));
        assert_eq!(plain.column("id").unwrap().identity, None);
        let full = schema.schema.table("public", "full_copy").unwrap();
        assert_eq!(full.primary_key.as_deref(), Some(&["id".to_owned()][..]));
        assert_eq!(
            full.column("v").unwrap().default.as_deref(),
            Some("'x'::text")
        );
        assert_eq!(full.column("id").unwrap().identity, None);
    }

    #[test]
    fn sequence_renames_reach_serial_defaults() {
        let schema = apply(&[(
            "m.sql",
            "CREATE TABLE t (id serial, n bigserial);
             ALTER SEQUENCE t_id_seq RENAME TO \"Ticket Numbers\";
             CREATE SCHEMA s;
             ALTER SEQUENCE public.t_n_seq SET SCHEMA s;
             ALTER SEQUENCE s.t_n_seq OWNED BY public.t.n;",
        )])
        .unwrap();
        let t = schema.schema.table("public", "t").unwrap();
        assert_eq!(
            t.column("id").unwrap().default.as_deref(),
            Some("nextval('public.\"Ticket Numbers\"'::regclass)")
        );
        assert_eq!(
            t.column("n").unwrap().default.as_deref(),
            Some("nextval('s.t_n_seq'::regclass)")
        );
    }

    #[test]
    fn unqualified_names_follow_the_search_path() {
        let schema = apply(&[
            (
                "1.sql",
                "CREATE SCHEMA app;
                 SET search_path TO app, public;
                 CREATE TYPE mood AS ENUM ('ok');
                 CREATE TABLE t (m mood, n public.mood2);
                 CREATE TYPE public.mood2 AS ENUM ('x');
                 SET search_path = \"$user\", public;
                 CREATE TABLE u (m mood2, o mood);
                 SELECT pg_catalog.set_config('search_path', 'app', false);
                 ALTER TABLE t ADD COLUMN x int;",
            ),
            // A new file starts with the default path again.
            ("2.sql", "CREATE TABLE v (id int);"),
        ])
        .unwrap();
        let t = schema.schema.table("app", "t").unwrap();
        assert_eq!(t.column("m").unwrap().type_name, "app.mood");
        assert!(t.column("x").is_some());
        let u = schema.schema.table("public", "u").unwrap();
        assert_eq!(u.column("m").unwrap().type_name, "public.mood2");
        // Not on the path: taken to be in the first schema of the path.
        assert_eq!(u.column("o").unwrap().type_name, "public.mood");
        assert!(schema.schema.table("public", "v").is_some());
        assert_eq!(schema.schema.enums[0].schema, "app");
    }
}
