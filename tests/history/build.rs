//! Renders the typed Rust of the history test schema from its committed JSON snapshot.

#[path = "spec.rs"]
mod spec;

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=spec.rs");
    println!("cargo:rerun-if-changed=fixtures/history.json");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("dir"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let spec = spec::history(spec::snapshot(&manifest_dir));
    let output = audit_codegen::rust::render(&spec).unwrap_or_else(|e| panic!("{e}"));
    for warning in &output.warnings {
        println!("cargo:warning={warning}");
    }
    std::fs::write(out_dir.join("audit.rs"), output.code).expect("write generated code");
}
