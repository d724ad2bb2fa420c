//! The one error type of the generator.

use std::fmt;
use std::path::{Path, PathBuf};

/// A problem found at a precise place in an input file (manifest, dump, DDL file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column number.
    pub column: usize,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// A suggestion such as the closest existing name, when there is one.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `line`:`column` of `file`.
    pub fn new(file: &Path, line: usize, column: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a suggestion.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong while generating.
///
/// `Debug` prints the same text as `Display`, so `audit_codegen::generate().unwrap()` in a
/// build script shows the readable diagnostics rather than a struct dump.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The manifest is invalid; the diagnostics point at each offending line.
    #[error("{}", join(.0))]
    Manifest(Vec<Diagnostic>),
    /// A schema file (dump, DDL, snapshot) could not be understood.
    #[error("{0}")]
    Schema(Box<Diagnostic>),
    /// Talking to the live database failed.
    #[error("database introspection failed: {0}")]
    Database(String),
    /// The inputs are consistent on their own but cannot be generated from, e.g. two
    /// tables that map to the same Rust name.
    #[error("{0}")]
    Generate(String),
    /// Check mode found generated files that are not up to date.
    #[error("audit migrations are not up to date:\n{}", .0.join("\n"))]
    OutOfDate(Vec<String>),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn join(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// The diagnostics carried by a manifest or schema-file error (empty otherwise).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Manifest(d) => d,
            Self::Schema(d) => std::slice::from_ref(d),
            _ => &[],
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
