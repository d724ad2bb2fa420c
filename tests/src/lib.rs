//! Shared helpers of the integration tests: throw-away databases on the real server.
//!
//! Every test gets its own database, created on the server that [`server_url`] names and
//! dropped when the [`TestDb`] goes out of scope, so tests run in parallel and leave
//! nothing behind.

pub mod fuzz;
pub mod rng;

use audit_codegen::spec::{AuditSpec, AuditedTable};
use postgres::{Client, NoTls};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The server URL used when `DATABASE_URL` is not set, if a server answers there.
pub const DEFAULT_DATABASE_URL: &str = pg_cluster::DEFAULT_URL;

/// The URL of the server tests run against: `DATABASE_URL` when set, else
/// [`DEFAULT_DATABASE_URL`] when a server answers there, else a private cluster that
/// this process starts (or joins) under the cargo target directory
/// ([`pg_cluster::database_url`]).
///
/// # Panics
///
/// When none of them can be had; the message says why (and, without PostgreSQL's
/// server programs, which package to install).
pub fn server_url() -> String {
    pg_cluster::database_url().unwrap_or_else(|e| panic!("no PostgreSQL server for the tests: {e}"))
}

/// Connects to `url`, failing with instructions when no server answers.
pub fn connect(url: &str) -> Client {
    Client::connect(url, NoTls).unwrap_or_else(|e| {
        panic!(
            "cannot reach PostgreSQL at {url}: {e}\n\
             Tests need a real PostgreSQL server: DATABASE_URL, else the server at \
             {DEFAULT_DATABASE_URL}, else a private cluster started from the installed \
             server programs. Point DATABASE_URL at a server that answers, e.g.\n  \
             DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test --workspace"
        )
    })
}

/// A database that exists for the lifetime of this value.
pub struct TestDb {
    name: String,
    url: String,
    admin_url: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// Creates an empty database with a unique name derived from `label`.
    pub fn new(label: &str) -> Self {
        Self::on_server(&server_url(), label)
    }

    /// Creates an empty database with a unique name derived from `label` on the server
    /// of `admin_url` (a database there, as a role that may create databases) instead of
    /// [`server_url`]'s: a private cluster of a test's own, for instance.
    pub fn on_server(admin_url: &str, label: &str) -> Self {
        let admin_url = admin_url.to_owned();
        let name = format!(
            "audit_test_{}_{}_{}",
            label
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                })
                .take(30)
                .collect::<String>(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = connect(&admin_url);
        // CREATE DATABASE cannot run inside the implicit transaction of a multi-statement
        // batch, so each statement goes alone.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&sql)
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {}", describe(&e)));
        }
        let url = with_database(&admin_url, &name);
        Self {
            name,
            url,
            admin_url,
        }
    }

    /// Creates a database and runs `sql` in it.
    pub fn with_sql(label: &str, sql: &str) -> Self {
        let db = Self::new(label);
        db.client()
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("setup SQL failed in {}: {}", db.name, describe(&e)));
        db
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection URL for this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A new connection to this database.
    pub fn client(&self) -> Client {
        connect(&self.url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&self.admin_url, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The server's own message of a database error, which `Display` of `postgres::Error`
/// leaves out.
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

/// Replaces the database part of a `postgres://…/db?params` URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

/// The path of a fixture file under `tests/fixtures`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// Runs the machine's `pg_dump --schema-only` against `db` and returns its output.
pub fn pg_dump_schema(db: &TestDb) -> String {
    let output = std::process::Command::new("pg_dump")
        .args(["--schema-only", "--dbname", db.url()])
        .output()
        .expect("pg_dump must be installed (it ships with the PostgreSQL client)");
    assert!(
        output.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pg_dump writes UTF-8 for a UTF-8 database")
}

/// A scratch directory under the system temporary directory, named uniquely from
/// `label` and removed (with everything in it) when this value is dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates an empty directory.
    pub fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "audit-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to `relative` (creating its directories) and returns its path.
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// The files of `relative` (a directory), sorted by name.
    pub fn files(&self, relative: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.path.join(relative))
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs `file` with `psql -X -q -v ON_ERROR_STOP=1` against `url`, the way users apply
/// plain migrations. `Err` holds psql's error output.
pub fn psql_file(url: &str, file: &Path) -> Result<(), String> {
    let output = std::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(file)
        .output()
        .expect("psql must be installed (it ships with the PostgreSQL client)");
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The DDL of the audit schema the reference triggers write to: `audit.transaction` and
/// `audit.activity` exactly as the data contract (DESIGN.md §5) describes them.
pub const REFERENCE_AUDIT_SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.transaction (
    id bigserial PRIMARY KEY,
    native_transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    issued_at timestamptz NOT NULL DEFAULT now(),
    client_addr inet,
    actor_id text,
    context jsonb
);
CREATE TABLE IF NOT EXISTS audit.activity (
    id bigserial PRIMARY KEY,
    schema_name text NOT NULL,
    table_name text NOT NULL,
    relid oid NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT statement_timestamp(),
    native_transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
    verb text NOT NULL,
    object_id jsonb,
    old_data jsonb,
    changed_data jsonb,
    transaction_id bigint REFERENCES audit.transaction (id)
);
";

/// Installs the reference implementation of the audit data contract on `table`
/// (`schema.name`, unquoted parts), auditing every column and not recording truncates.
///
/// See [`install_reference_audit_with`].
pub fn install_reference_audit(db: &TestDb, table: &str) {
    install_reference_audit_with(db, table, &[], false);
}

/// Installs the reference implementation of the audit data contract on `table`
/// (`schema.name`): a small, plain plpgsql row trigger that writes `audit.activity`
/// exactly as DESIGN.md §5 specifies, so decoding can be tested independently of the
/// generated triggers (which are tested against the same decoding later).
///
/// - insert: `changed_data` = `to_jsonb(NEW)` minus `excluded`; update: `old_data` the
///   full old row, `changed_data` the columns whose JSON text differs (found with
///   `jsonb_each`), no row when nothing changed; delete: `old_data` the full old row;
/// - top-level `timestamptz` columns are written as `timezone('UTC', value)`, i.e. UTC
///   without offset;
/// - `object_id`: the key value for a one-column primary key, an array in key order for
///   a composite one, NULL without a primary key;
/// - with `truncate`, a statement trigger records `truncate` activities.
pub fn install_reference_audit_with(db: &TestDb, table: &str, excluded: &[&str], truncate: bool) {
    let (schema, name) = table.split_once('.').expect("table as schema.name");
    let mut client = db.client();
    client
        .batch_execute(REFERENCE_AUDIT_SCHEMA)
        .unwrap_or_else(|e| panic!("audit schema: {}", describe(&e)));
    let relid: u32 = client
        .query_one(
            "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = $2",
            &[&schema, &name],
        )
        .unwrap_or_else(|e| panic!("table {table} not found: {}", describe(&e)))
        .get(0);
    let literal = |items: Vec<String>| {
        let quoted: Vec<String> = items
            .iter()
            .map(|i| format!("'{}'", i.replace('\'', "''")))
            .collect();
        format!("ARRAY[{}]::text[]", quoted.join(","))
    };
    let tz_columns: Vec<String> = client
        .query(
            "SELECT attname::text FROM pg_attribute
              WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped
                AND atttypid = 'timestamptz'::regtype ORDER BY attnum",
            &[&relid],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let key: Vec<String> = client
        .query(
            "SELECT a.attname::text FROM pg_constraint pk,
                    unnest(pk.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attnum = k.attnum
              WHERE pk.conrelid = $1 AND pk.contype = 'p' AND a.attrelid = $1
              ORDER BY k.ord",
            &[&relid],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let excluded = literal(excluded.iter().map(|e| (*e).to_owned()).collect());
    let tz_columns = literal(tz_columns);
    let key_columns = literal(key);
    let function = format!("audit.\"reference_{relid}\"");
    let truncate_function = format!("audit.\"reference_truncate_{relid}\"");
    let quoted_table = format!(
        "\"{}\".\"{}\"",
        schema.replace('"', "\"\""),
        name.replace('"', "\"\"")
    );
    let sql = format!(
        r#"
CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    excluded text[] := {excluded};
    tz_columns text[] := {tz_columns};
    key_columns text[] := {key_columns};
    old_row jsonb;
    new_row jsonb;
    changed jsonb;
    key_source jsonb;
    object_id jsonb;
    c text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_row := to_jsonb(OLD);
        FOREACH c IN ARRAY tz_columns LOOP
            IF jsonb_typeof(old_row -> c) = 'string' THEN
                old_row := jsonb_set(old_row, ARRAY[c],
                    to_jsonb(timezone('UTC', (old_row ->> c)::timestamptz)));
            END IF;
        END LOOP;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_row := to_jsonb(NEW);
        FOREACH c IN ARRAY tz_columns LOOP
            IF jsonb_typeof(new_row -> c) = 'string' THEN
                new_row := jsonb_set(new_row, ARRAY[c],
                    to_jsonb(timezone('UTC', (new_row ->> c)::timestamptz)));
            END IF;
        END LOOP;
    END IF;
    key_source := coalesce(new_row, old_row);
    IF cardinality(key_columns) = 1 THEN
        object_id := key_source -> key_columns[1];
    ELSIF cardinality(key_columns) > 1 THEN
        SELECT jsonb_agg(key_source -> k ORDER BY ord) INTO object_id
          FROM unnest(key_columns) WITH ORDINALITY AS u(k, ord);
    END IF;
    old_row := old_row - excluded;
    new_row := new_row - excluded;
    IF TG_OP = 'UPDATE' THEN
        -- Compare JSON text, not jsonb values: jsonb equates 1.0 and 1.00.
        SELECT jsonb_object_agg(n.key, n.value) INTO changed
          FROM jsonb_each(new_row) AS n
         WHERE (old_row -> n.key)::text IS DISTINCT FROM n.value::text;
        IF changed IS NULL THEN
            RETURN NULL;
        END IF;
        new_row := changed;
    END IF;
    INSERT INTO audit.activity (schema_name, table_name, relid, verb, object_id, old_data, changed_data)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_RELID, lower(TG_OP), object_id, old_row, new_row);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER reference_audit AFTER INSERT OR UPDATE OR DELETE ON {quoted_table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
CREATE FUNCTION {truncate_function}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO audit.activity (schema_name, table_name, relid, verb)
    VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_RELID, 'truncate');
    RETURN NULL;
END
$fn$;
"#
    );
    client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("reference audit on {table}: {}", describe(&e)));
    if truncate {
        client
            .batch_execute(&format!(
                "CREATE TRIGGER reference_audit_truncate AFTER TRUNCATE ON {quoted_table}
                     FOR EACH STATEMENT EXECUTE FUNCTION {truncate_function}();"
            ))
            .unwrap_or_else(|e| panic!("truncate trigger on {table}: {}", describe(&e)));
    }
}

/// One table to audit in [`audit_spec`]: `(schema, table, excluded columns, record_truncate)`.
pub type TableChoice<'a> = (&'a str, &'a str, &'a [&'a str], bool);

/// An audit spec (audit schema `audit`, actor type `actor_type`) for `tables` of the
/// database, introspected live.
pub fn audit_spec(db: &TestDb, actor_type: &str, tables: &[TableChoice<'_>]) -> AuditSpec {
    let schema =
        audit_codegen::source::live::introspect(&mut db.client()).expect("live introspection");
    let mut audited: Vec<AuditedTable> = tables
        .iter()
        .map(
            |(table_schema, name, excluded, record_truncate)| AuditedTable {
                excluded: excluded.iter().map(|c| (*c).to_owned()).collect(),
                record_truncate: *record_truncate,
                ..AuditedTable::new(
                    schema
                        .table(table_schema, name)
                        .unwrap_or_else(|| panic!("no table {table_schema}.{name}"))
                        .clone(),
                )
            },
        )
        .collect();
    audited.sort_by(|a, b| (&a.table.schema, &a.table.name).cmp(&(&b.table.schema, &b.table.name)));
    AuditSpec {
        actor_id_type: actor_type.to_owned(),
        tables: audited,
        ..AuditSpec::new(schema)
    }
}

/// Installs the audit trail of `spec` in `db` in one transaction: the audit schema, then
/// the triggers of every table of the spec.
pub fn install_audit(db: &TestDb, spec: &AuditSpec) {
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&audit_codegen::sql::render_audit_schema(spec).expect("audit schema renders"));
    for table in &spec.tables {
        sql.push_str(&audit_codegen::sql::render_table(spec, table).expect("table renders"));
    }
    sql.push_str("COMMIT;\n");
    db.client()
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("installing the audit trail failed: {}", describe(&e)));
}

/// A cluster-wide login role that exists for the lifetime of this value, named uniquely
/// so that tests can run in parallel. Dropped (with everything it owns in the test
/// database) at the end, even when the test panics.
pub struct TestRole {
    name: String,
    db_url: String,
}

impl TestRole {
    /// Creates a login role named from `label` (no password: the test server trusts).
    pub fn new(db: &TestDb, label: &str) -> Self {
        let name = format!(
            "audit_role_{}_{}_{}",
            label,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        db.client()
            .batch_execute(&format!("CREATE ROLE {name} LOGIN"))
            .unwrap_or_else(|e| panic!("cannot create role {name}: {}", describe(&e)));
        Self {
            name,
            db_url: db.url().to_owned(),
        }
    }

    /// The role name (a plain identifier).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection to the test database as this role.
    pub fn client(&self) -> Client {
        connect(&with_user(&self.db_url, &self.name))
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.db_url, NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP OWNED BY {0} CASCADE; DROP ROLE IF EXISTS {0}",
                self.name
            ));
        }
    }
}

/// A snapshot of everything the audit trail consists of in the database: the objects
/// of `audit_schema` (relations with their columns, indexes and privileges, functions
/// with a hash of their source, settings and privileges, the schema's owner and
/// privileges), every user trigger with its definition, and the rows of every table of
/// the audit schema (count and content hash). Two equal snapshots mean nothing of the
/// audit trail changed; it is empty when the schema does not exist.
pub fn audit_catalog(client: &mut Client, audit_schema: &str) -> Vec<String> {
    let mut snapshot: Vec<String> = client
        .query(
            "SELECT format('schema %s %s', nspowner::regrole, nspacl)
               FROM pg_namespace WHERE nspname = $1
             UNION ALL
             SELECT format('relation %s %s %s %s', c.relname, c.relkind, c.relowner::regrole,
                           c.relacl)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1
             UNION ALL
             SELECT format('column %s.%s %s %s %s', c.relname, a.attname,
                           format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped
             UNION ALL
             SELECT format('index %s', pg_get_indexdef(i.indexrelid))
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1
             UNION ALL
             SELECT format('function %s %s %s %s %s %s', p.oid::regprocedure, md5(p.prosrc),
                           p.prosecdef, p.proconfig, p.proowner::regrole, p.proacl)
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = $1
             UNION ALL
             SELECT format('trigger %s %s', t.tgenabled, pg_get_triggerdef(t.oid))
               FROM pg_trigger t WHERE NOT t.tgisinternal
             ORDER BY 1",
            &[&audit_schema],
        )
        .unwrap_or_else(|e| panic!("catalog snapshot: {}", describe(&e)))
        .iter()
        .map(|r| r.get(0))
        .collect();
    let tables: Vec<String> = client
        .query(
            "SELECT format('%I.%I', n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY 1",
            &[&audit_schema],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in tables {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))
                       FROM {table} AS t"
                ),
                &[],
            )
            .unwrap();
        let (rows, hash): (i64, String) = (row.get(0), row.get(1));
        snapshot.push(format!("rows {table} {rows} {hash}"));
    }
    snapshot
}

/// Runs `sql` and asserts that the server refuses it for lack of privilege
/// (`insufficient_privilege`, SQLSTATE 42501).
pub fn assert_denied(client: &mut Client, sql: &str) {
    let error = client
        .batch_execute(sql)
        .expect_err(&format!("{sql} must be refused"));
    assert_eq!(
        error.code(),
        Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
        "{sql}: {}",
        describe(&error)
    );
}

/// Replaces the user part of a `postgres://user[:password]@host/…` URL.
pub fn with_user(url: &str, user: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    match url[scheme_end..].find('@') {
        Some(at) => format!("{}{user}{}", &url[..scheme_end], &url[scheme_end + at..]),
        None => format!("{}{user}@{}", &url[..scheme_end], &url[scheme_end..]),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn user_part_of_url_is_replaced() {
        assert_eq!(
            super::with_user("postgres://postgres@h:5432/db", "app"),
            "postgres://app@h:5432/db"
        );
        assert_eq!(
            super::with_user("postgres://h/db", "app"),
            "postgres://app@h/db"
        );
    }

    #[test]
    fn database_part_of_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
