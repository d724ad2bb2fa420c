//! Generates a PostgreSQL audit trail for a Rust application at build time.
//!
//! Call it from `build.rs`; it reads `audit.toml` next to your `Cargo.toml`:
//!
//! ```no_run
//! // build.rs, inside `fn main()`:
//! audit_codegen::generate_or_fail();
//! ```
//!
//! [`generate_or_fail`] prints every error as a `cargo::error=` line naming the file,
//! line and column, and the build fails; [`generate`] returns the [`Result`] instead.
//!
//! ```toml
//! # audit.toml
//! [schema]
//! pg_dump = "schema.sql"          # or ddl = ["migrations"], snapshot = "…", live = "DATABASE_URL"
//!
//! [migrations]
//! format = "sqlx"                 # sqlx | refinery | diesel | plain
//!
//! [tables.article]
//! exclude = ["updated_at"]
//! ```
//!
//! One run does four things:
//!
//! 1. **Reads the schema** from one of the [`source`]s into the [`model`]: a live database,
//!    a JSON snapshot, a `pg_dump --schema-only` file or your own DDL migrations. All four
//!    describe the same database identically.
//! 2. **Validates the [`manifest`]** against it, reporting every mistake with its file,
//!    line, column and the closest valid name, and resolves it into an [`spec::AuditSpec`].
//! 3. **Renders** the typed Rust ([`rust`]) into `$OUT_DIR/audit.rs`, and the SQL
//!    ([`sql`], from the askama templates) of the audit schema and of each table's triggers.
//! 4. **Plans migrations** ([`migrate`]): compares the wanted state with the committed
//!    `audit.lock` and writes new, versioned migration files only for what changed, after
//!    every migration already in the directory. Emitted files are never rewritten; history
//!    is rewritten when columns or tables are renamed, retyped or excluded.
//!
//! [`Config`] covers other paths and modes, e.g. check mode for CI (also switched on by the
//! [`CHECK_ENV`] environment variable), which writes nothing and fails with the list of
//! pending changes:
//!
//! ```no_run
//! audit_codegen::Config::new()
//!     .manifest("db/audit.toml")
//!     .check(true)
//!     .generate()
//!     .unwrap();
//! ```
//!
//! Errors also print readably from `unwrap()` ([`Error`]'s `Debug` is its `Display`),
//! inside cargo's panic report.
//!
//! Build scripts are compiled in the `dev` profile, unoptimized. Generation renders and
//! formats about 30 KB of Rust per 20-column table, so for large schemas (hundreds of
//! tables) optimize the generator and the crates it spends its time in; a rebuild with
//! nothing changed does not render again either way:
//!
//! ```toml
//! # Cargo.toml of your workspace
//! [profile.dev.package.audit-codegen]
//! opt-level = 3
//! [profile.dev.package.syn]
//! opt-level = 3
//! [profile.dev.package.proc-macro2]
//! opt-level = 3
//! [profile.dev.package.quote]
//! opt-level = 3
//! [profile.dev.package.prettyplease]
//! opt-level = 3
//! ```
//!
//! The generated code needs only the `audit-runtime` crate, which also sets who is acting
//! for a transaction and answers the history questions.
//!
//! # Features
//!
//! - `live` (default): read the schema from a running database through `pg_catalog`
//!   (`[schema] live = "DATABASE_URL"`, `source::live`); pulls in the `postgres` client.
//!   Without it the schema comes from a `pg_dump` file, DDL files or a JSON snapshot.
//! - `cli`: the `audit-codegen` command-line tool (`snapshot`, `generate`, `check`,
//!   `diff`); implies `live`.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod error;
mod hash;
pub mod ident;
pub mod manifest;
pub mod migrate;
pub mod model;
pub mod rust;
pub mod source;
pub mod spec;
pub mod sql;
pub mod sqltext;

pub use config::{CHECK_ENV, Config, Generated, generate, generate_or_fail};
pub use error::{Diagnostic, Error, Result};
