fn main() {
    // Reads audit.toml, writes $OUT_DIR/audit.rs and the audit migrations (run.sh builds
    // a scratch copy of this crate, so they never land in the repository).
    audit_codegen::generate().unwrap();
}
