fn main() {
    // Reads audit.toml, writes $OUT_DIR/audit.rs, and writes new audit migrations into
    // migrations/ when the audited schema changed (none when everything is up to date).
    audit_codegen::generate().unwrap();
}
