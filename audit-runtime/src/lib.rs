//! Runtime of the PostgreSQL audit trail: who is acting, activity rows, typed history.
#![warn(missing_docs)]

mod context;

pub use context::{AuditContext, DEFAULT_AUDIT_SCHEMA};
