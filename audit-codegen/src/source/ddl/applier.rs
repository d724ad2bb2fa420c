//! The schema being built: applies each statement that shapes tables or types.

use super::*;

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
pub(super) fn move_sequence_defaults(table: &mut Table, from: &str, to: &str) {
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
pub(super) fn for_each_type_reference(schema: &mut Schema, mut f: impl FnMut(&mut String)) {
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
pub(super) fn for_each_expression(schema: &mut Schema, mut f: impl FnMut(&mut String)) {
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
pub(super) fn retype(type_name: &mut String, old: &str, new: &str) {
    if type_name == old {
        *type_name = new.to_owned();
    } else if type_name.strip_suffix("[]") == Some(old) {
        *type_name = format!("{new}[]");
    }
}

/// Replaces casts to `old` (`::old`, `::old[]`) by casts to `new` in an expression, as the
/// deparser would print them after a type rename.
pub(super) fn replace_cast(expr: &str, old: &str, new: &str) -> String {
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
pub(super) fn diagnostic(path: &Path, p: Problem) -> Error {
    Error::Schema(Box::new(Diagnostic::new(path, p.line, p.column, p.message)))
}
