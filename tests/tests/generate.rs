//! `generate()` end to end on files: migrations written once, never rewritten, check mode.

use audit_codegen::{Config, Error};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A scratch project directory with a manifest, removed on drop.
struct Project {
    dir: PathBuf,
}

impl Project {
    fn new(label: &str, manifest: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("audit-generate-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("migrations")).unwrap();
        std::fs::copy(
            audit_tests::fixture("generate_basic/schema.sql"),
            dir.join("schema.sql"),
        )
        .unwrap();
        std::fs::write(dir.join("audit.toml"), manifest).unwrap();
        Self { dir }
    }

    fn config(&self) -> Config {
        Config::new()
            .manifest(self.dir.join("audit.toml"))
            .out_dir(self.dir.join("out"))
            .cargo_output(false)
            .check(false)
    }

    /// Every file under the project with its content and modification time.
    fn tree(&self) -> BTreeMap<PathBuf, (String, SystemTime)> {
        fn walk(dir: &Path, into: &mut BTreeMap<PathBuf, (String, SystemTime)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, into);
                } else {
                    let meta = std::fs::metadata(&path).unwrap();
                    let text = std::fs::read_to_string(&path).unwrap();
                    into.insert(path, (text, meta.modified().unwrap()));
                }
            }
        }
        let mut tree = BTreeMap::new();
        walk(&self.dir, &mut tree);
        tree
    }

    fn migrations(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const MANIFEST: &str = r#"
[schema]
pg_dump = "schema.sql"

[tables.article]
exclude = ["updated_at"]

[tables.tag]
"#;

#[test]
fn first_run_writes_migrations_and_a_rerun_writes_nothing() {
    let project = Project::new("rerun", MANIFEST);
    std::fs::write(project.dir.join("migrations/1_init.sql"), "SELECT 1;").unwrap();
    let generated = project.config().generate().unwrap();
    assert_eq!(
        project.migrations(),
        [
            "1_init.sql",
            "2_audit_schema.sql",
            "3_audit_public_article.sql",
            "4_audit_public_tag.sql"
        ]
    );
    assert!(project.dir.join("audit.lock").exists());
    assert!(project.dir.join("out/audit.rs").exists());
    assert_eq!(generated.written.len(), 4, "{:?}", generated.written);

    let before = project.tree();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = project.config().generate().unwrap();
    assert!(again.written.is_empty(), "{:?}", again.written);
    assert_eq!(
        project.tree(),
        before,
        "a no-op run must not touch any file"
    );
}

#[test]
fn check_mode_lists_pending_changes_and_passes_when_up_to_date() {
    let project = Project::new("check", MANIFEST);
    let err = project.config().check(true).generate().unwrap_err();
    let Error::OutOfDate(pending) = &err else {
        panic!("expected OutOfDate, got {err}");
    };
    let text = pending.join("\n");
    for expected in [
        "1_audit_schema.sql: create audit schema audit",
        "2_audit_public_article.sql: audit table public.article",
        "3_audit_public_tag.sql: audit table public.tag",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(project.migrations().is_empty(), "check mode writes nothing");

    project.config().generate().unwrap();
    project.config().check(true).generate().unwrap();

    // A new exclusion is a pending change for the article table only.
    std::fs::write(
        project.dir.join("audit.toml"),
        MANIFEST.replace(
            r#"exclude = ["updated_at"]"#,
            r#"exclude = ["updated_at", "body"]"#,
        ),
    )
    .unwrap();
    let err = project.config().check(true).generate().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(
            "4_audit_public_article_update.sql: column \"body\" excluded: history keys kept"
        ),
        "{text}"
    );
    assert!(!text.contains("public.tag"), "{text}");
}

#[test]
fn emitted_migrations_are_never_rewritten() {
    let project = Project::new("never", MANIFEST);
    project.config().generate().unwrap();
    let first =
        std::fs::read_to_string(project.dir.join("migrations/2_audit_public_article.sql")).unwrap();
    // Losing the lock file would make the plan start over: refuse rather than overwrite.
    std::fs::remove_file(project.dir.join("audit.lock")).unwrap();
    let err = project.config().generate().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("does not record"), "{text}");
    assert!(text.contains("2_audit_public_article.sql"), "{text}");
    let after =
        std::fs::read_to_string(project.dir.join("migrations/2_audit_public_article.sql")).unwrap();
    assert_eq!(first, after);
}

/// The snapshot of a schema of `tables` tables (`t0000`, …) with a key and a text column
/// each, and one more column in `wider`.
fn many_tables(tables: usize, wider: Option<usize>) -> String {
    use audit_codegen::model::{Column, Schema, Table, TableKind};
    let mut schema = Schema::default();
    for t in 0..tables {
        let mut columns = vec![
            Column {
                nullable: false,
                ..Column::new("id", "bigint")
            },
            Column::new("note", "text"),
        ];
        if wider == Some(t) {
            columns.push(Column::new("added", "integer"));
        }
        schema.tables.push(Table {
            primary_key: Some(vec!["id".into()]),
            columns,
            schema: "public".into(),
            name: format!("t{t:04}"),
            kind: TableKind::Ordinary,
            partition_of: None,
        });
    }
    schema.to_snapshot_json()
}

/// The manifest auditing the tables of [`many_tables`].
fn many_tables_manifest(tables: usize) -> String {
    let mut text = "[schema]\nsnapshot = \"schema.json\"\n".to_owned();
    for t in 0..tables {
        text.push_str(&format!("\n[tables.t{t:04}]\n"));
    }
    text
}

/// Each table's file in the generated `audit.rs` and the module it is included into.
fn table_modules(audit_rs: &str) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    let mut module = None;
    for line in audit_rs.lines() {
        if let Some(name) = line.strip_prefix("mod ") {
            module = Some(name.trim_end_matches(" {").to_owned());
        } else if let Some(file) = line.trim().strip_prefix("include!(\"audit/") {
            let file = file.trim_end_matches("\");").to_owned();
            modules.insert(file, module.clone().expect("included inside a module"));
        }
    }
    modules
}

#[test]
fn a_table_change_rewrites_its_file_alone_and_tables_keep_their_modules() {
    let tables = 300;
    let project = Project::new("modules", &many_tables_manifest(tables));
    let schema = project.dir.join("schema.json");
    std::fs::write(&schema, many_tables(tables, None)).unwrap();
    project.config().generate().unwrap();
    let before = project.tree();
    let audit_rs = &before[&project.dir.join("out/audit.rs")].0;
    let modules = table_modules(audit_rs);
    assert_eq!(modules.len(), tables, "{audit_rs}");
    let distinct: std::collections::BTreeSet<&String> = modules.values().collect();
    // Far fewer modules than the 256 codegen units of the dev profile, so rustc never
    // merges them; and enough that a change recompiles a few tables' code.
    assert!(
        (48..=64).contains(&distinct.len()),
        "{} modules",
        distinct.len()
    );

    // One column more in one table: its file changes, nothing else does.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&schema, many_tables(tables, Some(150))).unwrap();
    project.config().generate().unwrap();
    let after = project.tree();
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(path, file)| before.get(*path) != Some(*file))
        .map(|(path, _)| path)
        .filter(|path| !path.ends_with("audit.rs.inputs") && !path.ends_with("schema.json"))
        .collect();
    assert!(
        changed.len() >= 2
            && changed.iter().all(|p| p.ends_with("out/audit/T0150.rs")
                || p.starts_with(project.dir.join("migrations"))
                || p.ends_with("audit.lock")),
        "{changed:?}"
    );
    assert!(changed.iter().any(|p| p.ends_with("out/audit/T0150.rs")));

    // A new table: every other table stays in its module.
    std::fs::write(
        project.dir.join("audit.toml"),
        many_tables_manifest(tables + 1),
    )
    .unwrap();
    std::fs::write(&schema, many_tables(tables + 1, Some(150))).unwrap();
    project.config().generate().unwrap();
    let grown = table_modules(&std::fs::read_to_string(project.dir.join("out/audit.rs")).unwrap());
    assert_eq!(grown.len(), tables + 1);
    for (file, module) in &modules {
        assert_eq!(&grown[file], module, "{file} moved");
    }
}
