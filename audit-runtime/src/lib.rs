//! Runtime of the PostgreSQL audit trail: who is acting, activity rows, typed history.
#![warn(missing_docs)]
