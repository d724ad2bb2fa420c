fn main() {
    // Reads audit.toml, writes $OUT_DIR/audit.rs, and writes new audit migrations into
    // migrations/ when the audited schema changed (none when everything is up to date).
    // Mistakes in audit.toml are reported as build errors naming file, line and column.
    audit_codegen::generate_or_fail();
}
