//! Generates a PostgreSQL audit trail for a Rust application at build time.
#![warn(missing_docs)]

mod config;
mod error;
pub mod ident;
pub mod manifest;
pub mod migrate;
pub mod model;
pub mod rust;
pub mod source;
pub mod spec;
pub mod sql;
pub mod sqltext;

pub use config::{CHECK_ENV, Config, Generated, generate};
pub use error::{Diagnostic, Error, Result};
