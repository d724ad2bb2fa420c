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
