//! Snapshots of the generated Rust, one per case folder of `fixtures/rust_cases/`.
//!
//! Each folder holds a `schema.sql` (plain DDL) and an `audit.toml` whose `[schema]`
//! reads it, so a case is built the way `generate()` builds it, without a database; its
//! output is the snapshot `rust_<folder>`. A new folder is a new case. The same cases
//! are compiled with every warning denied by `tests/generated-check`.
//!
//! Every case is checked before the test fails, so one run shows every changed snapshot
//! (review them with `cargo insta review`, or accept with `INSTA_UPDATE=always`).

use audit_codegen::Config;
use audit_tests::fixture;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The files every case folder must hold.
const CASE_FILES: [&str; 2] = ["schema.sql", "audit.toml"];

/// The case folders, sorted by name so the run order is stable.
fn cases() -> Vec<PathBuf> {
    let root = fixture("rust_cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no case folder in {}", root.display());
    dirs
}

/// The generated code of one case, checking that rendering is deterministic and maps
/// every column (a fallback to `serde_json::Value` would hide a missing mapping).
fn render_case(dir: &Path) -> String {
    let missing: Vec<&str> = CASE_FILES
        .into_iter()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "case {} lacks {}",
        dir.display(),
        missing.join(" and ")
    );
    let (spec, _) = Config::new()
        .manifest(dir.join("audit.toml"))
        .cargo_output(false)
        .plan()
        .unwrap_or_else(|e| panic!("case {}: {e}", dir.display()));
    let output = audit_codegen::rust::render(&spec)
        .unwrap_or_else(|e| panic!("case {}: {e}", dir.display()));
    assert!(
        output.warnings.is_empty(),
        "case {}: {:?}",
        dir.display(),
        output.warnings
    );
    let again = audit_codegen::rust::render(&spec).unwrap();
    assert_eq!(
        output.code,
        again.code,
        "case {}: rendering is not deterministic",
        dir.display()
    );
    output.code
}

#[test]
fn generated_rust_matches_snapshots() {
    let mut failed = Vec::new();
    for dir in cases() {
        let case = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 case folder name")
            .to_owned();
        let result = catch_unwind(AssertUnwindSafe(|| {
            let code = render_case(&dir);
            let mut settings = insta::Settings::clone_current();
            // The snapshot header names the case's schema, for reviewers.
            settings.set_input_file(dir.join("schema.sql"));
            settings.bind(|| insta::assert_snapshot!(format!("rust_{case}"), code));
        }));
        if result.is_err() {
            failed.push(case);
        }
    }
    assert!(
        failed.is_empty(),
        "cases with errors or changed snapshots: {}",
        failed.join(", ")
    );
}
