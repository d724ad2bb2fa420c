//! Hostile input to the generator: schema, table, column, type and label names and
//! manifest values crafted to break out of every quoting context of the generated SQL
//! (quotes, semicolons, `$$` and `$function$`, backslashes, comments, line breaks,
//! psql meta-commands) or of the generated Rust (doc comments, control and bidi
//! characters), and names at PostgreSQL's 63-byte limit.
//!
//! Each name is given to real tables in a throw-away database; the migration is
//! generated from the live database and from its `pg_dump -s` (through the manifest),
//! applied with `batch_execute` and with `psql -v ON_ERROR_STOP=1`, and the activity of
//! real DML is checked: the right table and columns, nothing else dropped or created.
//! Manifests crafted to inject SQL either give a faithful, quoted migration or are
//! refused with a clear message.

use audit_codegen::Config;
use audit_codegen::model::Schema;
use audit_codegen::spec::{AuditSpec, AuditedTable};
use audit_tests::{ScratchDir, TestDb, describe, pg_dump_schema, psql_file};
use postgres::Client;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Names that try to end a quoted identifier, a literal, a `--` or `/* */` comment or a
/// dollar-quoted body, or to smuggle a psql meta-command onto its own line; names
/// with combining marks, bidi controls, emoji; names of exactly 63 bytes.
fn hostile_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "x\"; DROP TABLE victim; --",
        "x'; DROP TABLE victim; --",
        "x'); DROP TABLE victim; --",
        "semi;colon",
        "$$",
        "$$; DROP TABLE victim; $$",
        "$function$; DROP TABLE victim; --",
        "$rename$",
        "$tag$x$tag$",
        "back\\slash",
        "ends with a backslash\\",
        "\\'; DROP TABLE victim; --",
        "-- line comment",
        "/* open block comment",
        "close */ block comment",
        "line\nbreak\nDROP TABLE victim; --",
        "\n\\restrict key\n",
        "carriage\rreturn",
        "tab\tand\u{7f}delete",
        "U&\"x\\0041\"",
        "E'\\x27'",
        ":psql_var :'v' :\"v\"",
        "combining e\u{301}\u{308}",
        "rtl \u{202e}txet\u{202c}",
        "emoji 🦀👩‍👩‍👧",
        "日本語の表",
        "zero\u{200b}width\u{feff}",
        "USER",
        "select",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // Exactly at the limit (63 bytes), ASCII and multi-byte.
    names.push("n".repeat(63));
    names.push(format!("{}x", "é".repeat(31)));
    names.push(format!("{}abc", "🦀".repeat(15)));
    for name in &names {
        assert!(name.len() <= 63, "{name:?} is over the limit");
    }
    names
}

/// The hostile schema holding the enum, the composite type and some tables.
const SCHEMA: &str = "s\"; DROP SCHEMA public CASCADE; --\n$function$";
/// The enum type of every table's `kind` column.
const ENUM: &str = "mood\n$$ \\";
/// The composite type of every table's `home` column.
const COMPOSITE: &str = "addr'--$x$";
/// The table without a primary key (updates are recorded per row).
const KEYLESS: &str = "no key\n$function$";

/// How many of the hostile names also name a table in [`SCHEMA`].
const IN_SCHEMA: usize = 4;

/// The hostile names that are attributes of [`COMPOSITE`] (chosen so that their Rust
/// field names differ).
const ATTRIBUTES: [usize; 4] = [3, 6, 9, 15];

fn attributes(names: &[String]) -> Vec<&String> {
    ATTRIBUTES.iter().map(|&i| &names[i]).collect()
}

/// `"name"` as PostgreSQL's `quote_ident` writes it, for the setup SQL.
fn qi(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` for the setup SQL (standard-conforming strings).
fn ql(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A TOML basic string holding `text` exactly.
fn toml_str(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One hostile table: where it lives, its hostile text column and its excluded column.
#[derive(Debug, Clone)]
struct HostileTable {
    schema: String,
    name: String,
    column: String,
    excluded: String,
    label: String,
    keyed: bool,
}

fn hostile_tables(names: &[String]) -> Vec<HostileTable> {
    let mut tables = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let table = |schema: &str| HostileTable {
            schema: schema.to_owned(),
            name: name.clone(),
            column: name.clone(),
            excluded: names[(i + 1) % names.len()].clone(),
            label: name.clone(),
            keyed: true,
        };
        tables.push(table("public"));
        if i < IN_SCHEMA {
            tables.push(table(SCHEMA));
        }
    }
    tables.push(HostileTable {
        schema: SCHEMA.to_owned(),
        name: KEYLESS.to_owned(),
        column: names[5].clone(),
        excluded: names[6].clone(),
        label: names[0].clone(),
        keyed: false,
    });
    tables
}

/// The setup SQL: a `victim` table with one row, the hostile schema and types, and
/// every hostile table.
fn setup_sql(names: &[String], tables: &[HostileTable]) -> String {
    let labels: Vec<String> = names.iter().map(|n| ql(n)).collect();
    let attributes: Vec<String> = attributes(names)
        .iter()
        .map(|n| format!("{} text", qi(n)))
        .collect();
    let mut sql = format!(
        "CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);\n\
         CREATE SCHEMA {s};\n\
         CREATE TYPE {s}.{e} AS ENUM ({labels});\n\
         CREATE TYPE {s}.{c} AS ({attributes});\n",
        s = qi(SCHEMA),
        e = qi(ENUM),
        c = qi(COMPOSITE),
        labels = labels.join(", "),
        attributes = attributes.join(", "),
    );
    for t in tables {
        sql.push_str(&format!(
            "CREATE TABLE {}.{} (id integer{}, {} text, {} text, kind {s}.{e}, home {s}.{c});\n",
            qi(&t.schema),
            qi(&t.name),
            if t.keyed { " PRIMARY KEY" } else { "" },
            qi(&t.column),
            qi(&t.excluded),
            s = qi(SCHEMA),
            e = qi(ENUM),
            c = qi(COMPOSITE),
        ));
    }
    sql
}

/// Inserts, updates (a value, the excluded column, then the key) and deletes one row of
/// every table, in one transaction with a hostile context.
fn exercise(client: &mut Client, names: &[String], tables: &[HostileTable]) {
    let mut tx = client.transaction().unwrap();
    tx.execute(
        "SELECT audit.set_context($1, NULL, $2)",
        &[
            &"actor\n$function$'\\",
            &json!({"why": "$$; DROP TABLE victim; --"}),
        ],
    )
    .unwrap();
    let home = format!(
        "ROW($3::text, $4::text, $5::text, $6::text)::{}.{}",
        qi(SCHEMA),
        qi(COMPOSITE)
    );
    let parts = attributes(names);
    for t in tables {
        let table = format!("{}.{}", qi(&t.schema), qi(&t.name));
        let (column, excluded) = (qi(&t.column), qi(&t.excluded));
        let twice = format!("{}{}", t.column, t.column);
        tx.execute(
            &format!(
                "INSERT INTO {table} (id, {column}, {excluded}, kind, home)
                 VALUES (1, $1, 'secret', $2::text::{}.{}, {home})",
                qi(SCHEMA),
                qi(ENUM)
            ),
            &[&t.column, &t.label, parts[0], parts[1], parts[2], parts[3]],
        )
        .unwrap_or_else(|e| panic!("insert into {table}: {}", describe(&e)));
        tx.execute(
            &format!("UPDATE {table} SET {column} = $1, {excluded} = 'changed'"),
            &[&twice],
        )
        .unwrap();
        tx.execute(&format!("UPDATE {table} SET id = 2"), &[])
            .unwrap();
        tx.execute(&format!("DELETE FROM {table}"), &[]).unwrap();
    }
    tx.commit().unwrap();
}

/// The activity `exercise` must leave for `t`, as
/// `(schema, table, verb, object_id, old_data, changed_data)`.
type Recorded = (String, String, String, Value, Value, Value);

fn expected_activity(names: &[String], t: &HostileTable) -> Vec<Recorded> {
    let home: Map<String, Value> = attributes(names)
        .into_iter()
        .map(|n| (n.clone(), json!(n)))
        .collect();
    let row = |id: i32, value: &str| {
        let mut row = Map::new();
        row.insert("id".into(), json!(id));
        row.insert(t.column.clone(), json!(value));
        row.insert("kind".into(), json!(t.label));
        row.insert("home".into(), Value::Object(home.clone()));
        Value::Object(row)
    };
    let twice = format!("{}{}", t.column, t.column);
    let key = |id: i32| if t.keyed { json!(id) } else { Value::Null };
    let one = |k: &str, v: Value| {
        let mut m = Map::new();
        m.insert(k.to_owned(), v);
        Value::Object(m)
    };
    let entry = |verb: &str, id: i32, old: Value, changed: Value| {
        (
            t.schema.clone(),
            t.name.clone(),
            verb.to_owned(),
            key(id),
            old,
            changed,
        )
    };
    vec![
        entry("insert", 1, Value::Null, row(1, &t.column)),
        entry("update", 1, row(1, &t.column), one(&t.column, json!(twice))),
        entry("update", 2, row(1, &twice), one("id", json!(2))),
        entry("delete", 2, row(2, &twice), Value::Null),
    ]
}

/// The rows of `sql` as (text, JSON) pairs.
fn pairs(client: &mut Client, sql: &str) -> Vec<(String, Value)> {
    client
        .query(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn recorded(client: &mut Client) -> Vec<Recorded> {
    client
        .query(
            "SELECT schema_name, table_name, verb, coalesce(object_id, 'null'),
                    coalesce(old_data, 'null'), coalesce(changed_data, 'null')
               FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

/// Every relation and function outside the audit schema and the system schemas, and
/// the rows of `victim`: what a hostile name must not be able to change.
fn bystanders(client: &mut Client) -> (Vec<String>, i64) {
    let objects = client
        .query(
            "SELECT format('%s %I.%I', c.relkind, n.nspname, c.relname)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'audit')
             UNION ALL
             SELECT format('f %I.%I', n.nspname, p.proname)
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'audit')
              ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let victims = client
        .query_one("SELECT count(*) FROM victim", &[])
        .unwrap()
        .get(0);
    (objects, victims)
}

/// The spec auditing every hostile table, with its excluded column and a `rust_name`
/// (the sanitised names of such tables collide, see
/// [`colliding_rust_names_are_an_error_that_suggests_rust_name`]).
fn hostile_spec(schema: &Schema, tables: &[HostileTable]) -> AuditSpec {
    let mut audited: Vec<AuditedTable> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| AuditedTable {
            excluded: vec![t.excluded.clone()],
            rust_name: Some(format!("Hostile{i}")),
            ..AuditedTable::new(
                schema
                    .table(&t.schema, &t.name)
                    .unwrap_or_else(|| panic!("no table {t:?} in the model"))
                    .clone(),
            )
        })
        .collect();
    audited.sort_by(|a, b| (&a.table.schema, &a.table.name).cmp(&(&b.table.schema, &b.table.name)));
    AuditSpec {
        tables: audited,
        ..AuditSpec::new(schema.clone())
    }
}

/// Checks generated Rust: it parses, holds no character that would stop it compiling
/// (a bare carriage return, a bidi control) outside escapes, and every SQL name comes
/// back exactly from its string literals.
fn check_rust(code: &str, names: &[String]) {
    let file = syn::parse_file(code).unwrap_or_else(|e| panic!("generated Rust: {e}\n{code}"));
    for c in ['\r', '\u{202e}', '\u{202c}', '\u{7f}'] {
        assert!(!code.contains(c), "raw {c:?} in generated Rust");
    }
    // Every string literal of the file, decoded.
    fn literals(tokens: proc_macro2::TokenStream, into: &mut BTreeSet<String>) {
        for tree in tokens {
            match tree {
                proc_macro2::TokenTree::Group(g) => literals(g.stream(), into),
                proc_macro2::TokenTree::Literal(l) => {
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&l.to_string()) {
                        into.insert(s.value());
                    }
                }
                _ => {}
            }
        }
    }
    let mut strings = BTreeSet::new();
    literals(quote::ToTokens::to_token_stream(&file), &mut strings);
    for name in names {
        assert!(
            strings.contains(name),
            "{name:?} is not a literal of the code"
        );
    }
    assert!(strings.contains(SCHEMA) && strings.contains(KEYLESS));
}

#[test]
fn hostile_names_are_audited_faithfully_from_the_live_database_and_from_pg_dump() {
    let names = hostile_names();
    let tables = hostile_tables(&names);
    let setup = setup_sql(&names, &tables);

    // Live source, installed with batch_execute in one transaction. The triggers are
    // compiled in a session with standard_conforming_strings off, where a plain literal
    // holding a backslash would read differently.
    let live_db = TestDb::with_sql("hostile_live", &setup);
    let mut admin = live_db.client();
    admin
        .batch_execute("SET standard_conforming_strings = off")
        .unwrap();
    let live_schema = audit_codegen::source::live::introspect(&mut admin).unwrap();
    // The generated-code check crate compiles the code of this very schema (with every
    // warning denied) from a committed snapshot; `UPDATE_FIXTURES=1` rewrites it.
    let snapshot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("generated-check/fixtures/hostile.json");
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        audit_codegen::source::snapshot::write(&snapshot, &live_schema).unwrap();
    }
    assert_eq!(
        audit_codegen::source::snapshot::read(&snapshot).expect("committed snapshot"),
        live_schema,
        "{} is stale; rerun with UPDATE_FIXTURES=1",
        snapshot.display()
    );
    let spec = hostile_spec(&live_schema, &tables);
    let before = bystanders(&mut admin);
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&audit_codegen::sql::render_audit_schema(&spec).unwrap());
    for table in &spec.tables {
        sql.push_str(&audit_codegen::sql::render_table(&spec, table).unwrap());
    }
    sql.push_str("COMMIT;\n");
    admin
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("installing: {}", describe(&e)));
    assert_eq!(bystanders(&mut admin), before);
    exercise(&mut admin, &names, &tables);
    let expected: Vec<Recorded> = tables
        .iter()
        .flat_map(|t| expected_activity(&names, t))
        .collect();
    assert_eq!(recorded(&mut admin), expected);
    assert_eq!(bystanders(&mut admin), before);
    let actors: Vec<String> = admin
        .query("SELECT actor_id FROM audit.transaction", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actors, ["actor\n$function$'\\"]);
    check_rust(&audit_codegen::rust::render(&spec).unwrap().code, &names);
    // Without rust_name, two hostile tables sanitise to one Rust name: a clear error.
    let mut unnamed = spec.clone();
    for table in &mut unnamed.tables {
        table.rust_name = None;
    }
    let error = audit_codegen::rust::render(&unnamed)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is generated for both table") && error.contains("set `rust_name`"),
        "{error}"
    );

    // pg_dump source, through a manifest naming every table, applied with psql.
    let dump_db = TestDb::with_sql("hostile_dump", &setup);
    let dump = pg_dump_schema(&dump_db);
    assert!(
        dump.contains("\n\\restrict key\n"),
        "the dump has the look-alike line"
    );
    let dump_schema =
        audit_codegen::source::dump::parse(std::path::Path::new("schema.sql"), &dump).unwrap();
    for t in &tables {
        assert_eq!(
            dump_schema.table(&t.schema, &t.name),
            live_schema.table(&t.schema, &t.name),
            "{t:?}"
        );
    }
    assert_eq!(dump_schema.enums, live_schema.enums);
    assert_eq!(dump_schema.composites, live_schema.composites);

    let project = ScratchDir::new("hostile-dump");
    project.write("schema.sql", &dump);
    let mut manifest =
        String::from("[schema]\npg_dump = \"schema.sql\"\n\n[migrations]\nformat = \"plain\"\n");
    for (i, t) in tables.iter().enumerate() {
        let key = if t.schema == "public" {
            qi(&t.name)
        } else {
            format!("{}.{}", qi(&t.schema), qi(&t.name))
        };
        manifest.push_str(&format!(
            "\n[tables.{}]\nexclude = [{}]\nrust_name = \"Hostile{i}\"\n",
            toml_str(&key),
            toml_str(&t.excluded)
        ));
    }
    project.write("audit.toml", &manifest);
    Config::new()
        .manifest(project.path().join("audit.toml"))
        .out_dir(project.path().join("out"))
        .cargo_output(false)
        .check(false)
        .write_migrations(true)
        .generate()
        .unwrap_or_else(|e| panic!("generate from the dump: {e}"));
    let mut dump_admin = dump_db.client();
    let before = bystanders(&mut dump_admin);
    let migrations = project.files("migrations");
    assert_eq!(migrations.len(), 1 + tables.len());
    for file in &migrations {
        psql_file(dump_db.url(), file).unwrap_or_else(|e| panic!("psql {}: {e}", file.display()));
    }
    assert_eq!(bystanders(&mut dump_admin), before);
    exercise(&mut dump_admin, &names, &tables);
    assert_eq!(recorded(&mut dump_admin), expected);
    assert_eq!(bystanders(&mut dump_admin), before);
    let code = std::fs::read_to_string(project.path().join("out/audit.rs")).unwrap();
    check_rust(&code, &names);

    // Unauditing the hostile tables again (a second run without them) drops exactly
    // their triggers and functions.
    project.write(
        "audit.toml",
        "[schema]\npg_dump = \"schema.sql\"\n\n[migrations]\nformat = \"plain\"\n",
    );
    Config::new()
        .manifest(project.path().join("audit.toml"))
        .cargo_output(false)
        .check(false)
        .write_migrations(true)
        .generate()
        .unwrap();
    let unaudit = project.files("migrations");
    assert_eq!(unaudit.len(), 1 + 2 * tables.len());
    for file in &unaudit[migrations.len()..] {
        psql_file(dump_db.url(), file).unwrap_or_else(|e| panic!("psql {}: {e}", file.display()));
    }
    let leftovers: i64 = dump_admin
        .query_one(
            "SELECT (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)
                  + (SELECT count(*) FROM pg_proc WHERE prorettype = 'trigger'::regtype
                        AND pronamespace = 'audit'::regnamespace)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0);
    assert_eq!(bystanders(&mut dump_admin), before);

    println!(
        "hostile names tried: {} (as {} tables in 2 schemas, columns, enum labels, \
         composite attributes), through 2 schema sources",
        names.len() + 4,
        tables.len()
    );
}

/// The small schema of the manifest cases: `victim`, an `article` with a hostile
/// column, and a domain with a hostile name to use as the actor type.
const ARTICLE_SQL: &str = r#"
CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);
CREATE TABLE article (id int PRIMARY KEY, title text, "x""; DROP TABLE victim; --" text);
CREATE DOMAIN public."actor $function$
'" AS text;
"#;

/// The actor type of [`ARTICLE_SQL`] as the manifest writes it.
const HOSTILE_ACTOR_TYPE: &str = "public.\"actor $function$\n'\"";

/// Generates from `manifest` (the schema read from the `pg_dump` of `db`) into
/// `project`, returning the files it wrote to `migrations/`.
fn generate(
    db: &TestDb,
    project: &ScratchDir,
    manifest: &str,
) -> Result<Vec<std::path::PathBuf>, String> {
    project.write("schema.sql", &pg_dump_schema(db));
    project.write("audit.toml", manifest);
    let before = project.files("migrations");
    Config::new()
        .manifest(project.path().join("audit.toml"))
        .cargo_output(false)
        .check(false)
        .write_migrations(true)
        .generate()
        .map_err(|e| e.to_string())?;
    Ok(project
        .files("migrations")
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect())
}

#[test]
fn crafted_manifests_give_faithful_migrations_or_clear_errors() {
    let mut tried = 0;
    // Audit schemas that try to escape their quoting: a faithful migration each, with a
    // hostile domain as the actor type and the hostile column excluded.
    for audit_schema in [
        "audit\"; DROP TABLE victim; --",
        "audit\nDROP TABLE victim; --",
        "audit$function$; DROP TABLE victim; --",
        "audit\\'; DROP TABLE victim; --",
        "audit */ DROP TABLE victim; /*",
    ] {
        tried += 1;
        let db = TestDb::with_sql("hostile_manifest", ARTICLE_SQL);
        let project = ScratchDir::new("hostile-manifest");
        let manifest = format!(
            "audit_schema = {}\nactor_id_type = {}\n\n[schema]\npg_dump = \"schema.sql\"\n\n\
             [migrations]\nformat = \"plain\"\n\n[tables.article]\nexclude = [{}]\n",
            toml_str(audit_schema),
            toml_str(HOSTILE_ACTOR_TYPE),
            toml_str("x\"; DROP TABLE victim; --"),
        );
        let files =
            generate(&db, &project, &manifest).unwrap_or_else(|e| panic!("{audit_schema:?}: {e}"));
        assert_eq!(files.len(), 2, "{audit_schema:?}");
        let mut c = db.client();
        let before = bystanders(&mut c);
        for file in &files {
            psql_file(db.url(), file).unwrap_or_else(|e| panic!("{audit_schema:?}: {e}"));
        }
        let audit = qi(audit_schema);
        c.batch_execute(&format!(
            "BEGIN;
             SELECT {audit}.set_context('actor', NULL, NULL);
             INSERT INTO article VALUES (1, 'a', 'hidden');
             UPDATE article SET title = 'b', \"x\"\"; DROP TABLE victim; --\" = 'still hidden';
             COMMIT;"
        ))
        .unwrap_or_else(|e| panic!("{audit_schema:?}: {}", describe(&e)));
        let rows = pairs(
            &mut c,
            &format!(
                "SELECT t.actor_id::text, a.changed_data FROM {audit}.activity a
                       JOIN {audit}.transaction t ON t.id = a.transaction_id ORDER BY a.id"
            ),
        );
        assert_eq!(
            rows,
            [
                ("actor".to_owned(), json!({"id": 1, "title": "a"})),
                ("actor".to_owned(), json!({"title": "b"})),
            ],
            "{audit_schema:?}"
        );
        // Only the audit schema was added; the actor column has the hostile domain.
        let mut after = bystanders(&mut c);
        after.0.retain(|o| !o.contains(&audit));
        assert_eq!(after, before, "{audit_schema:?}");
        let actor_is_the_domain: bool = c
            .query_one(
                "SELECT atttypid = pg_catalog.to_regtype($2) FROM pg_attribute
                  WHERE attrelid = (SELECT c.oid FROM pg_class c JOIN pg_namespace n
                                       ON n.oid = c.relnamespace
                                    WHERE n.nspname = $1 AND c.relname = 'transaction')
                    AND attname = 'actor_id'",
                &[&audit_schema, &HOSTILE_ACTOR_TYPE],
            )
            .unwrap()
            .get(0);
        assert!(actor_is_the_domain, "{audit_schema:?}");
    }

    // Renames declared with hostile old names: history moves to the new names, with the
    // rewrite applied in a session where standard_conforming_strings is off.
    tried += 1;
    let db = TestDb::with_sql(
        "hostile_rename",
        "CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);
         CREATE TABLE \"old'name$function$\n\" (id int PRIMARY KEY, \"old\"\"col\\\" text);",
    );
    let project = ScratchDir::new("hostile-rename");
    let base = "[schema]\npg_dump = \"schema.sql\"\n\n[migrations]\nformat = \"plain\"\n";
    let first = generate(
        &db,
        &project,
        &format!(
            "{base}\n[tables.{}]\n",
            toml_str("\"old'name$function$\n\"")
        ),
    )
    .unwrap();
    for file in &first {
        psql_file(db.url(), file).unwrap();
    }
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO \"old'name$function$\n\" VALUES (1, 'v');
         ALTER TABLE \"old'name$function$\n\" RENAME COLUMN \"old\"\"col\\\" TO \"new col\";
         ALTER TABLE \"old'name$function$\n\" RENAME TO \"new name\";",
    )
    .unwrap();
    let second = generate(
        &db,
        &project,
        &format!(
            "{base}\n[tables.'\"new name\"']\nrenamed_from = {}\n\
             [tables.'\"new name\"'.columns.\"new col\"]\nrenamed_from = {}\n",
            toml_str("\"old'name$function$\n\""),
            toml_str("old\"col\\"),
        ),
    )
    .unwrap();
    assert!(!second.is_empty());
    c.batch_execute("SET standard_conforming_strings = off")
        .unwrap();
    for file in &second {
        c.batch_execute(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), describe(&e)));
    }
    c.batch_execute("INSERT INTO \"new name\" VALUES (2, 'w')")
        .unwrap();
    let history = pairs(
        &mut c,
        "SELECT table_name, changed_data FROM audit.activity ORDER BY id",
    );
    assert_eq!(
        history,
        [
            ("new name".to_owned(), json!({"id": 1, "new col": "v"})),
            ("new name".to_owned(), json!({"id": 2, "new col": "w"})),
        ]
    );
    assert_eq!(bystanders(&mut c).1, 1);

    // Values no migration can honour are refused with a message naming the problem.
    let refused: &[(&str, &str)] = &[
        (
            "actor_id_type = \"text); DROP TABLE victim; --\"",
            "invalid actor_id_type \"text); DROP TABLE victim; --\"",
        ),
        (
            "actor_id_type = \"text[]; DROP TABLE victim\"",
            "invalid actor_id_type",
        ),
        (
            "actor_id_type = \"public.\\\"no such $$ type\\\"\"",
            "invalid actor_id_type",
        ),
        ("audit_schema = \"pg_audit\"", "starts with \"pg_\""),
        (
            "audit_schema = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            "is longer than 63 bytes",
        ),
        (
            "audit_schema = \"audit\\u0000; DROP TABLE victim\"",
            "contains a NUL character",
        ),
        (
            "audit_schema = \"public\"",
            "is also the schema of audited table",
        ),
        ("[tables.\"\\\"arti\\u0000cle\\\"\"]", "unknown table"),
        ("[tables.'article\"; DROP TABLE victim; --']", "table key"),
        (
            "[tables.article]\nexclude = [\"title\\\"; DROP TABLE victim; --\"]",
            "unknown column \"title\\\"; DROP TABLE victim; --\" in table public.article",
        ),
        (
            "[tables.article]\nexclude = [\"id\"]",
            "it is part of the primary key",
        ),
        (
            "[tables.article]\nrust_name = \"Article; fn evil() {}\"",
            "is not a Rust identifier",
        ),
        (
            "[tables.article.columns.title]\nrust_type = \"String, pub evil: u8\"",
            "is not a Rust type",
        ),
        (
            "[tables.article.columns.title]\nattributes = [\"#[serde(default)] pub fn evil() {}\"]",
            "is not a Rust outer attribute",
        ),
        (
            "[tables.article.columns.title]\nattributes = [\"#![allow(warnings)]\"]",
            "is not a Rust outer attribute",
        ),
        (
            "[rust.types]\n\"text\" = \"String; fn evil() {}\"",
            "is not a Rust type",
        ),
        (
            "[tables.article]\nrenamed_from = \"x\\u0000y\"",
            "invalid renamed_from \"x\\0y\"",
        ),
        (
            "[tables.article.columns.title]\nrenamed_from = \"t\\u0000\"",
            "invalid renamed_from \"t\\0\" for column \"title\": the previous name \"t\\0\" \
             contains a NUL character",
        ),
    ];
    let db = TestDb::with_sql("hostile_refused", ARTICLE_SQL);
    let dump = pg_dump_schema(&db);
    let mut wrong = Vec::new();
    for (snippet, message) in refused {
        tried += 1;
        let project = ScratchDir::new("hostile-refused");
        project.write("schema.sql", &dump);
        // Top-level keys go before the first table.
        let manifest =
            if snippet.starts_with('[') {
                format!("[schema]\npg_dump = \"schema.sql\"\n\n[tables.article]\n{snippet}\n")
                    .replacen("[tables.article]\n[tables.article]", "[tables.article]", 1)
            } else {
                format!("{snippet}\n[schema]\npg_dump = \"schema.sql\"\n\n[tables.article]\n")
            };
        project.write("audit.toml", &manifest);
        let result = Config::new()
            .manifest(project.path().join("audit.toml"))
            .cargo_output(false)
            .check(false)
            .write_migrations(true)
            .generate();
        match result {
            Err(e) if e.to_string().contains(message) => {}
            other => wrong.push(format!("{snippet}: expected {message:?}, got {other:?}")),
        }
        if !project.files("migrations").is_empty() {
            wrong.push(format!(
                "{snippet}: wrote {:?}",
                project.files("migrations")
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    // A meta-command-looking live variable name is no variable name.
    tried += 1;
    let error = audit_codegen::manifest::Manifest::parse(
        "audit.toml",
        "[schema]\nlive = \"DATABASE_URL; \\\\! rm -rf /\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("is not the name of an environment variable"),
        "{error}"
    );
    println!("hostile manifests tried: {tried}");
}

#[test]
fn names_at_the_63_byte_limit_keep_distinct_objects_and_longer_or_nul_names_are_refused() {
    // Tables and columns of exactly 63 bytes sharing long prefixes, a 63-byte audit
    // schema: every generated function and trigger name must stay distinct.
    let prefix = "p".repeat(60);
    let names = [
        format!("{prefix}_a1"),
        format!("{prefix}_a2"),
        format!("{}é", "q".repeat(61)),
        format!("{}🦀", "q".repeat(59)),
    ];
    let mut sql = String::from("CREATE TABLE victim (id int); INSERT INTO victim VALUES (1);\n");
    for name in &names {
        sql.push_str(&format!(
            "CREATE TABLE {0} ({1} int PRIMARY KEY, {2} text);\n",
            qi(name),
            qi(&format!("{prefix}_k1")),
            qi(&format!("{prefix}_c1"))
        ));
    }
    // PostgreSQL cuts a longer name to 63 bytes (with a NOTICE); the live model has the
    // cut name.
    sql.push_str(&format!(
        "CREATE TABLE {} (id int PRIMARY KEY);\n",
        qi(&format!("{prefix}_toolong_by_far"))
    ));
    let db = TestDb::with_sql("hostile_limits", &sql);
    let schema = audit_codegen::source::live::introspect(&mut db.client()).unwrap();
    let cut = format!("{prefix}_to");
    assert!(schema.table("public", &cut).is_some());
    let audit_schema = "a".repeat(63);
    let mut spec = AuditSpec {
        audit_schema: audit_schema.clone(),
        ..AuditSpec::new(schema.clone())
    };
    for name in names.iter().chain([&cut]) {
        spec.tables.push(AuditedTable::new(
            schema.table("public", name).unwrap().clone(),
        ));
    }
    let mut sql = String::from("BEGIN;\n");
    sql.push_str(&audit_codegen::sql::render_audit_schema(&spec).unwrap());
    for table in &spec.tables {
        sql.push_str(&audit_codegen::sql::render_table(&spec, table).unwrap());
    }
    sql.push_str("COMMIT;\n");
    let mut c = db.client();
    c.batch_execute(&sql)
        .unwrap_or_else(|e| panic!("{}", describe(&e)));
    // 4 functions (insert, update, key change, delete) and 4 triggers per table.
    let functions: i64 = c
        .query_one(
            "SELECT count(DISTINCT proname) FROM pg_proc
              WHERE pronamespace = to_regnamespace($1) AND prorettype = 'trigger'::regtype",
            &[&qi(&audit_schema)],
        )
        .unwrap()
        .get(0);
    assert_eq!(functions, 4 * spec.tables.len() as i64);
    let triggers: Vec<i64> = c
        .query(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal GROUP BY tgrelid",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(triggers, vec![4; spec.tables.len()]);
    for name in &names {
        c.batch_execute(&format!(
            "INSERT INTO {0} VALUES (1, 'x'); UPDATE {0} SET {1} = 'y';",
            qi(name),
            qi(&format!("{prefix}_c1"))
        ))
        .unwrap();
    }
    let recorded = pairs(
        &mut c,
        &format!(
            "SELECT table_name, changed_data FROM {}.activity ORDER BY id",
            qi(&audit_schema)
        ),
    );
    let key = format!("{prefix}_k1");
    let column = format!("{prefix}_c1");
    let expected: Vec<(String, Value)> = names
        .iter()
        .flat_map(|n| {
            let mut insert = Map::new();
            insert.insert(key.clone(), json!(1));
            insert.insert(column.clone(), json!("x"));
            let mut update = Map::new();
            update.insert(column.clone(), json!("y"));
            [
                (n.clone(), Value::Object(insert)),
                (n.clone(), Value::Object(update)),
            ]
        })
        .collect();
    assert_eq!(recorded, expected);
    assert_eq!(bystanders(&mut c).1, 1);

    // DDL files keep names as written, so a longer one would be cut by PostgreSQL and
    // disagree with generated SQL and code: refused, naming the name and its cut form.
    let mut tried = names.len() + 1;
    for (ddl, key, message) in [
        (
            format!("CREATE TABLE {0}_toolong (id int PRIMARY KEY);", prefix),
            format!("{prefix}_toolong"),
            format!(
                "table \"{prefix}_toolong\" is 68 bytes long; PostgreSQL truncates names to \
                 63 bytes (the database knows it as \"{prefix}_to\")"
            ),
        ),
        (
            format!("CREATE TABLE t (id int PRIMARY KEY, {prefix}_column_too_long text);"),
            "t".to_owned(),
            format!(
                "public.t: column \"{prefix}_column_too_long\" is 76 bytes long; PostgreSQL \
                 truncates names to 63 bytes"
            ),
        ),
        (
            format!(
                "CREATE TABLE t (id int PRIMARY KEY, {prefix}_same_start_1 text, \
                 {prefix}_same_start_2 text);"
            ),
            "t".to_owned(),
            "is 73 bytes long".to_owned(),
        ),
        (
            "CREATE TABLE \"nul\u{0}name\" (id int PRIMARY KEY);".to_owned(),
            "\"nul\u{0}name\"".to_owned(),
            "table \"nul\\0name\" contains a NUL character, which PostgreSQL does not allow \
             in names"
                .to_owned(),
        ),
    ] {
        tried += 1;
        let project = ScratchDir::new("hostile-long");
        project.write("migrations/0001_init.sql", &ddl);
        project.write(
            "audit.toml",
            &format!(
                "[schema]\nddl = [\"migrations\"]\n\n[tables.{}]\n",
                toml_str(&key)
            ),
        );
        let error = Config::new()
            .manifest(project.path().join("audit.toml"))
            .cargo_output(false)
            .check(false)
            .write_migrations(true)
            .generate()
            .expect_err(&ddl)
            .to_string();
        assert!(error.contains(&message), "{ddl}:\n{error}");
        assert_eq!(project.files("migrations").len(), 1, "{ddl}");
    }
    println!("names at or over 63 bytes, or with a NUL, tried: {tried}");
}
