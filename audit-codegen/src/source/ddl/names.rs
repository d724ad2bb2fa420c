//! How unqualified names resolve: the `search_path` of the statements read so far.

use super::*;

/// The schema of PostgreSQL's default `search_path` (`"$user", public`; no schemas named
/// after roles are assumed).
pub(super) const DEFAULT_SCHEMA: &str = "public";

/// Resolves unqualified names like PostgreSQL does with a `search_path`: the first schema
/// of the path that has the object, or (for new objects and unknown names) the first
/// schema of the path.
pub(super) struct Resolver<'s> {
    pub(super) schema: &'s Schema,
    pub(super) search_path: &'s [String],
}

impl Resolver<'_> {
    /// The schema new objects are created in.
    pub(super) fn creation_schema(&self) -> String {
        self.search_path
            .first()
            .cloned()
            .unwrap_or_else(|| DEFAULT_SCHEMA.to_owned())
    }

    /// The name a new object written as `(schema, name)` gets.
    pub(super) fn new_name(&self, (schema, name): (Option<String>, String)) -> QualifiedName {
        QualifiedName::new(schema.unwrap_or_else(|| self.creation_schema()), name)
    }

    /// The existing table written as `(schema, name)` (or where it would be).
    pub(super) fn table_name(&self, (schema, name): (Option<String>, String)) -> QualifiedName {
        let exists = |s: &String| self.schema.table(s, &name).is_some();
        let schema = schema.or_else(|| self.search_path.iter().find(|s| exists(s)).cloned());
        self.new_name((schema, name))
    }

    /// The existing user-defined type written as `(schema, name)` (or where it would be).
    pub(super) fn type_name(&self, (schema, name): (Option<String>, String)) -> QualifiedName {
        let schema = schema.unwrap_or_else(|| self.schema_of_type(&name));
        QualifiedName::new(schema, name)
    }

    pub(super) fn has_type(&self, schema: &str, name: &str) -> bool {
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

/// Reads a change of `search_path`: `SET [SESSION|LOCAL] search_path {TO|=} …`, `RESET
/// search_path`, or `SELECT [pg_catalog.]set_config('search_path', '…', …)` as `pg_dump`
/// writes it. `None` when the statement is something else.
pub(super) fn search_path_change(c: &mut Cursor<'_>) -> Step<Option<Vec<String>>> {
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
pub(super) fn set_search_path(c: &mut Cursor<'_>) -> Step<Vec<String>> {
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
pub(super) fn search_path_from_config(value: &str) -> Vec<String> {
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
pub(super) fn searched_schemas(schemas: Vec<String>) -> Vec<String> {
    schemas
        .into_iter()
        .filter(|s| s != "$user" && !s.starts_with("pg_"))
        .collect()
}
