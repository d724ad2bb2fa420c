//! Generates the typed audit code for the final schema. Migrations are not written here:
//! the test `committed_migrations_are_exactly_what_the_generator_writes` checks them (and
//! rewrites them with `UPDATE_FIXTURES=1`).
fn main() {
    audit_codegen::Config::new()
        .write_migrations(false)
        .check(false)
        .generate()
        .unwrap();
}
