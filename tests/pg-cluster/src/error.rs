//! The error of this crate: a kind to match on and a message to show as it is.

use std::fmt;

/// What went wrong, to match on; the [`Error`]'s message says it in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`) were found.
    NoServerBinaries,
    /// Running as root, and no unprivileged account to run the server as.
    NoServerAccount,
    /// A file or directory of the cluster could not be created, read or removed.
    Io,
    /// `initdb` failed.
    InitDb,
    /// The server did not start, or is running but cannot be reached.
    Start,
    /// The server could not be brought down ([`Lease::crash`](crate::Lease::crash)).
    Stop,
}

/// Why the server could not be provided, with a message meant for people.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn io(what: impl fmt::Display, error: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, format!("{what}: {error}"))
    }

    /// Puts `context` in front of the message.
    pub(crate) fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}, and {}", self.message);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
