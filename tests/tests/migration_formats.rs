//! Every migration format: file names that each tool accepts, versions that sort after
//! the user's own migrations, and a snapshot of what is written.

use audit_codegen::Config;
use std::path::{Path, PathBuf};

const SCHEMA: &str = "CREATE TABLE article (id int PRIMARY KEY, name text);\n";

struct Project(PathBuf);

impl Project {
    /// A project with `user_migrations` (paths relative to `migrations/`) already there.
    fn new(label: &str, format: &str, user_migrations: &[&str]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("audit-formats-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("migrations")).unwrap();
        for (i, relative) in user_migrations.iter().enumerate() {
            let path = dir.join("migrations").join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            // The first user migration creates the table; the rest are no-ops.
            let sql = if i == 0 { SCHEMA } else { "SELECT 1;\n" };
            std::fs::write(path, sql).unwrap();
        }
        std::fs::write(
            dir.join("audit.toml"),
            format!(
                "[schema]\nddl = [\"migrations\"]\n\n[migrations]\nformat = \"{format}\"\n\n[tables.article]\n"
            ),
        )
        .unwrap();
        Self(dir)
    }

    fn generate(&self) -> Vec<String> {
        let generated = Config::new()
            .manifest(self.0.join("audit.toml"))
            .cargo_output(false)
            .check(false)
            .write_migrations(true)
            .generate()
            .unwrap();
        let migrations = self.0.join("migrations");
        let mut written: Vec<String> = generated
            .written
            .iter()
            .filter_map(|p| p.strip_prefix(&migrations).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        written.sort();
        written
    }

    fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.0.join("migrations").join(relative)).unwrap()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The outline of a generated file: its first and last lines.
fn outline(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let head = &lines[..lines.len().min(4)];
    let tail = &lines[lines.len().saturating_sub(2)..];
    format!("{}\n[…]\n{}", head.join("\n"), tail.join("\n"))
}

fn snapshot_of(project: &Project, written: &[String]) -> String {
    written
        .iter()
        .map(|name| format!("=== {name}\n{}\n", outline(&project.read(name))))
        .collect()
}

/// sqlx's rule: `<i64 version>_<description>.sql` (or `.up.sql`/`.down.sql`).
fn sqlx_accepts(name: &str) -> bool {
    let stem = name
        .strip_suffix(".up.sql")
        .or_else(|| name.strip_suffix(".down.sql"))
        .or_else(|| name.strip_suffix(".sql"));
    stem.and_then(|s| s.split_once('_'))
        .is_some_and(|(v, d)| v.parse::<i64>().is_ok() && !d.is_empty())
}

#[test]
fn sqlx_sequential_versions_follow_the_users() {
    let user = ["1_create.sql", "2_a.sql", "3_b.sql", "4_c.sql", "5_d.sql"];
    let project = Project::new("sqlx", "sqlx", &user);
    let written = project.generate();
    assert_eq!(
        written,
        ["6_audit_schema.sql", "7_audit_public_article.sql"]
    );
    assert!(written.iter().all(|n| sqlx_accepts(n)));
    insta::assert_snapshot!("sqlx", snapshot_of(&project, &written));
}

#[test]
fn sqlx_timestamped_reversible_directories_get_up_and_down_files() {
    let user = [
        "20250101093000_create.up.sql",
        "20250101093000_create.down.sql",
        "20250301120000_more.up.sql",
        "20250301120000_more.down.sql",
    ];
    let project = Project::new("sqlx-rev", "sqlx", &user);
    let written = project.generate();
    assert_eq!(
        written,
        [
            "20250301120001_audit_schema.down.sql",
            "20250301120001_audit_schema.up.sql",
            "20250301120002_audit_public_article.down.sql",
            "20250301120002_audit_public_article.up.sql",
        ]
    );
    assert!(written.iter().all(|n| sqlx_accepts(n)));
    insta::assert_snapshot!("sqlx_reversible", snapshot_of(&project, &written));
}

#[test]
fn refinery_names_are_accepted_by_refinery() {
    let user = ["V1__create.sql", "V2__a.sql", "V5__b.sql"];
    let project = Project::new("refinery", "refinery", &user);
    let written = project.generate();
    assert_eq!(
        written,
        ["V6__audit_schema.sql", "V7__audit_public_article.sql"]
    );
    for name in &written {
        let stem = name.strip_suffix(".sql").unwrap();
        refinery::Migration::unapplied(stem, &project.read(name))
            .unwrap_or_else(|e| panic!("refinery refuses {name}: {e}"));
    }
    insta::assert_snapshot!("refinery", snapshot_of(&project, &written));
}

#[test]
fn diesel_directories_sort_after_the_users_and_have_down_files() {
    let user = [
        "00000000000000_diesel_initial_setup/up.sql",
        "00000000000000_diesel_initial_setup/down.sql",
        "2025-01-31-093000_create_article/up.sql",
        "2025-01-31-093000_create_article/down.sql",
    ];
    // diesel's own setup migration comes first; the table is created by the second one.
    let project = Project::new("diesel", "diesel", &user[2..]);
    for relative in &user[..2] {
        let path = project.0.join("migrations").join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "SELECT 1;\n").unwrap();
    }
    let written = project.generate();
    assert_eq!(
        written,
        [
            "2025-01-31-093001_audit_schema/down.sql",
            "2025-01-31-093001_audit_schema/up.sql",
            "2025-01-31-093002_audit_public_article/down.sql",
            "2025-01-31-093002_audit_public_article/up.sql",
        ]
    );
    // diesel orders migrations by the version string before the first `_`.
    let names: Vec<String> = std::fs::read_dir(project.0.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut versions: Vec<&str> = names.iter().map(|n| n.split('_').next().unwrap()).collect();
    versions.sort();
    assert_eq!(versions.last(), Some(&"2025-01-31-093002"));
    insta::assert_snapshot!("diesel", snapshot_of(&project, &written));
}

#[test]
fn plain_files_are_zero_padded_and_transactional() {
    let user = ["0001_create.sql", "0002_more.sql"];
    let project = Project::new("plain", "plain", &user);
    let written = project.generate();
    assert_eq!(
        written,
        ["0003_audit_schema.sql", "0004_audit_public_article.sql"]
    );
    for name in &written {
        let text = project.read(name);
        assert!(text.contains("\nBEGIN;\n"), "{name}");
        assert!(text.ends_with("COMMIT;\n"), "{name}");
    }
    insta::assert_snapshot!("plain", snapshot_of(&project, &written));
}

/// Runs `file` with psql (stopping at the first error) and returns what it printed on
/// stderr; fails when psql fails.
fn psql(url: &str, file: &Path, extra: &[&str]) -> String {
    let output = std::process::Command::new("psql")
        .args(["-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", url])
        .args(extra)
        .arg("-f")
        .arg(file)
        .output()
        .expect("psql is installed with the PostgreSQL client");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "psql failed on {}:\n{stderr}",
        file.display()
    );
    stderr
}

/// What the migration tools do: each file in its own transaction (psql `-1`). The
/// `SET LOCAL` at the top of each generated file silences the notices of a fresh
/// install there too.
#[test]
fn tool_formats_install_without_notices() {
    let project = Project::new("sqlx-quiet", "sqlx", &["1_create.sql"]);
    let written = project.generate();
    let db = audit_tests::TestDb::new("formats_quiet");
    psql(db.url(), &project.0.join("migrations/1_create.sql"), &[]);
    for name in &written {
        let text = project.read(name);
        assert!(
            text.contains("\nSET LOCAL client_min_messages = warning;\n"),
            "{name}"
        );
        let stderr = psql(db.url(), &project.0.join("migrations").join(name), &["-1"]);
        assert!(stderr.is_empty(), "{name} printed:\n{stderr}");
    }
}

#[test]
fn plain_files_apply_with_psql_in_name_order() {
    let user = ["0001_create.sql"];
    let project = Project::new("plain-psql", "plain", &user);
    project.generate();
    let db = audit_tests::TestDb::new("formats_psql");
    let mut names: Vec<String> = std::fs::read_dir(project.0.join("migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    for name in names {
        let stderr = psql(db.url(), &project.0.join("migrations").join(&name), &[]);
        // A fresh install is quiet: no `NOTICE: … does not exist, skipping`.
        if name.contains("audit") {
            assert!(stderr.is_empty(), "{name} printed:\n{stderr}");
        }
    }
    let mut client = db.client();
    client
        .batch_execute("INSERT INTO article VALUES (1, 'a')")
        .unwrap();
    let count: i64 = client
        .query_one("SELECT count(*) FROM audit.activity", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 1);
}
