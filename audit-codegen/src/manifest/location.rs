//! Turns byte offsets (what `toml` spans are) into the 1-based line and column that
//! editors and terminals understand.

use crate::Diagnostic;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The manifest text plus its file name: everything needed to place a diagnostic.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    path: PathBuf,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    text: String,
}

impl SourceFile {
    pub(crate) fn new(path: &Path, text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            path: path.to_path_buf(),
            line_starts,
            text: text.to_owned(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Line and column (both 1-based) of byte `offset`. The column counts characters,
    /// not bytes, so it matches what an editor shows on lines with non-ASCII text.
    /// Offsets past the end or inside a character are clamped rather than trusted, so a
    /// wrong span can never panic.
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        (line, column)
    }

    /// A diagnostic at the start of `span`.
    pub(crate) fn at(&self, span: &Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.line_column(span.start);
        Diagnostic::new(&self.path, line, column, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_and_characters() {
        let file = SourceFile::new(Path::new("a.toml"), "ab\ncé d\n\nx");
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(2), (1, 3));
        assert_eq!(file.line_column(3), (2, 1));
        // `é` is two bytes but one column.
        assert_eq!(file.line_column(6), (2, 3));
        assert_eq!(file.line_column(5), (2, 2)); // inside `é`: clamped back
        assert_eq!(file.line_column(9), (3, 1));
        assert_eq!(file.line_column(10), (4, 1));
        assert_eq!(file.line_column(1000), (4, 2));
    }
}
