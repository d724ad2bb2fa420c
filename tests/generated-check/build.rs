//! Renders the typed Rust for the fixture schemas from their committed JSON snapshots.

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
    std::fs::write(out, output.code).expect("write generated code");
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
    // The round-trip code goes to `audit.rs`, the file `include_audit!` includes.
    render("roundtrip", &out_dir.join("audit.rs"), spec::roundtrip);
}
