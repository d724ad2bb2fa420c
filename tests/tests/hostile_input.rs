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
        "ROW({})::{}.{}",
        attributes(names)
            .iter()
            .map(|n| ql(n))
            .collect::<Vec<_>>()
            .join(", "),
        qi(SCHEMA),
        qi(COMPOSITE)
    );
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
            &[&t.column, &t.label],
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

    // Live source, installed with batch_execute in one transaction.
    let live_db = TestDb::with_sql("hostile_live", &setup);
    let mut admin = live_db.client();
    let live_schema = audit_codegen::source::live::introspect(&mut admin).unwrap();
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
