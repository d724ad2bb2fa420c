//! Validation of a parsed manifest against the schema model, producing the
//! [`AuditSpec`]. Every check records a diagnostic and carries on, so one run reports
//! every problem.

use super::location::SourceFile;
use super::names::toml_key;
use super::names::{parse_table_key, table_header, table_key};
use super::raw::{RawManifest, RawRust, RawTable};
use super::rust_syntax::{check_attributes, check_field_name, check_type, check_type_name};
use super::sql_type::{self, SqlType, parse_sql_type};
use super::suggest::closest;
use super::{DEFAULT_ACTOR_ID_TYPE, DEFAULT_AUDIT_SCHEMA};
use crate::Diagnostic;
use crate::model::{QualifiedName, Schema, Table};
use crate::spec::{
    AuditSpec, AuditedTable, ColumnOverride, HistoryOptions, Rename, RustOptions, TimeCrate,
};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use toml::Spanned;

/// PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

pub(crate) fn resolve(
    file: &SourceFile,
    raw: &RawManifest,
    schema: &Schema,
    split_table_keys: &BTreeSet<String>,
) -> Result<AuditSpec, Vec<Diagnostic>> {
    let mut r = Resolver {
        file,
        schema,
        split_table_keys,
        diagnostics: Vec::new(),
    };
    let actor_id_type = r.actor_id_type(raw.actor_id_type.as_ref());
    let rust = r.rust_options(&raw.rust);
    let tables = r.tables(raw);
    let audit_schema = r.audit_schema(raw.audit_schema.as_ref(), &tables);
    let activity =
        super::activity::activity(file, &raw.activity, &audit_schema, &mut r.diagnostics);
    if !r.diagnostics.is_empty() {
        return Err(r.diagnostics);
    }
    let renames = r.renames(raw);
    if !r.diagnostics.is_empty() {
        return Err(r.diagnostics);
    }
    let mut tables: Vec<AuditedTable> = tables.into_iter().map(|(_, t)| t).collect();
    tables.sort_by(|a, b| (&a.table.schema, &a.table.name).cmp(&(&b.table.schema, &b.table.name)));
    Ok(AuditSpec {
        audit_schema,
        actor_id_type,
        tables,
        rust,
        schema: schema.clone(),
        renames,
        activity,
    })
}

struct Resolver<'a> {
    file: &'a SourceFile,
    schema: &'a Schema,
    /// Table keys already reported as `[tables.schema.table]` written unquoted.
    split_table_keys: &'a BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

/// `[tables.<key>.columns.<column>]` written as TOML needs it, for help messages.
fn column_header(table: &QualifiedName, column: &str) -> String {
    format!(
        "[tables.{}.columns.{}]",
        toml_key(&table_key(table)),
        toml_key(column)
    )
}

/// Entries of a TOML table in the order they appear in the file (a `BTreeMap` orders
/// them by name), so "listed twice" points at the later spelling.
fn in_file_order<K, V>(map: &BTreeMap<Spanned<K>, V>) -> Vec<(&Spanned<K>, &V)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

impl Resolver<'_> {
    fn error(&mut self, span: &Range<usize>, message: String, help: Option<String>) {
        let mut d = self.file.at(span, message);
        d.help = help;
        self.diagnostics.push(d);
    }

    // ---- tables -------------------------------------------------------------------

    /// The audited tables (in file order) with the span of their key.
    fn tables(&mut self, raw: &RawManifest) -> Vec<(Range<usize>, AuditedTable)> {
        let mut seen: BTreeMap<QualifiedName, (String, usize)> = BTreeMap::new();
        let mut rust_names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut audited = Vec::new();
        for (key, table) in in_file_order(&raw.tables) {
            let name = match parse_table_key(key.get_ref()) {
                Ok(name) => name,
                // `[tables."Odd Schema"."My Table"]`: reported as an unknown key, with
                // the key that was meant.
                Err(_) if self.split_table_keys.contains(key.get_ref()) => {
                    self.check_table_options(table, None);
                    continue;
                }
                Err(why) => {
                    let help = "write `table` or `schema.table`; double-quote parts with \
                                other characters, e.g. [tables.'\"Odd Schema\".\"My Table\"']";
                    self.error(
                        &key.span(),
                        format!("invalid table key {:?}: it {why}", key.get_ref()),
                        Some(help.into()),
                    );
                    self.check_table_options(table, None);
                    continue;
                }
            };
            if let Some((first, line)) = seen.get(&name) {
                let message = format!(
                    "table {name} is listed twice: {:?} and {first:?} (line {line}) name the same table",
                    key.get_ref(),
                );
                let help = "merge the two entries into one".to_owned();
                self.error(&key.span(), message, Some(help));
                continue;
            }
            let line = self.file.line_column(key.span().start).0;
            seen.insert(name.clone(), (key.get_ref().clone(), line));
            if let Some(rust_name) = &table.rust_name {
                self.check_rust_name_unique(rust_name, &mut rust_names);
            }
            match self.schema.table(&name.schema, &name.name) {
                None => {
                    // `[tables.blog.post]`: the unknown key `post` already says what to
                    // write, and `blog` is no table name.
                    if !self.split_table_keys.contains(key.get_ref()) {
                        self.unknown_table(key, &name);
                    }
                    self.check_table_options(table, None);
                }
                Some(found) => {
                    let resolved = self.check_table_options(table, Some(found));
                    if let Some(resolved) = resolved {
                        self.check_field_names(table, &resolved, &key.span());
                        audited.push((key.span(), resolved));
                    }
                }
            }
        }
        self.check_partitions(&audited);
        audited
    }

    /// Two tables with the same `rust_name` would generate clashing types.
    fn check_rust_name_unique<'r>(
        &mut self,
        rust_name: &'r Spanned<String>,
        seen: &mut BTreeMap<&'r str, usize>,
    ) {
        let line = self.file.line_column(rust_name.span().start).0;
        if let Some(&first) = seen.get(rust_name.get_ref().as_str()) {
            let message = format!(
                "rust_name {:?} is already used on line {first}; \
                 two tables cannot share generated type names",
                rust_name.get_ref()
            );
            self.error(&rust_name.span(), message, None);
        } else {
            seen.insert(rust_name.get_ref(), line);
        }
    }

    fn unknown_table(&mut self, key: &Spanned<String>, name: &QualifiedName) {
        let schemas = self.schema_names();
        if !schemas.contains(name.schema.as_str()) {
            let help = closest(&name.schema, schemas.iter().copied())
                .map(|s| format!("did you mean schema {:?}?", s));
            let message = format!(
                "unknown schema {:?} in table key {:?}",
                name.schema,
                key.get_ref()
            );
            self.error(&key.span(), message, help);
            return;
        }
        let keys: Vec<(String, QualifiedName)> = self
            .schema
            .tables
            .iter()
            .map(|t| (table_key(&t.qualified_name()), t.qualified_name()))
            .collect();
        let wanted = table_key(name);
        let help = closest(&wanted, keys.iter().map(|(k, _)| k.as_str())).and_then(|k| {
            let (_, q) = keys.iter().find(|(key, _)| key == k)?;
            Some(format!("did you mean {}?", table_header(q)))
        });
        self.error(&key.span(), format!("unknown table {name}"), help);
    }

    /// Every schema the model mentions.
    fn schema_names(&self) -> BTreeSet<&str> {
        let s = self.schema;
        s.tables
            .iter()
            .map(|t| t.schema.as_str())
            .chain(s.enums.iter().map(|t| t.schema.as_str()))
            .chain(s.domains.iter().map(|t| t.schema.as_str()))
            .chain(s.composites.iter().map(|t| t.schema.as_str()))
            .collect()
    }

    /// Checks the options of one table entry. Without the table (unknown or invalid key)
    /// only the checks that do not need its columns run.
    fn check_table_options(
        &mut self,
        raw: &RawTable,
        table: Option<&Table>,
    ) -> Option<AuditedTable> {
        if let Some(name) = &raw.rust_name
            && let Err((why, fix)) = check_type_name(name.get_ref())
        {
            let help = fix.map(|f| format!("did you mean {f:?}?"));
            self.error(
                &name.span(),
                format!("invalid rust_name {:?}: it {why}", name.get_ref()),
                help,
            );
        }
        let excluded = self.excluded(raw, table);
        let mut columns = Vec::new();
        for (column, settings) in in_file_order(&raw.columns) {
            if let Some(table) = table {
                if table.column(column.get_ref()).is_none() {
                    self.unknown_column(column, table);
                } else if excluded.contains(column.get_ref()) {
                    let message = format!(
                        "column {:?} of {} is excluded, so its settings have no effect",
                        column.get_ref(),
                        table.qualified_name()
                    );
                    let help = "remove the column from exclude or remove its settings";
                    self.error(&column.span(), message, Some(help.into()));
                }
            }
            if let Some(rust_name) = &settings.rust_name
                && let Err((why, fix)) = check_field_name(rust_name.get_ref())
            {
                let message = format!(
                    "invalid rust_name {:?} for column {:?}: it {why}",
                    rust_name.get_ref(),
                    column.get_ref()
                );
                let help = fix.map(|f| format!("did you mean {f:?}?"));
                self.error(&rust_name.span(), message, help);
            }
            if let Some(rust_type) = &settings.rust_type
                && let Err(why) = check_type(rust_type.get_ref())
            {
                let message = format!("invalid rust_type {:?}: it {why}", rust_type.get_ref());
                self.error(&rust_type.span(), message, None);
            }
            for attribute in &settings.attributes {
                if let Err(why) = check_attributes(attribute.get_ref()) {
                    let message = format!("invalid attribute {:?}: it {why}", attribute.get_ref());
                    let help = "write complete outer attributes, e.g. \"#[serde(default)]\"";
                    self.error(&attribute.span(), message, Some(help.into()));
                }
            }
            columns.push(ColumnOverride {
                column: column.get_ref().clone(),
                rust_type: settings
                    .rust_type
                    .as_ref()
                    .map(|t| t.get_ref().trim().to_owned()),
                rust_name: settings.rust_name.as_ref().map(|n| n.get_ref().clone()),
                attributes: settings
                    .attributes
                    .iter()
                    .map(|a| a.get_ref().trim().to_owned())
                    .collect(),
            });
        }
        columns.sort_by(|a, b| a.column.cmp(&b.column));
        let table = table?;
        Some(AuditedTable {
            table: table.clone(),
            excluded: table
                .columns
                .iter()
                .filter(|c| excluded.contains(&c.name))
                .map(|c| c.name.clone())
                .collect(),
            record_truncate: raw.truncate,
            rust_name: raw.rust_name.as_ref().map(|n| n.get_ref().clone()),
            columns,
            history: HistoryOptions {
                purge_dropped: raw.purge_dropped,
                purge_excluded: raw.purge_excluded,
            },
        })
    }

    /// Two audited columns must not end up with one Rust field name, whether derived
    /// from the column names (`a b` and `a_b` both give `a_b`) or set with `rust_name`.
    fn check_field_names(&mut self, raw: &RawTable, audited: &AuditedTable, key: &Range<usize>) {
        let table = &audited.table;
        let chosen = |column: &str| {
            raw.columns
                .iter()
                .find(|(k, _)| k.get_ref() == column)
                .and_then(|(_, c)| c.rust_name.as_ref())
        };
        let mut fields: BTreeMap<String, &str> = BTreeMap::new();
        // Derived names first, so an override is reported where it collides.
        let (named, derived): (Vec<_>, Vec<_>) = audited
            .audited_columns()
            .partition(|c| chosen(&c.name).is_some());
        for column in derived {
            let field = crate::rust::names::field_name(&column.name);
            if let Some(other) = fields.get(&field) {
                let message = format!(
                    "columns {other:?} and {:?} of {} both become the Rust field `{field}`",
                    column.name,
                    table.qualified_name()
                );
                let help = format!(
                    "set another field name for one of them, e.g. rust_name = \"{}2\" under {}",
                    field.trim_start_matches("r#"),
                    column_header(&table.qualified_name(), &column.name),
                );
                self.error(key, message, Some(help));
                continue;
            }
            fields.insert(field, &column.name);
        }
        for column in named {
            let Some(name) = chosen(&column.name) else {
                continue;
            };
            if check_field_name(name.get_ref()).is_err() {
                continue; // reported with its reason
            }
            match fields.get(name.get_ref().as_str()) {
                Some(other) => {
                    let message = format!(
                        "rust_name {:?} for column {:?} is also the Rust field of column {other:?} of {}",
                        name.get_ref(),
                        column.name,
                        table.qualified_name()
                    );
                    let help =
                        "each audited column needs its own field name; choose another rust_name";
                    self.error(&name.span(), message, Some(help.into()));
                }
                None => {
                    fields.insert(name.get_ref().clone(), &column.name);
                }
            }
        }
    }

    /// The renames the manifest declares (`renamed_from` on tables and columns): table
    /// renames first, then column renames under the tables' current names.
    fn renames(&mut self, raw: &RawManifest) -> Vec<Rename> {
        let mut tables = Vec::new();
        let mut columns = Vec::new();
        for (key, table) in in_file_order(&raw.tables) {
            let Ok(current) = parse_table_key(key.get_ref()) else {
                continue;
            };
            if let Some(from) = &table.renamed_from {
                match parse_table_key(from.get_ref()) {
                    Ok(previous) if previous == current => self.error(
                        &from.span(),
                        format!("renamed_from {:?} is the table's own name", from.get_ref()),
                        None,
                    ),
                    Ok(previous) => tables.push(Rename::Table {
                        from: previous,
                        to: current.clone(),
                    }),
                    Err(why) => self.error(
                        &from.span(),
                        format!("invalid renamed_from {:?}: {why}", from.get_ref()),
                        None,
                    ),
                }
            }
            for (column, settings) in in_file_order(&table.columns) {
                let Some(from) = &settings.renamed_from else {
                    continue;
                };
                let why = if from.get_ref() == column.get_ref() {
                    Some(String::new())
                } else {
                    // A name PostgreSQL could never have given the column (empty, with a
                    // NUL, longer than 63 bytes) cannot be in its history.
                    crate::ident::check_identifier("the previous name", from.get_ref())
                        .err()
                        .map(|why| format!(": {why}"))
                };
                if let Some(why) = why {
                    self.error(
                        &from.span(),
                        format!(
                            "invalid renamed_from {:?} for column {:?}{why}",
                            from.get_ref(),
                            column.get_ref()
                        ),
                        None,
                    );
                    continue;
                }
                columns.push(Rename::Column {
                    table: current.clone(),
                    from: from.get_ref().clone(),
                    to: column.get_ref().clone(),
                });
            }
        }
        tables.extend(columns);
        tables
    }

    /// The valid `exclude` entries of a table.
    fn excluded(&mut self, raw: &RawTable, table: Option<&Table>) -> BTreeSet<String> {
        let mut excluded = BTreeSet::new();
        let (Some(list), Some(table)) = (&raw.exclude, table) else {
            return excluded;
        };
        let key = table.primary_key.as_deref().unwrap_or_default();
        for entry in list.get_ref() {
            let column = entry.get_ref();
            if table.column(column).is_none() {
                self.unknown_column(entry, table);
            } else if !excluded.insert(column.clone()) {
                let message = format!("column {column:?} is excluded twice");
                self.error(
                    &entry.span(),
                    message,
                    Some("remove the repeated entry".into()),
                );
            } else if key.contains(column) {
                let message = format!(
                    "cannot exclude {column:?}: it is part of the primary key of {}",
                    table.qualified_name()
                );
                let help = "the history of a record is found by its key; keep key columns audited";
                self.error(&entry.span(), message, Some(help.into()));
            }
        }
        if !table.columns.is_empty() && table.columns.iter().all(|c| excluded.contains(&c.name)) {
            let name = table.qualified_name();
            let message =
                format!("every column of {name} is excluded, so nothing would be audited");
            let help = format!("remove {} to stop auditing the table", table_header(&name));
            self.error(&list.span(), message, Some(help));
        }
        excluded
    }

    fn unknown_column(&mut self, column: &Spanned<String>, table: &Table) {
        let help = closest(
            column.get_ref(),
            table.columns.iter().map(|c| c.name.as_str()),
        )
        .map(|c| format!("did you mean {c:?}?"));
        let message = format!(
            "unknown column {:?} in table {}",
            column.get_ref(),
            table.qualified_name()
        );
        self.error(&column.span(), message, help);
    }

    /// A row trigger on a partitioned table also fires for rows of its partitions, so
    /// auditing both a partition and one of its ancestors would record changes twice.
    fn check_partitions(&mut self, audited: &[(Range<usize>, AuditedTable)]) {
        let names: BTreeSet<QualifiedName> = audited
            .iter()
            .map(|(_, t)| t.table.qualified_name())
            .collect();
        for (span, t) in audited {
            let mut parent = t.table.partition_of.clone();
            // Bounded walk: a malformed model with a partition cycle must not hang.
            for _ in 0..=self.schema.tables.len() {
                let Some(p) = parent else { break };
                if names.contains(&p) {
                    let message = format!(
                        "table {} is a partition of {p}, which is also audited; \
                         its changes would be recorded twice",
                        t.table.qualified_name()
                    );
                    let help = "audit the partitioned table (it covers all its partitions) \
                                or the partitions, not both";
                    self.error(span, message, Some(help.into()));
                    break;
                }
                parent = self
                    .schema
                    .table(&p.schema, &p.name)
                    .and_then(|t| t.partition_of.clone());
            }
        }
    }

    // ---- global settings ------------------------------------------------------------

    fn audit_schema(
        &mut self,
        raw: Option<&Spanned<String>>,
        tables: &[(Range<usize>, AuditedTable)],
    ) -> String {
        let (name, span) = match raw {
            Some(s) => (s.get_ref().clone(), s.span()),
            None => (DEFAULT_AUDIT_SCHEMA.to_owned(), 0..0),
        };
        let written = if raw.is_some() {
            "audit_schema"
        } else {
            "the default audit_schema"
        };
        let problem = if name.is_empty() {
            Some("is empty".to_owned())
        } else if name.starts_with("pg_") {
            Some("starts with \"pg_\", which PostgreSQL reserves for system schemas".to_owned())
        } else if name.len() > MAX_IDENTIFIER_BYTES {
            Some(format!(
                "is longer than {MAX_IDENTIFIER_BYTES} bytes; PostgreSQL would truncate it"
            ))
        } else if name.contains('\0') {
            Some("contains a NUL character".to_owned())
        } else {
            tables
                .iter()
                .find(|(_, t)| t.table.schema == name)
                .map(|(_, t)| {
                    format!(
                        "is also the schema of audited table {}",
                        t.table.qualified_name()
                    )
                })
        };
        if let Some(problem) = problem {
            let help = "the audit schema holds only the audit tables and functions; \
                        set audit_schema to a dedicated schema name such as \"audit\"";
            self.error(
                &span,
                format!("{written} {name:?} {problem}"),
                Some(help.into()),
            );
        }
        name
    }

    fn actor_id_type(&mut self, raw: Option<&Spanned<String>>) -> String {
        let Some(raw) = raw else {
            return DEFAULT_ACTOR_ID_TYPE.to_owned();
        };
        let text = raw.get_ref();
        let user_types: Vec<String> = self
            .schema
            .enums
            .iter()
            .map(|e| QualifiedName::new(&e.schema, &e.name).to_sql())
            .chain(
                self.schema
                    .domains
                    .iter()
                    .map(|d| QualifiedName::new(&d.schema, &d.name).to_sql()),
            )
            .collect();
        let problem = match parse_sql_type(text) {
            Err(why) => why,
            Ok(t) if sql_type::is_actor_id_builtin(&t) => return t.canonical(),
            Ok(t @ SqlType::Qualified { array: false, .. })
                if user_types.contains(&t.canonical()) =>
            {
                return t.canonical();
            }
            Ok(SqlType::Qualified { array: false, .. }) => {
                "is not an enum or domain of the schema".to_owned()
            }
            Ok(_) => "cannot identify an actor; use an integer, text, uuid, enum or domain type"
                .to_owned(),
        };
        let mut candidates: Vec<&str> = user_types.iter().map(String::as_str).collect();
        candidates.extend(sql_type::actor_id_type_names());
        candidates.extend(
            sql_type::builtin_type_names()
                .filter(|n| parse_sql_type(n).is_ok_and(|t| sql_type::is_actor_id_builtin(&t))),
        );
        let help = closest(text.trim(), candidates).map(|c| format!("did you mean {c:?}?"));
        self.error(
            &raw.span(),
            format!("invalid actor_id_type {text:?}: it {problem}"),
            help,
        );
        DEFAULT_ACTOR_ID_TYPE.to_owned()
    }

    fn rust_options(&mut self, raw: &RawRust) -> RustOptions {
        let time_crate = match &raw.time {
            None => TimeCrate::default(),
            Some(t) => match t.get_ref().as_str() {
                "chrono" => TimeCrate::Chrono,
                "time" => TimeCrate::Time,
                other => {
                    let help =
                        closest(other, ["chrono", "time"]).map(|c| format!("did you mean {c:?}?"));
                    let message =
                        format!("unknown time crate {other:?}; expected \"chrono\" or \"time\"");
                    self.error(&t.span(), message, help);
                    TimeCrate::default()
                }
            },
        };
        let mut overrides: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for (key, rust_type) in in_file_order(&raw.types) {
            if let Err(why) = check_type(rust_type.get_ref()) {
                let message = format!("invalid Rust type {:?}: it {why}", rust_type.get_ref());
                self.error(&rust_type.span(), message, None);
            }
            let Some(canonical) = self.override_key(key) else {
                continue;
            };
            let line = self.file.line_column(key.span().start).0;
            if let Some((_, first)) = overrides.get(&canonical) {
                let message = format!(
                    "SQL type {canonical} is listed twice in [rust.types]: {:?} (also on line {first})",
                    key.get_ref()
                );
                self.error(&key.span(), message, Some("keep one entry".into()));
                continue;
            }
            overrides.insert(canonical, (rust_type.get_ref().trim().to_owned(), line));
        }
        RustOptions {
            time_crate,
            type_overrides: overrides.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            serde: raw.serde,
            partial_eq: raw.partial_eq,
        }
    }

    /// The canonical name of a `[rust.types]` key, if it names a type the schema can use.
    fn override_key(&mut self, key: &Spanned<String>) -> Option<String> {
        let text = key.get_ref();
        // Types the schema knows: user-defined ones, and every type a column has (which
        // covers extension types such as `public.citext` that the model does not list).
        let s = self.schema;
        let known: BTreeSet<String> = s
            .enums
            .iter()
            .map(|t| QualifiedName::new(&t.schema, &t.name).to_sql())
            .chain(
                s.domains
                    .iter()
                    .map(|t| QualifiedName::new(&t.schema, &t.name).to_sql()),
            )
            .chain(
                s.composites
                    .iter()
                    .map(|t| QualifiedName::new(&t.schema, &t.name).to_sql()),
            )
            .chain(
                s.tables
                    .iter()
                    .flat_map(|t| t.columns.iter().map(|c| c.type_name.clone())),
            )
            .collect();
        let problem = match parse_sql_type(text) {
            Ok(t @ SqlType::Builtin { .. }) => return Some(t.canonical()),
            Ok(t) if known.contains(&t.canonical()) => return Some(t.canonical()),
            Ok(_) => "is not a type of the schema".to_owned(),
            Err(why) => why,
        };
        let mut candidates: Vec<&str> = known.iter().map(String::as_str).collect();
        candidates.extend(sql_type::builtin_type_names());
        let help = closest(text.trim(), candidates).map(|c| format!("did you mean {c:?}?"));
        self.error(
            &key.span(),
            format!("unknown SQL type {text:?} in [rust.types]: it {problem}"),
            help,
        );
        None
    }
}
