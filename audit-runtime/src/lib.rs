//! Runtime of the PostgreSQL audit trail: who is acting, activity rows, typed history.
//!
//! The generated code (`$OUT_DIR/audit.rs`, included with [`include_audit!`]) depends only
//! on this crate: it decodes [`Activity`] rows into one typed change enum per table, using
//! the value types of [`types`] for PostgreSQL types that have no exact std equivalent.
//! Decoding never guesses: a value that does not fit its column's type is a
//! [`DecodeError`] naming the activity, table, column, expected type and offending JSON.
//!
//! ```ignore
//! audit_runtime::include_audit!();
//!
//! let rows = client.query("SELECT * FROM audit.activity ORDER BY id", &[])?;
//! for row in &rows {
//!     let activity = audit_runtime::Activity::from_row(row)?;
//!     match Change::try_from(&activity)? {
//!         Change::Article(ArticleChange::Update { old, changed }) => {
//!             if let Some(name) = &changed.name {
//!                 println!("article {} renamed from {} to {name}", old.id, old.name);
//!             }
//!         }
//!         other => println!("{other:?}"),
//!     }
//! }
//! ```
//!
//! For speed, `ArticleChange::decode(id, verb, old_data, changed_data)` decodes straight
//! from the JSON text (e.g. `old_data::text` selected by hand).
//!
//! The questions an audit trail answers are typed queries in [`query`], each served by
//! an index: the history of a record by its key (following primary-key changes), what an
//! actor did in a time range, who changed a record on a day, and the record's state as
//! of a point in time. They return [`Entry`] values: the decoded change with the
//! activity's metadata and its transaction's actor, client address and context. The
//! generated code implements [`AuditedTable`] for each keyed table's change enum and
//! [`AuditTrail`] for `Change`, which is all the queries need:
//!
//! ```ignore
//! let history = audit_runtime::query::history::<ArticleChange>(&mut client, &ArticleKey { id: 1 })?;
//! for entry in &history {
//!     println!("{} by {:?} from {:?}: {:?}", entry.issued_at, entry.actor_id(), entry.client_addr(), entry.change);
//! }
//! ```
//!
//! Who is acting is set per transaction with [`AuditContext`] (drivers `postgres`,
//! `tokio-postgres`, `sqlx`, `diesel`; a plain SQL call for anything else). Web applications built
//! on axum/tower get it from each request with `web::AuditLayer` and the `web::Audit`
//! extractor (feature `axum`).
//!
//! # Features
//!
//! - `postgres` (default): `AuditContext::apply`, `Activity::from_row` and the
//!   blocking queries of [`query`] on the synchronous `postgres` client.
//! - `tokio-postgres`: the same for `tokio_postgres` (the `_async` methods and queries).
//! - `sqlx`: apply a context to a `sqlx` PostgreSQL connection or transaction (tokio).
//! - `diesel`: apply a context to a diesel `PgConnection` in its transaction, run the
//!   `_diesel` queries of [`query`] on it, and load [`Activity`] rows with `sql_query`.
//! - `axum`: the axum/tower integration in `web`: a layer that builds each request's
//!   context (actor, client address behind trusted proxies), an extractor, scoped
//!   overrides, and transaction helpers for the `tokio-postgres` and `sqlx` features.
//! - `explorer`: the audit explorer in `explorer`, history pages for people: an axum
//!   router the application mounts behind its own authentication, with a record's
//!   history, an actor's activity, a transaction's changes and a table's recent activity.
//! - `time`: date and time types of the `time` crate in [`types`], for code generated
//!   with `[rust] time = "time"` in `audit.toml`.
//! - `rust_decimal`: conversions between [`types::Numeric`] and `rust_decimal::Decimal`.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without a driver feature there is no `query` module for the links above to reach.
#![cfg_attr(
    not(any(feature = "postgres", feature = "tokio-postgres")),
    allow(rustdoc::broken_intra_doc_links)
)]

mod activity;
mod audited;
pub mod codegen;
mod context;
mod entry;
mod error;
#[cfg(feature = "explorer")]
pub mod explorer;
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
pub mod maintenance;
#[cfg(any(feature = "postgres", feature = "tokio-postgres"))]
mod pg;
#[cfg(feature = "diesel")]
mod pg_diesel;
#[cfg(any(feature = "postgres", feature = "tokio-postgres", feature = "diesel"))]
pub mod query;
pub mod types;
#[cfg(feature = "axum")]
pub mod web;

pub use activity::{Activity, UnknownVerb, Verb, Xid8};
pub use audited::{AuditTrail, AuditedTable};
#[cfg(any(feature = "tokio-postgres", feature = "sqlx"))]
pub use context::BoxFuture;
pub use context::{AuditContext, DEFAULT_AUDIT_SCHEMA};
pub use entry::{Entry, TransactionInfo};
pub use error::{DataPart, DecodeError};

/// Includes the generated audit code, `$OUT_DIR/audit.rs`, at this point.
///
/// Expands to `include!(concat!(env!("OUT_DIR"), "/audit.rs"))`.
#[macro_export]
macro_rules! include_audit {
    () => {
        include!(concat!(env!("OUT_DIR"), "/audit.rs"));
    };
}
