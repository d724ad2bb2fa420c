//! The generated typed Rust of the history test schema (`fixtures/schema.sql`), used by
//! the query tests and the benchmark.
#![deny(warnings, missing_docs)]

audit_runtime::include_audit!();
