//! Renders the typed Rust of the history test schema (`tests/history`) from its
//! committed JSON snapshot: the explorer is shown its tables.

#[path = "../history/spec.rs"]
mod spec;

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("dir"));
    let history = manifest_dir.join("../history");
    println!("cargo:rerun-if-changed=../history/spec.rs");
    println!("cargo:rerun-if-changed=../history/fixtures/history.json");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let spec = spec::history(spec::snapshot(&history));
    let output = audit_codegen::rust::render(&spec).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out_dir.join("audit.rs"), output.code).expect("write generated code");
}
