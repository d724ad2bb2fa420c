//! Readers of the clauses of `CREATE TABLE`, `ALTER TABLE` and the type statements.
//!
//! They only read: what they return is applied by the [`Applier`](super::Applier).

use super::*;

/// One sub-command of `ALTER TABLE`, read but not yet applied.
pub(super) enum Action {
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
    pub(super) fn recurses(&self) -> bool {
        !matches!(
            self,
            Action::SetIdentity(..) | Action::DropExpression(_) | Action::Ignored
        )
    }
}

/// A column definition and whether it declared itself the primary key.
pub(super) struct ColumnDef {
    pub(super) column: Column,
    /// `Some(constraint name)` when the column said `PRIMARY KEY`.
    pub(super) primary_key: Option<Option<String>>,
}

/// Skips the `*` of `ALTER TABLE name *` (descendants included, the default anyway).
pub(super) fn eat_star(c: &mut Cursor<'_>) {
    if c.peek().is_some_and(|t| t.kind == TokenKind::Other) && c.rest().starts_with('*') {
        c.next_token();
    }
}

/// Whether an `ALTER TABLE` on an unknown relation only does things the model ignores
/// (for example `OWNER TO` on a view or sequence).
pub(super) fn is_ignorable_alter(c: &Cursor<'_>) -> bool {
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
pub(super) fn is_ignorable_subcommand(c: &Cursor<'_>) -> bool {
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
pub(super) fn alter_action(
    c: &mut Cursor<'_>,
    table: &QualifiedName,
    names: &Resolver<'_>,
) -> Step<Action> {
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

pub(super) fn alter_add(
    c: &mut Cursor<'_>,
    table: &QualifiedName,
    names: &Resolver<'_>,
) -> Step<Action> {
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

pub(super) fn alter_drop(c: &mut Cursor<'_>) -> Step<Action> {
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

pub(super) fn eat_drop_behavior(c: &mut Cursor<'_>) {
    let _ = c.eat_kw("cascade") || c.eat_kw("restrict");
}

/// Reads what follows `ALTER [COLUMN] name`.
pub(super) fn alter_column(
    c: &mut Cursor<'_>,
    column: String,
    names: &Resolver<'_>,
) -> Step<Action> {
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

pub(super) fn identity_kind(c: &mut Cursor<'_>) -> Step<Identity> {
    if c.eat_kw("always") {
        Ok(Identity::Always)
    } else if c.eat_kws(&["by", "default"]) {
        Ok(Identity::ByDefault)
    } else {
        Err(c.syntax_error("expected ALWAYS or BY DEFAULT"))
    }
}

/// Reads `( element, … )` of `CREATE TABLE` into `table`; returns the primary key's
/// constraint name when one was given.
pub(super) fn table_elements(
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
pub(super) fn table_element(
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
pub(super) fn starts_table_constraint(c: &Cursor<'_>) -> bool {
    const RESERVED_STARTS: [&str; 5] = ["constraint", "primary", "unique", "check", "foreign"];
    RESERVED_STARTS.iter().any(|kw| c.peek_kw(kw))
        || c.peek_kw("exclude")
            && c.peek_nth(1)
                .is_some_and(|t| t.is_kw("using") || t.kind == TokenKind::LParen)
}

/// What `LIKE source [INCLUDING …|EXCLUDING …]` copies besides names, types and NOT NULL.
#[derive(Default)]
pub(super) struct LikeOptions {
    defaults: bool,
    generated: bool,
    identity: bool,
    indexes: bool,
}

/// Reads `LIKE source [{INCLUDING|EXCLUDING} option]…` and copies the source's columns
/// (and, with `INCLUDING INDEXES`, its primary key) into `table`.
pub(super) fn like_clause(
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

pub(super) fn like_options(c: &mut Cursor<'_>) -> Step<LikeOptions> {
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
pub(super) fn primary_key_element(
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

/// A table constraint as far as the model cares.
pub(super) enum TableConstraint {
    /// `PRIMARY KEY (columns)`.
    PrimaryKey(Vec<String>),
    /// `NOT NULL column` (PostgreSQL 18 dumps NOT NULL as named table constraints).
    NotNull(String),
    /// `UNIQUE`, `CHECK`, `FOREIGN KEY`, `EXCLUDE`: not in the model.
    Other,
}

/// Reads a table constraint after its optional `CONSTRAINT name`.
pub(super) fn table_constraint(c: &mut Cursor<'_>) -> Step<TableConstraint> {
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
pub(super) fn column_def(
    c: &mut Cursor<'_>,
    table: &QualifiedName,
    names: &Resolver<'_>,
) -> Step<ColumnDef> {
    let name = c.ident()?;
    let mut column = match serial_type(c) {
        Some(int_type) => {
            c.next_token();
            Column {
                nullable: false,
                default: Some(serial_default(&table.schema, &table.name, &name)),
                ..Column::new(name, int_type)
            }
        }
        None => {
            let ty = read_type(c, names)?;
            Column {
                element_type: ty.element_type,
                ..Column::new(name, ty.type_name)
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
pub(super) fn at_element_end(c: &Cursor<'_>) -> bool {
    c.at_end() || c.peek_kind(&TokenKind::Comma) || c.peek_kind(&TokenKind::RParen)
}

/// Keywords that start a column constraint and so end a `DEFAULT` expression.
pub(super) fn is_constraint_start(t: &Token) -> bool {
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
pub(super) fn column_constraints(
    c: &mut Cursor<'_>,
    column: &mut Column,
) -> Step<Option<Option<String>>> {
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
pub(super) fn default_expr(
    c: &mut Cursor<'_>,
    stop: impl Fn(&Token) -> bool,
) -> Step<Option<String>> {
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
pub(super) fn index_parameters(c: &mut Cursor<'_>) -> Step {
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
pub(super) fn references(c: &mut Cursor<'_>) -> Step {
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

pub(super) fn referential_action(c: &mut Cursor<'_>) -> Step {
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
pub(super) fn generated(c: &mut Cursor<'_>, column: &mut Column) -> Step {
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

pub(super) fn set_identity(c: &mut Cursor<'_>, column: &mut Column, identity: Identity) -> Step {
    column.identity = Some(identity);
    column.nullable = false;
    if c.peek_kind(&TokenKind::LParen) {
        c.paren_group()?;
    }
    Ok(())
}

/// Reads what follows `CREATE TABLE … ( … )`: `PARTITION BY` makes the table
/// partitioned; `INHERITS (…)` names parents, returned with where each was named.
pub(super) fn table_options<'a>(
    c: &mut Cursor<'a>,
    table: &mut Table,
) -> Step<Vec<(RawName, Cursor<'a>)>> {
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
pub(super) fn string(c: &mut Cursor<'_>) -> Step<String> {
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
pub(super) fn string_list(c: &mut Cursor<'_>) -> Step<Vec<String>> {
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
pub(super) fn composite_attributes(
    c: &mut Cursor<'_>,
    names: &Resolver<'_>,
) -> Step<Vec<Attribute>> {
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
pub(super) fn domain_constraint(c: &mut Cursor<'_>, domain: &mut DomainType) -> Step {
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
pub(super) fn alter_enum(c: &mut Cursor<'_>, labels: &mut Vec<String>) -> Step {
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
pub(super) fn alter_composite(
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

pub(super) fn alter_composite_action(
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

/// Reads `[IF NOT EXISTS] 'label' [BEFORE|AFTER 'other']` and inserts the label.
pub(super) fn add_enum_value(c: &mut Cursor<'_>, labels: &mut Vec<String>) -> Step {
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
