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

mod applier;
mod clauses;
mod edit;
mod names;

pub(crate) use applier::{Applier, Mode};
use clauses::*;
use edit::*;
use names::*;

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

/// What a [`Rename`] renamed: the same value the audit spec carries.
pub use crate::spec::Rename as Renamed;

/// Reads the DDL files `paths` and applies them in the given order.
///
/// A directory stands for its migration files in apply order ([`migration_files`]).
pub fn read(paths: &[PathBuf]) -> Result<DdlSchema> {
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        if path.is_dir() {
            files.extend(migration_files(path)?);
        } else {
            files.push(path.clone());
        }
    }
    let mut texts = Vec::with_capacity(files.len());
    for path in &files {
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
/// files sorted by file name (numbers in names compared as numbers), where a reversible
/// migration (`*.up.sql`/`*.down.sql`, as sqlx writes them) contributes only its
/// `.up.sql`; for diesel-style directories (`<dir>/<version_name>/up.sql`) the `up.sql`
/// of each subdirectory, by directory name.
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

type Step<T = ()> = std::result::Result<T, Problem>;

/// A name as written: optional schema and name.
type RawName = (Option<String>, String);

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
