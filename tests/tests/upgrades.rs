//! Applying the generated migrations twice, out of order, or when they fail half-way:
//! each either fails cleanly or is a no-op, never a half-installed audit trail. The
//! state of the audit trail is compared as a catalog snapshot (functions and their
//! sources, triggers, tables, indexes, grants, and the rows of the audit tables) before
//! and after each apply, with `psql -v ON_ERROR_STOP=1 -f` and with `batch_execute`
//! inside a transaction.

use audit_codegen::Config;
use audit_codegen::sqltext::{TokenKind, split_statements, tokenize};
use audit_tests::{ScratchDir, TestDb, audit_catalog, describe, psql_file};
use postgres::Client;
use std::path::{Path, PathBuf};

/// A project evolving its schema through DDL files, generating audit migrations in
/// `format` after each step.
struct Project {
    dir: ScratchDir,
    format: &'static str,
    steps: usize,
}

impl Project {
    fn new(label: &str, format: &'static str) -> Self {
        Self {
            dir: ScratchDir::new(label),
            format,
            steps: 0,
        }
    }

    /// Adds the user's next DDL file and generates with `tables` (the manifest's table
    /// sections); returns the user's DDL and the new audit migrations (forward files).
    fn step(&mut self, ddl: &str, tables: &str) -> (String, Vec<PathBuf>) {
        self.steps += 1;
        self.dir
            .write(&format!("schema/{:04}_step.sql", self.steps), ddl);
        self.dir.write(
            "audit.toml",
            &format!(
                "[schema]\nddl = [\"schema\"]\n\n[migrations]\nformat = \"{}\"\n\n{tables}",
                self.format
            ),
        );
        (ddl.to_owned(), self.generate())
    }

    fn generate(&self) -> Vec<PathBuf> {
        let generated = Config::new()
            .manifest(self.dir.path().join("audit.toml"))
            .cargo_output(false)
            .check(false)
            .write_migrations(true)
            .generate()
            .unwrap_or_else(|e| panic!("{e}"));
        let mut files: Vec<PathBuf> = generated
            .written
            .into_iter()
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".sql") && !name.ends_with("down.sql")
            })
            .collect();
        files.sort();
        files
    }

    /// Marks the emitted audit schema as older than this generator, so that the next run
    /// emits the schema's upgrade migration.
    fn age_audit_schema(&self) {
        let path = self.dir.path().join("audit.lock");
        let mut lock: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        lock["audit_schema"]["sql_hash"] = "0000000000000000".into();
        lock["audit_schema"]["input_hash"] = "0000000000000000".into();
        std::fs::write(&path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    }
}

/// The top-level statements of a migration file, as their first word(s).
fn statements(sql: &str) -> Vec<String> {
    let tokens = tokenize(sql).unwrap_or_else(|e| panic!("{e:?}"));
    split_statements(&tokens)
        .iter()
        .map(|s| {
            s.iter()
                .take(2)
                .map(|t| match &t.kind {
                    TokenKind::Word { value, .. } => value.to_ascii_uppercase(),
                    _ => sql[t.start..t.end].to_owned(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// `file` with a failing statement inserted just before its last statement (the
/// `COMMIT` of a plain file), written to the system's temporary directory.
fn sabotaged(file: &Path) -> PathBuf {
    let sql = std::fs::read_to_string(file).unwrap();
    let at = sql.rfind("COMMIT;").expect("a COMMIT");
    let broken = format!(
        "{}SELECT 1 / 0; -- a failure at the very end\n{}",
        &sql[..at],
        &sql[at..]
    );
    let path = std::env::temp_dir().join(format!(
        "sabotaged-{}-{}",
        std::process::id(),
        file.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, broken).unwrap();
    path
}

fn exec(client: &mut Client, sql: &str) {
    client
        .batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)));
}

/// The activity of `table` as (verb, old_data, changed_data) text.
fn history(client: &mut Client) -> Vec<String> {
    client
        .query(
            "SELECT format('%s %s %s %s', table_name, verb, old_data, changed_data)
               FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn every_plain_migration_is_one_transaction_that_fails_cleanly_and_reruns_as_a_no_op() {
    let db = TestDb::new("upgrade_plain");
    let mut admin = db.client();
    let mut project = Project::new("upgrade-plain", "plain");
    let mut checks = 0;
    // The user's schema evolves; each step has its DML, run after its migrations.
    let steps: Vec<(&str, &str, &str)> = vec![
        (
            "CREATE TABLE article (id int PRIMARY KEY, title text);
             CREATE TABLE log (at timestamptz, message text);",
            "[tables.article]\n[tables.log]\n",
            "INSERT INTO article VALUES (1, 'a'); INSERT INTO log VALUES (now(), 'x');
             UPDATE article SET title = 'b'; UPDATE article SET id = 2;",
        ),
        (
            "ALTER TABLE article ADD COLUMN body text; ALTER TABLE log ADD COLUMN level int;",
            "[tables.article]\n[tables.log]\n",
            "UPDATE article SET body = 'text'; UPDATE log SET level = 1;",
        ),
        (
            "ALTER TABLE article RENAME COLUMN title TO headline;",
            "[tables.article]\n[tables.log]\n",
            "UPDATE article SET headline = 'c';",
        ),
        (
            "SELECT 1;",
            "[tables.article]\nexclude = [\"body\"]\npurge_excluded = true\n[tables.log]\n",
            "UPDATE article SET body = 'hidden', headline = 'd';",
        ),
        (
            "SELECT 1;",
            "[tables.article]\nexclude = [\"body\"]\n",
            "DELETE FROM article;",
        ),
    ];
    let mut kinds = Vec::new();
    for (i, (ddl, tables, dml)) in steps.iter().enumerate() {
        let (ddl, mut files) = project.step(ddl, tables);
        if i == 3 {
            // Also the upgrade of the audit schema by a newer generator.
            project.age_audit_schema();
            files.extend(project.generate());
            files.sort();
        }
        exec(&mut admin, &ddl);
        assert!(!files.is_empty(), "step {i} emitted nothing");
        for file in &files {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            kinds.push(name.clone());
            let sql = std::fs::read_to_string(file).unwrap();
            // One transaction: BEGIN first, COMMIT last, nothing else ends it, and no
            // statement that cannot run inside a transaction.
            let statements = statements(&sql);
            assert_eq!(
                statements.first().map(String::as_str),
                Some("BEGIN"),
                "{name}"
            );
            assert_eq!(
                statements.last().map(String::as_str),
                Some("COMMIT"),
                "{name}"
            );
            for s in &statements[1..statements.len() - 1] {
                assert!(
                    !["BEGIN", "COMMIT", "ROLLBACK", "END", "VACUUM"].contains(&s.as_str())
                        && !s.contains("CONCURRENTLY")
                        && !s.starts_with("START"),
                    "{name}: {s}"
                );
            }
            checks += 1;
            // A failure at its very end leaves everything as it was.
            let before = audit_catalog(&mut admin, "audit");
            let error =
                psql_file(db.url(), &sabotaged(file)).expect_err("the sabotaged file fails");
            assert!(error.contains("division by zero"), "{name}: {error}");
            assert_eq!(audit_catalog(&mut admin, "audit"), before, "{name}");
            checks += 1;
            // Applied, then applied again: the second run changes nothing.
            psql_file(db.url(), file).unwrap_or_else(|e| panic!("{name}: {e}"));
            let after = audit_catalog(&mut admin, "audit");
            // (The schema's upgrade by a newer generator is, here, the same version.)
            assert!(
                after != before || name.contains("upgrade"),
                "{name} changed nothing"
            );
            psql_file(db.url(), file).unwrap_or_else(|e| panic!("{name} again: {e}"));
            assert_eq!(audit_catalog(&mut admin, "audit"), after, "{name} rerun");
            checks += 2;
        }
        exec(&mut admin, dml);
    }
    // Every kind of migration was exercised.
    for kind in [
        "audit_schema",
        "audit_public_article",
        "audit_public_log",
        "audit_schema_upgrade",
        "unaudit_public_log",
    ] {
        assert!(
            kinds.iter().any(|k| k.contains(kind)),
            "no {kind} migration in {kinds:?}"
        );
    }
    // History went through the rename and the purge (which leaves `{}` where an update
    // changed only the purged column) exactly once.
    let history = history(&mut admin);
    assert!(
        history.iter().all(|h| !h.contains("\"title\"")),
        "{history:#?}"
    );
    assert!(
        history.iter().all(|h| !h.contains("\"body\"")),
        "{history:#?}"
    );
    assert!(
        history
            .iter()
            .any(|h| h.starts_with("article update") && h.contains("\"headline\": \"b\"")),
        "{history:#?}"
    );
    println!(
        "upgrade checks on {} plain migrations: {checks}",
        kinds.len()
    );
}

#[test]
fn migrations_out_of_order_fail_cleanly_or_do_nothing() {
    let mut project = Project::new("upgrade-order", "sqlx");
    let (ddl, first) = project.step(
        "CREATE TABLE article (id int PRIMARY KEY, title text);",
        "[tables.article]\n",
    );
    let [schema, table] = first.as_slice() else {
        panic!("{first:?}")
    };
    let (_, unaudit) = project.step("SELECT 1;", "");
    let [unaudit] = unaudit.as_slice() else {
        panic!("{unaudit:?}")
    };
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap();
    let in_transaction = |client: &mut Client, file: &PathBuf| {
        client.batch_execute(&format!("BEGIN;\n{}\nCOMMIT;", read(file)))
    };
    let mut checks = 0;

    // The table's migration before the audit schema's: refused, nothing created, with
    // batch_execute in a transaction and with psql in one transaction.
    let db = TestDb::with_sql("upgrade_order", &ddl);
    let mut c = db.client();
    let empty = audit_catalog(&mut c, "audit");
    let error = in_transaction(&mut c, table).expect_err("no audit schema yet");
    assert!(
        describe(&error).contains("schema \"audit\" does not exist"),
        "{}",
        describe(&error)
    );
    c.batch_execute("ROLLBACK").unwrap();
    assert_eq!(audit_catalog(&mut c, "audit"), empty);
    let single = db_file_in_one_transaction(&db, table);
    assert!(single.is_err());
    assert_eq!(audit_catalog(&mut c, "audit"), empty);
    checks += 2;

    // The unaudit migration before anything: a no-op.
    in_transaction(&mut c, unaudit).unwrap();
    assert_eq!(audit_catalog(&mut c, "audit"), empty);
    // The audit schema, then the unaudit migration before the table's: a no-op too.
    in_transaction(&mut c, schema).unwrap();
    let with_schema = audit_catalog(&mut c, "audit");
    in_transaction(&mut c, unaudit).unwrap();
    assert_eq!(audit_catalog(&mut c, "audit"), with_schema);
    checks += 2;
    // The audit schema's migration again: a no-op (same secret, same grants).
    in_transaction(&mut c, schema).unwrap();
    assert_eq!(audit_catalog(&mut c, "audit"), with_schema);
    checks += 1;
    // In order now: the table is audited, twice is once, and unaudit removes it all.
    in_transaction(&mut c, table).unwrap();
    let audited = audit_catalog(&mut c, "audit");
    in_transaction(&mut c, table).unwrap();
    assert_eq!(audit_catalog(&mut c, "audit"), audited);
    c.batch_execute("INSERT INTO article VALUES (1, 'a')")
        .unwrap();
    assert_eq!(
        history(&mut c),
        ["article insert  {\"id\": 1, \"title\": \"a\"}"]
    );
    in_transaction(&mut c, unaudit).unwrap();
    c.batch_execute("INSERT INTO article VALUES (2, 'b')")
        .unwrap();
    assert_eq!(history(&mut c).len(), 1);
    let triggers: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(triggers, 0);
    checks += 4;
    println!("upgrade checks of out-of-order applies: {checks}");
}

/// `psql --single-transaction -v ON_ERROR_STOP=1 -f file`, the way to run a sqlx- or
/// refinery-style file (which relies on the tool's transaction) by hand.
fn db_file_in_one_transaction(db: &TestDb, file: &Path) -> Result<(), String> {
    let output = std::process::Command::new("psql")
        .args([
            "-X",
            "-q",
            "-1",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            db.url(),
            "-f",
        ])
        .arg(file)
        .output()
        .unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn a_failing_upgrade_leaves_the_installed_audit_trail_as_it_was() {
    // The upgrade of a table whose column the database does not have yet (the user's
    // own migration was skipped): the update trigger's WHEN clause names the column, so
    // the migration fails half-way, after replacing functions and dropping triggers.
    let mut checks = 0;
    for format in ["plain", "sqlx"] {
        let mut project = Project::new("upgrade-fail", format);
        let (ddl, first) = project.step("CREATE TABLE log (message text);", "[tables.log]\n");
        let (_, second) = project.step("ALTER TABLE log ADD COLUMN level int;", "[tables.log]\n");
        let [upgrade] = second.as_slice() else {
            panic!("{second:?}")
        };
        let db = TestDb::with_sql("upgrade_fail", &ddl);
        for file in &first {
            psql_file(db.url(), file).unwrap();
        }
        let mut c = db.client();
        c.batch_execute("INSERT INTO log VALUES ('before')")
            .unwrap();
        let before = audit_catalog(&mut c, "audit");
        let error = if format == "plain" {
            psql_file(db.url(), upgrade).expect_err("the column is missing")
        } else {
            let sql = std::fs::read_to_string(upgrade).unwrap();
            let error = c
                .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
                .expect_err("the column is missing");
            c.batch_execute("ROLLBACK").unwrap();
            describe(&error)
        };
        assert!(error.contains("level"), "{format}: {error}");
        assert_eq!(audit_catalog(&mut c, "audit"), before, "{format}");
        // The old triggers still record every change.
        c.batch_execute("INSERT INTO log VALUES ('after'); UPDATE log SET message = 'changed';")
            .unwrap();
        assert_eq!(history(&mut c).len(), 1 + 1 + 2, "{format}");
        // With the user's migration applied, the same upgrade goes through.
        c.batch_execute("ALTER TABLE log ADD COLUMN level int")
            .unwrap();
        if format == "plain" {
            psql_file(db.url(), upgrade).unwrap();
        } else {
            let sql = std::fs::read_to_string(upgrade).unwrap();
            c.batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;")).unwrap();
        }
        c.batch_execute("UPDATE log SET level = 3").unwrap();
        assert!(history(&mut c).last().unwrap().contains("\"level\": 3"));
        checks += 4;
    }
    println!("upgrade checks of failing upgrades: {checks}");
}

/// A table migration generated from a schema the database no longer matches (a column
/// renamed or dropped since) is refused when applied, naming the missing columns,
/// instead of installing triggers that would make every write to the table fail.
#[test]
fn a_table_migration_for_columns_the_table_lacks_is_refused_with_their_names() {
    let mut project = Project::new("upgrade-stale", "sqlx");
    let (_, first) = project.step(
        "CREATE TABLE article (id int PRIMARY KEY, title text, body text);",
        "[tables.article]\n",
    );
    let [schema, table] = first.as_slice() else {
        panic!("{first:?}")
    };
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap();
    // The database's table lost `body` and renamed `title` since the dump was taken.
    let db = TestDb::with_sql(
        "upgrade_stale",
        "CREATE TABLE article (id int PRIMARY KEY, headline text);",
    );
    let mut c = db.client();
    c.batch_execute(&format!("BEGIN;\n{}\nCOMMIT;", read(schema)))
        .unwrap();
    let before = audit_catalog(&mut c, "audit");
    let error = c
        .batch_execute(&format!("BEGIN;\n{}\nCOMMIT;", read(table)))
        .expect_err("the table lacks columns the triggers read");
    let message = describe(&error);
    assert!(
        message.contains("table public.article has no column(s) body, title"),
        "{message}"
    );
    c.batch_execute("ROLLBACK").unwrap();
    assert_eq!(audit_catalog(&mut c, "audit"), before);
    // Writes to the table keep working.
    c.batch_execute("INSERT INTO article VALUES (1, 'a')")
        .unwrap();
}
