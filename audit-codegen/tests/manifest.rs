//! Manifest loading and validation: one fixture folder per mistake under
//! `tests/manifest_cases/<case>/audit.toml`, with the full error text kept as an insta
//! snapshot next to it, plus a valid manifest and inputs that must never panic.

use audit_codegen::Error;
use audit_codegen::manifest::{Manifest, MigrationFormat, SchemaSource};
use audit_codegen::model::{
    Attribute, Column, CompositeType, DomainType, EnumType, QualifiedName, Schema, Table, TableKind,
};
use audit_codegen::spec::{ActivityOptions, Partition, Rename, TimeCrate};
use std::path::Path;

fn column(name: &str, type_name: &str, nullable: bool) -> Column {
    Column {
        nullable,
        ..Column::new(name, type_name)
    }
}

fn table(schema: &str, name: &str, columns: Vec<Column>, key: &[&str]) -> Table {
    Table {
        schema: schema.into(),
        name: name.into(),
        kind: TableKind::Ordinary,
        partition_of: None,
        columns,
        primary_key: (!key.is_empty()).then(|| key.iter().map(|k| k.to_string()).collect()),
    }
}

/// The schema every case is checked against, built by hand (no database needed).
fn schema() -> Schema {
    let mut measurement = table(
        "public",
        "measurement",
        vec![
            column("id", "bigint", false),
            column("at", "timestamp with time zone", false),
            column("value", "double precision", true),
        ],
        &["id", "at"],
    );
    measurement.kind = TableKind::Partitioned;
    let mut measurement_2024 = measurement.clone();
    measurement_2024.name = "measurement_2024".into();
    measurement_2024.kind = TableKind::Ordinary;
    measurement_2024.partition_of = Some(QualifiedName::new("public", "measurement"));
    let mut schema = Schema {
        tables: vec![
            table(
                "public",
                "article",
                vec![
                    column("id", "bigint", false),
                    column("title", "text", false),
                    column("body", "text", true),
                    column("price", "numeric(10,2)", true),
                    column("search_vector", "tsvector", true),
                    column("updated_at", "timestamp with time zone", true),
                ],
                &["id"],
            ),
            table(
                "public",
                "tag",
                vec![
                    column("label", "text", true),
                    column("weight", "integer", true),
                ],
                &[],
            ),
            table(
                "blog",
                "post",
                vec![
                    column("id", "integer", false),
                    column("title", "text", false),
                    column("body", "text", true),
                    column("mood", "public.mood", true),
                ],
                &["id"],
            ),
            table(
                "public",
                "user",
                vec![
                    column("id", "bigint", false),
                    column("email", "public.citext", false),
                    column("wallet", "public.money_bag", true),
                ],
                &["id"],
            ),
            table(
                "Odd Schema",
                "My Table",
                vec![column("Id", "integer", false)],
                &["Id"],
            ),
            table(
                "public",
                "Order Lines",
                vec![
                    column("id", "bigint", false),
                    column("a b", "text", true),
                    column("a_b", "text", true),
                    column("ünïcode", "text", true),
                ],
                &["id"],
            ),
            measurement,
            measurement_2024,
        ],
        enums: vec![EnumType {
            schema: "public".into(),
            name: "mood".into(),
            labels: vec!["happy".into(), "sad".into()],
        }],
        domains: vec![DomainType {
            schema: "public".into(),
            name: "user_id".into(),
            base_type: "bigint".into(),
            nullable: false,
            default: None,
        }],
        composites: vec![CompositeType {
            schema: "public".into(),
            name: "money_bag".into(),
            attributes: vec![
                Attribute {
                    name: "amount".into(),
                    type_name: "numeric".into(),
                },
                Attribute {
                    name: "currency".into(),
                    type_name: "text".into(),
                },
            ],
        }],
    };
    schema.normalize();
    schema
}

/// Loads and resolves a fixture; returns the full error text (it must fail).
fn error_text(case: &str) -> String {
    let path = format!("tests/manifest_cases/{case}/audit.toml");
    let result = Manifest::load(&path).and_then(|m| m.resolve(&schema()));
    let error = match result {
        Ok(spec) => panic!("{case}: expected an error, got {spec:#?}"),
        Err(e) => e,
    };
    assert!(
        matches!(error, Error::Manifest(ref d) if !d.is_empty()),
        "{case}: expected manifest diagnostics, got {error:?}"
    );
    error.to_string()
}

/// Checks a bad manifest: the error text contains every `expected` piece (file name,
/// `line:column`, offending value, suggestion) and matches the snapshot beside the
/// fixture.
fn check(case: &str, expected: &[&str]) {
    let text = error_text(case);
    for piece in expected {
        assert!(
            text.contains(piece),
            "{case}: {piece:?} missing from:\n{text}"
        );
    }
    insta::with_settings!({
        snapshot_path => format!("manifest_cases/{case}"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("error", text);
    });
}

/// The `file:` prefix of every diagnostic of a case.
fn at(case: &str) -> String {
    format!("tests/manifest_cases/{case}/audit.toml:")
}

macro_rules! cases {
    ($($case:ident: [$($piece:expr),* $(,)?];)*) => {$(
        #[test]
        fn $case() {
            let case = stringify!($case);
            let pieces: Vec<String> = [$($piece),*]
                .iter()
                .map(|p: &&str| match p.strip_prefix('@') {
                    Some(rest) => format!("{}{rest}", at(case)),
                    None => p.to_string(),
                })
                .collect();
            check(case, &pieces.iter().map(String::as_str).collect::<Vec<_>>());
        }
    )*};
}

// Each entry: the fixture folder, then pieces the error text must contain. `@` stands
// for `tests/manifest_cases/<case>/audit.toml:` so each piece pins file, line and column.
cases! {
    unknown_table: ["@4:9: unknown table public.artcle", "did you mean [tables.article]?"];
    unknown_schema: ["@4:9: unknown schema \"blgo\"", "\"blgo.post\"", "did you mean schema \"blog\"?"];
    unknown_excluded_column: ["@5:20: unknown column \"titel\" in table public.article", "did you mean \"title\"?"];
    unknown_override_column: ["@4:25: unknown column \"prise\"", "did you mean \"price\"?"];
    excluded_primary_key: ["@5:12: cannot exclude \"id\": it is part of the primary key of public.article"];
    every_column_excluded: ["@5:11: every column of public.tag is excluded", "remove [tables.tag]"];
    table_listed_twice: ["@7:9: table public.article is listed twice", "\"public.Article\"", "\"article\" (line 4)"];
    duplicate_exclude: ["@5:34: column \"body\" is excluded twice"];
    bad_actor_id_type: ["@1:17: invalid actor_id_type \"bigintt\"", "did you mean \"bigint\"?"];
    unsuitable_actor_id_type: ["@1:17: invalid actor_id_type \"jsonb\"", "cannot identify an actor"];
    audit_schema_collides: ["@1:16: audit_schema \"blog\" is also the schema of audited table blog.post"];
    reserved_audit_schema: ["@1:16: audit_schema \"pg_audit\" starts with \"pg_\""];
    empty_audit_schema: ["@1:16: audit_schema \"\" is empty"];
    no_schema_source: ["@1:1: the manifest has no [schema] table", "pg_dump, snapshot, ddl or live"];
    two_schema_sources: ["@3:12: more than one schema source: snapshot is set as well as pg_dump"];
    write_snapshot_without_live: ["@3:18: write_snapshot = \"audit-schema.json\" only applies to a live schema source"];
    live_with_url: ["@2:8: live = \"postgres://app:secret@localhost/app\" is not the name of an environment variable"];
    unknown_migration_format: ["@6:10: unknown migration format \"sqlxx\"", "did you mean \"sqlx\"?"];
    partition_and_parent: ["@6:9: table public.measurement_2024 is a partition of public.measurement, which is also audited"];
    bad_rust_name: ["@5:13: invalid rust_name \"blog_post\"", "did you mean \"BlogPost\"?"];
    bad_rust_type: ["@5:13: invalid rust_type \"Vec<\": it is not a Rust type"];
    bad_attribute: ["@5:36: invalid attribute \"serde(skip)\""];
    unknown_field: ["@5:1: unknown field `exlude`", "did you mean `exclude`?"];
    toml_syntax_error: ["@4:16: unclosed table"];
    wrong_value_type: ["@5:12: invalid type: string \"yes\", expected a boolean"];
    invalid_table_key: ["@4:9: invalid table key \"my table\""];
    unknown_rust_type_key: [
        "@5:8: unknown time crate \"chrno\"", "did you mean \"chrono\"?",
        "@8:1: unknown SQL type \"public.money_bg\"", "did you mean \"public.money_bag\"?",
    ];
    unquoted_schema_key: ["@4:14: unknown field `post`", "[tables.\"blog.post\"]"];
    toml_quoted_table_key: [
        "@5:22: unknown field `My Table`",
        "[tables.'\"Odd Schema\".\"My Table\"']",
    ];
    unknown_keys_and_columns: [
        "@6:1: unknown field `exlude`", "did you mean `exclude`?",
        "@7:12: unknown column \"titel\"", "did you mean \"title\"?",
        "@8:25: unknown column \"prise\"", "did you mean \"price\"?",
        "@9:1: unknown field `rust_typ`", "did you mean `rust_type`?",
    ];
    unknown_key_in_table: ["@5:1: unknown field `bogus_one`", "@6:1: unknown field `bogus_two`"];
    bad_column_rust_name: [
        "@5:13: invalid rust_name \"type\" for column \"title\": it is a Rust keyword",
        "did you mean \"type_\"?",
        "@7:13: invalid rust_name \"Body Text\" for column \"body\"",
        "did you mean \"body_text\"?",
    ];
    column_rust_name_collides: [
        "@5:13: rust_name \"title\" for column \"body\" is also the Rust field of column \"title\"",
    ];
    column_names_collide: [
        "@5:9: columns \"a b\" and \"a_b\" of public.\"Order Lines\" both become the Rust field `a_b`",
        "rust_name = \"a_b2\" under [tables.'\"Order Lines\"'.columns.a_b]",
    ];
    empty_schema_table: ["@3:1: [schema] names no schema source"];
    duplicate_rust_name: ["@8:13: rust_name \"Post\" is already used on line 5"];
    activity_bad_settings: [
        "@5:13: unknown partition interval \"monthly\"", "did you mean \"month\"?",
        "@6:13: retention \"13 monts\": unknown unit \"monts\"", "did you mean \"month\"?",
    ];
    activity_retention_without_partition: [
        "@6:13: retention needs a partitioned activity table, and partition is \"none\"",
    ];
    activity_unknown_key: [
        "@7:13: a partitioned activity table needs an audit_schema that is a plain lower-case name",
        "@8:1: unknown field `retension`", "did you mean `retention`?",
        "@9:24: retention_keep_table only applies when a retention is set",
    ];
    many_errors: [
        "@8:12: cannot exclude \"id\"",
        "@8:18: unknown column \"titel\"",
        "@9:13: invalid rust_name \"article\"",
        "@11:25: unknown column \"prise\"",
        "@12:15: invalid attribute \"#[serde(default)\"",
        "@14:9: unknown table public.nope",
    ];
}

#[test]
fn many_errors_are_all_reported_in_file_order() {
    let error = Manifest::load("tests/manifest_cases/many_errors/audit.toml")
        .and_then(|m| m.resolve(&schema()))
        .unwrap_err();
    let lines: Vec<(usize, usize)> = error
        .diagnostics()
        .iter()
        .map(|d| (d.line, d.column))
        .collect();
    assert_eq!(
        lines,
        [(8, 12), (8, 18), (9, 13), (11, 25), (12, 15), (14, 9)]
    );
}

#[test]
fn every_case_folder_has_a_test() {
    let source = include_str!("manifest.rs");
    for entry in std::fs::read_dir("tests/manifest_cases").unwrap() {
        let case = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            source.contains(&format!("    {case}: [")),
            "no test for fixture {case}"
        );
    }
}

const VALID: &str = r##"
audit_schema = "history"
actor_id_type = "int8"

[schema]
ddl = ["migrations", "extra/seed.sql"]

[migrations]
dir = "db/migrations"
format = "refinery"

[rust]
time = "time"
[rust.types]
"public.money_bag" = "crate::MoneyBag"
"INT8" = "i64"

[tables.article]
exclude = ["updated_at", "search_vector"]
truncate = true
rust_name = "Story"
[tables.article.columns.title]
attributes = ["#[serde(default)]"]
[tables.article.columns.price]
rust_type = "rust_decimal::Decimal"

[tables.'blog.post']

[tables.'"user"']

[tables.'"Odd Schema"."My Table"']
exclude = []
"##;

#[test]
fn valid_manifest_resolves_to_the_expected_spec() {
    let manifest = Manifest::parse("/project/audit.toml", VALID).unwrap();
    assert_eq!(manifest.path(), Path::new("/project/audit.toml"));
    assert_eq!(
        manifest.schema_source(),
        &SchemaSource::Ddl(vec![
            "/project/migrations".into(),
            "/project/extra/seed.sql".into()
        ])
    );
    assert_eq!(
        manifest.migrations().dir,
        Path::new("/project/db/migrations")
    );
    assert_eq!(manifest.migrations().format, MigrationFormat::Refinery);
    assert_eq!(manifest.audit_schema(), "history");

    let spec = manifest.resolve(&schema()).unwrap();
    assert_eq!(spec.audit_schema, "history");
    assert_eq!(spec.actor_id_type, "bigint");
    assert_eq!(spec.rust.time_crate, TimeCrate::Time);
    assert_eq!(
        spec.rust.type_overrides,
        [
            ("bigint".to_owned(), "i64".to_owned()),
            ("public.money_bag".to_owned(), "crate::MoneyBag".to_owned()),
        ]
    );
    let names: Vec<(&str, &str)> = spec
        .tables
        .iter()
        .map(|t| (t.table.schema.as_str(), t.table.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Odd Schema", "My Table"),
            ("blog", "post"),
            ("public", "article"),
            ("public", "user")
        ]
    );
    let article = &spec.tables[2];
    // Column order of the table, not of the manifest.
    assert_eq!(article.excluded, ["search_vector", "updated_at"]);
    assert!(article.record_truncate);
    assert_eq!(article.rust_name.as_deref(), Some("Story"));
    let overrides: Vec<(&str, Option<&str>, &[String])> = article
        .columns
        .iter()
        .map(|c| {
            (
                c.column.as_str(),
                c.rust_type.as_deref(),
                c.attributes.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        overrides,
        [
            ("price", Some("rust_decimal::Decimal"), &[][..]),
            ("title", None, &["#[serde(default)]".to_owned()][..]),
        ]
    );
    let audited: Vec<&str> = article.audited_columns().map(|c| c.name.as_str()).collect();
    assert_eq!(audited, ["id", "title", "body", "price"]);
    let post = &spec.tables[1];
    assert!(post.excluded.is_empty() && !post.record_truncate && post.rust_name.is_none());
    assert_eq!(spec.schema, schema());
}

#[test]
fn minimal_manifest_uses_the_defaults() {
    let manifest = Manifest::parse("audit.toml", "[schema]\nsnapshot = \"s.json\"\n").unwrap();
    let dir = std::env::current_dir().unwrap();
    assert_eq!(
        manifest.schema_source(),
        &SchemaSource::Snapshot(dir.join("s.json"))
    );
    assert_eq!(manifest.migrations().dir, dir.join("migrations"));
    assert_eq!(manifest.migrations().format, MigrationFormat::Sqlx);
    let spec = manifest.resolve(&schema()).unwrap();
    assert_eq!(spec.audit_schema, "audit");
    assert_eq!(spec.actor_id_type, "text");
    assert_eq!(spec.rust.time_crate, TimeCrate::Chrono);
    assert!(spec.tables.is_empty() && spec.rust.type_overrides.is_empty());
    assert_eq!(spec.activity, ActivityOptions::default());
    assert!(!spec.activity.is_partitioned());
}

#[test]
fn activity_settings_resolve_with_the_retention_in_normal_form() {
    let text = "[schema]\nsnapshot = \"s.json\"\n[activity]\npartition = \"week\"\n\
                retention = \"1 Year  6 month\"\nretention_keep_table = true\n";
    let spec = Manifest::parse("audit.toml", text)
        .unwrap()
        .resolve(&schema())
        .unwrap();
    assert_eq!(
        spec.activity,
        ActivityOptions {
            partition: Partition::Week,
            retention: Some("1 year 6 months".into()),
            retention_keep_table: true,
        }
    );
}

#[test]
fn live_source_keeps_env_name_and_snapshot_path() {
    let text = "[schema]\nlive = \"DATABASE_URL\"\nwrite_snapshot = \"snap/s.json\"\n";
    let manifest = Manifest::parse("/p/audit.toml", text).unwrap();
    assert_eq!(
        manifest.schema_source(),
        &SchemaSource::Live {
            env: "DATABASE_URL".into(),
            write_snapshot: Some("/p/snap/s.json".into()),
        }
    );
}

#[test]
fn actor_id_type_accepts_aliases_and_schema_domains() {
    for (written, canonical) in [
        ("uuid", "uuid"),
        ("INT", "integer"),
        ("varchar(64)", "character varying(64)"),
        ("public.user_id", "public.user_id"),
        ("Public.Mood", "public.mood"),
    ] {
        let text = format!("actor_id_type = {written:?}\n[schema]\npg_dump = \"s.sql\"\n");
        let spec = Manifest::parse("audit.toml", &text)
            .and_then(|m| m.resolve(&schema()))
            .unwrap();
        assert_eq!(spec.actor_id_type, canonical, "{written}");
    }
}

#[test]
fn unreadable_manifest_is_an_io_error() {
    let error = Manifest::load("tests/manifest_cases/does-not-exist/audit.toml").unwrap_err();
    assert!(matches!(error, Error::Io { .. }), "{error:?}");
}

/// Whatever the input, parsing and resolving return a value or an error, never panic;
/// and every diagnostic points inside the text.
fn never_panics(text: &str) {
    let result = Manifest::parse("junk.toml", text).and_then(|m| m.resolve(&schema()));
    if let Err(error) = result {
        let lines = text.split('\n').count();
        for d in error.diagnostics() {
            assert!(d.line >= 1 && d.line <= lines, "{d} outside {lines} lines");
            assert!(d.column >= 1);
        }
        let _ = error.to_string();
    }
}

#[test]
fn junk_inputs_give_errors_not_panics() {
    let huge = "9".repeat(400);
    for junk in [
        "",
        "\u{0}\u{1}\u{2}\u{ff}",
        "[[[",
        "=",
        "tables = 3",
        "tables = [1, 2]",
        &format!("audit_schema = {huge}"),
        "audit_schema = 99999999999999999999999999999",
        "actor_id_type = 1e400\n[schema]\npg_dump = \"s\"",
        "[schema]\nddl = \"not-a-list\"",
        "[schema]\nddl = []",
        "[schema]\npg_dump = \"\"",
        "[schema]\npg_dump = 1",
        "[schema]\nlive = \"\"",
        "[schema]\npg_dump = \"s\"\n[tables.'\"']\n",
        "[schema]\npg_dump = \"s\"\n[tables.'\"\"\"']\n",
        "[schema]\npg_dump = \"s\"\n[tables.article]\nexclude = [1]",
        "[schema]\npg_dump = \"s\"\n[tables.article]\ncolumns = 5",
        "[schema]\npg_dump = \"s\"\n[tables.article.columns.title]\nrust_type = \"\"\nattributes = [\"\", \"#[\"]",
        "[schema]\npg_dump = \"s\"\n[rust.types]\n\"\" = \"\"\n\"varchar(((\" = \"x\"",
        "[schema]\npg_dump = \"s\"\nactor_id_type = \"char(99999999999999999999)\"",
        "\u{feff}[schema]\npg_dump = \"s\"\n[tables.\"é\"]\n",
    ] {
        never_panics(junk);
    }
}

#[test]
fn non_utf8_file_is_reported_with_its_position() {
    let dir = std::env::temp_dir().join(format!("audit-manifest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("audit.toml");
    std::fs::write(&path, b"[schema]\npg_dump = \"\xff\"\n").unwrap();
    let error = Manifest::load(&path).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    let text = error.to_string();
    assert!(
        text.contains("audit.toml:2:12: the manifest is not valid UTF-8"),
        "{text}"
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        never_panics(&text);
    }

    #[test]
    fn manifest_shaped_text_never_panics(
        key in "[a-zA-Z\"'. _]{0,12}",
        value in "[a-zA-Z0-9_\"#\\[\\]()<>:, ]{0,16}",
        field in "(exclude|truncate|rust_name|audit_schema|actor_id_type|format|time)",
    ) {
        let text = format!(
            "[schema]\npg_dump = \"s\"\n[tables.{key:?}]\n{field} = {value:?}\n\
             [tables.article]\nexclude = [{value:?}]\n[tables.article.columns.{value:?}]\n\
             rust_type = {value:?}\nattributes = [{value:?}]\n"
        );
        never_panics(&text);
    }
}

#[test]
fn quoted_names_and_column_rust_names_resolve() {
    let text = r#"
[schema]
pg_dump = "schema.sql"

[tables.'"Order Lines"'.columns."a b"]
rust_name = "a_b2"
[tables.'"Order Lines"'.columns."ünïcode"]
rust_name = "unicode_text"

[tables.'"Odd Schema"."My Table"']
"#;
    let spec = Manifest::parse("/project/audit.toml", text)
        .unwrap()
        .resolve(&schema())
        .unwrap();
    let names: Vec<(&str, &str)> = spec
        .tables
        .iter()
        .map(|t| (t.table.schema.as_str(), t.table.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [("Odd Schema", "My Table"), ("public", "Order Lines")]
    );
    let renamed: Vec<(&str, Option<&str>)> = spec.tables[1]
        .columns
        .iter()
        .map(|c| (c.column.as_str(), c.rust_name.as_deref()))
        .collect();
    assert_eq!(
        renamed,
        [("a b", Some("a_b2")), ("ünïcode", Some("unicode_text"))]
    );
}

#[test]
fn declared_renames_and_history_options_reach_the_spec() {
    let text = r#"
[schema]
pg_dump = "schema.sql"

[tables.article]
renamed_from = "story"
purge_dropped = true
[tables.article.columns.body]
renamed_from = "text"
"#;
    let spec = Manifest::parse("/project/audit.toml", text)
        .unwrap()
        .resolve(&schema())
        .unwrap();
    assert_eq!(
        spec.renames,
        [
            Rename::Table {
                from: QualifiedName::new("public", "story"),
                to: QualifiedName::new("public", "article"),
            },
            Rename::Column {
                table: QualifiedName::new("public", "article"),
                from: "text".into(),
                to: "body".into(),
            },
        ]
    );
    assert!(spec.tables[0].history.purge_dropped);
    assert!(!spec.tables[0].history.purge_excluded);
}

#[test]
fn renaming_a_table_to_itself_is_an_error() {
    let text =
        "[schema]\npg_dump = \"s.sql\"\n\n[tables.article]\nrenamed_from = \"public.article\"\n";
    let err = Manifest::parse("/project/audit.toml", text)
        .unwrap()
        .resolve(&schema())
        .unwrap_err()
        .to_string();
    assert!(err.contains("audit.toml:5:16"), "{err}");
    assert!(err.contains("is the table's own name"), "{err}");
}
