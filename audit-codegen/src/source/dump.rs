//! The `pg_dump --schema-only` source.
//!
//! A plain-format dump is DDL, so it is read by the same statement applier as DDL files
//! ([`super::ddl`]), with two differences: psql meta-commands (`\restrict KEY`,
//! `\connect`, …, which dumps contain since PostgreSQL 17.6/16.10/15.14) are blanked out
//! before reading, and `ALTER TABLE` statements on relations the model leaves out
//! (sequences, views, foreign tables) are skipped instead of being errors. The dump sets
//! an empty `search_path`, so every user-defined name in it is schema-qualified and
//! defaults are written exactly as `pg_get_expr` prints them: the model comes out
//! identical to live introspection.

use super::ddl::{Applier, Mode};
use crate::error::{Error, Result};
use crate::model::Schema;
use std::path::Path;

/// Reads a `pg_dump --schema-only` file (plain format).
pub fn read(path: &Path) -> Result<Schema> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(path, &text)
}

/// Parses `pg_dump --schema-only` output; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Schema> {
    let mut applier = Applier::new(Mode::Dump);
    applier.apply_file(path, text)?;
    Ok(applier.finish().schema)
}
