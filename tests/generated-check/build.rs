//! Renders the typed Rust for the fixture schemas from their committed JSON snapshots,
//! and for every case of `tests/fixtures/rust_cases` from its DDL and manifest.

#[path = "spec.rs"]
mod spec;

use audit_codegen::source::snapshot;
use std::path::{Path, PathBuf};

fn render(
    fixture: &str,
    out: &Path,
    spec: impl Fn(audit_codegen::model::Schema) -> audit_codegen::spec::AuditSpec,
) {
    let path = Path::new("fixtures").join(format!("{fixture}.json"));
    println!("cargo:rerun-if-changed={}", path.display());
    let schema = snapshot::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let output = audit_codegen::rust::render(&spec(schema)).unwrap_or_else(|e| panic!("{e}"));
    for warning in &output.warnings {
        println!("cargo:warning={warning}");
    }
    if out.ends_with("audit.rs") {
        // As `generate()` writes it: each table in a file of its own, included.
        let dir = out.with_file_name(audit_codegen::rust::TABLE_DIR);
        std::fs::create_dir_all(&dir).expect("create the tables' directory");
        for (name, code) in &output.table_files {
            std::fs::write(dir.join(name), code).expect("write generated code");
        }
        std::fs::write(out, output.split_code).expect("write generated code");
    } else {
        std::fs::write(out, output.code).expect("write generated code");
    }
}

fn main() {
    println!("cargo:rerun-if-changed=spec.rs");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    render(
        "kitchen_sink",
        &out_dir.join("kitchen_sink.rs"),
        spec::kitchen_sink,
    );
    render(
        "kitchen_sink",
        &out_dir.join("kitchen_sink_time.rs"),
        spec::kitchen_sink_time,
    );
    render("hostile", &out_dir.join("hostile.rs"), spec::hostile);
    // The round-trip code goes to `audit.rs`, the file `include_audit!` includes, which
    // includes its tables' files.
    render("roundtrip", &out_dir.join("audit.rs"), spec::roundtrip);
    render_rust_cases(&out_dir);
}

/// Renders each case folder of `tests/fixtures/rust_cases` (whose snapshots
/// `tests/tests/rust_snapshots.rs` checks) into `$OUT_DIR/rust_cases/<case>.rs`, built
/// from its `audit.toml` and `schema.sql` as `generate()` builds it, without a database,
/// and writes `$OUT_DIR/rust_cases.rs` declaring one module per case.
fn render_rust_cases(out_dir: &Path) {
    let root = Path::new("../fixtures/rust_cases");
    // For a directory cargo reruns the script when anything below it changes, so a new
    // case folder is compiled without touching this crate.
    println!("cargo:rerun-if-changed={}", root.display());
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    // Sorted, so the declared modules do not depend on the file system's order.
    cases.sort();
    let cases_dir = out_dir.join("rust_cases");
    std::fs::create_dir_all(&cases_dir).expect("create $OUT_DIR/rust_cases");
    let mut modules = String::new();
    for dir in cases {
        let case = dir
            .file_name()
            .and_then(|name| name.to_str())
            .expect("UTF-8 case folder name");
        // The folder name is the module name.
        assert!(
            case.starts_with(|c: char| c.is_ascii_lowercase())
                && case
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "rust case folder `{case}` is not a snake_case module name"
        );
        let (spec, _) = audit_codegen::Config::new()
            .manifest(dir.join("audit.toml"))
            .cargo_output(false)
            .plan()
            .unwrap_or_else(|e| panic!("rust case {case}: {e}"));
        let output =
            audit_codegen::rust::render(&spec).unwrap_or_else(|e| panic!("rust case {case}: {e}"));
        for warning in &output.warnings {
            println!("cargo:warning=rust case {case}: {warning}");
        }
        std::fs::write(cases_dir.join(format!("{case}.rs")), output.code)
            .expect("write generated code");
        modules.push_str(&format!(
            "/// The generated code of the case `tests/fixtures/rust_cases/{case}`.\n\
             pub mod {case} {{\n    \
             include!(concat!(env!(\"OUT_DIR\"), \"/rust_cases/{case}.rs\"));\n}}\n"
        ));
    }
    std::fs::write(out_dir.join("rust_cases.rs"), modules).expect("write rust_cases.rs");
}
