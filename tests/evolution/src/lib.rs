//! The typed audit code of the evolution scenario's final schema (v2).
//!
//! `migrations/` holds the user's migrations (`V1__create.sql`, `V5__evolve.sql`) and the
//! audit migrations generated after each of them; `steps/` holds the inputs of the first
//! generation, so a test can replay both generations and compare the output with what is
//! committed.
#![deny(warnings, missing_docs)]

audit_runtime::include_audit!();
