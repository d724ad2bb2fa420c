//! The benchmark suite of the audit trail (issue 7).
//!
//! Measures, on a throw-away database of the real server, the single-row write path
//! (pgbench, simple and prepared protocol), bulk statements, and code generation, for no
//! auditing, our generated triggers, three generic baselines (a row-level jsonb trigger,
//! the classic row-level hstore trigger, a statement-level trigger) and the floor of
//! writing the audit rows by hand; writes medians, ratios and targets to a markdown
//! report. See `bench/README.md`.
#![warn(missing_docs)]

pub mod bulk;
pub mod codegen;
pub mod codegen_runner;
pub mod compile_time;
pub mod database;
pub mod fixture;
pub mod generated_compile;
pub mod install;
pub mod machine;
pub mod model;
pub mod options;
pub mod partitioned;
pub mod pgbench;
pub mod profile;
pub mod report;
pub mod single_row;
pub mod stats;
pub mod suite;
pub mod targets;
pub mod workload;
