//! `generate_or_fail()` as a build script runs it: in a process of its own, with the
//! environment cargo gives build scripts. This test binary runs itself again to be that
//! process (`child` does the work only when `AUDIT_BUILD_SCRIPT_CHILD` is set).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHILD_ENV: &str = "AUDIT_BUILD_SCRIPT_CHILD";

/// A manifest with two unknown keys and two misspelt columns.
const MANIFEST: &str = r#"[schema]
pg_dump = "schema.sql"

[tables.article]
exlude = ["body"]
exclude = ["titel", "bodyy"]
[tables.article.columns.title]
rust_typ = "String"
"#;

const SCHEMA: &str =
    "CREATE TABLE public.article (id bigint PRIMARY KEY, title text, body text);\n";

/// The build script: what `fn main() { audit_codegen::generate_or_fail(); }` does.
#[test]
fn child() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let generated = audit_codegen::generate_or_fail();
        println!("child returned {}", generated.is_some());
    }
}

/// A project directory holding the manifest and its schema.
fn project(label: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("audit-build-script-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("out")).unwrap();
    std::fs::write(dir.join("audit.toml"), MANIFEST).unwrap();
    std::fs::write(dir.join("schema.sql"), SCHEMA).unwrap();
    dir
}

/// Runs `child` in a new process with `CARGO_MANIFEST_DIR` = `dir`, and `OUT_DIR` when
/// `cargo` is set (as cargo runs build scripts).
fn run_child(dir: &Path, cargo: bool) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child", "--exact", "--nocapture", "--test-threads=1", "-q"])
        .env(CHILD_ENV, "1")
        .env("CARGO_MANIFEST_DIR", dir)
        .env_remove("OUT_DIR")
        .env_remove("AUDIT_CODEGEN_CHECK")
        .env_remove("RUST_BACKTRACE");
    if cargo {
        command.env("OUT_DIR", dir.join("out"));
    }
    command.output().unwrap()
}

#[test]
fn under_cargo_every_mistake_is_a_cargo_error_line_without_a_panic() {
    let dir = project("cargo");
    let output = run_child(&dir, true);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    let all = format!("{stdout}{stderr}");
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains("backtrace"), "{all}");
    let manifest = dir.join("audit.toml").display().to_string();
    let errors: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("cargo::error="))
        .collect();
    let expected = [
        format!("{manifest}:5:1: unknown field `exlude`"),
        "  help: did you mean `exclude`?".to_owned(),
        format!("{manifest}:6:12: unknown column \"titel\" in table public.article"),
        "  help: did you mean \"title\"?".to_owned(),
        format!("{manifest}:6:21: unknown column \"bodyy\" in table public.article"),
        "  help: did you mean \"body\"?".to_owned(),
        format!("{manifest}:8:1: unknown field `rust_typ`"),
        "  help: did you mean `rust_type`?".to_owned(),
    ];
    assert_eq!(errors.len(), expected.len(), "{stdout}");
    for (line, want) in errors.iter().zip(&expected) {
        assert!(line.starts_with(want.as_str()), "{line:?} is not {want:?}");
    }
    // The script ends normally; cargo fails the build because of the errors.
    assert!(stdout.contains("child returned false"), "{stdout}");
    assert!(output.status.success(), "{all}");
}

#[test]
fn outside_cargo_the_errors_go_to_stderr_and_the_process_fails() {
    let dir = project("plain");
    let output = run_child(&dir, false);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let manifest = dir.join("audit.toml").display().to_string();
    assert!(
        stderr.contains(&format!("{manifest}:5:1: unknown field `exlude`")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{manifest}:8:1: unknown field `rust_typ`")),
        "{stderr}"
    );
}
