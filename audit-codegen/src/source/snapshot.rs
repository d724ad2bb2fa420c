//! The JSON snapshot source: a model written from a live introspection and read back when
//! no database is available (for example in CI or `cargo publish` verification).

use crate::error::{Diagnostic, Error, Result};
use crate::model::Schema;
use std::path::Path;

/// Reads a snapshot written by [`write()`].
pub fn read(path: &Path) -> Result<Schema> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(path, &text)
}

/// Parses snapshot text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Schema> {
    let mut schema: Schema = serde_json::from_str(text).map_err(|e| {
        Error::Schema(Box::new(Diagnostic::new(
            path,
            e.line(),
            e.column(),
            format!("invalid schema snapshot: {e}"),
        )))
    })?;
    schema.normalize();
    Ok(schema)
}

/// Writes `schema` as a snapshot, leaving the file untouched when its content would not
/// change (so build scripts and editors see no modification).
pub fn write(path: &Path, schema: &Schema) -> Result<()> {
    let text = schema.to_snapshot_json();
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}
