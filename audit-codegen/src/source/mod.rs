//! Schema sources: where the [`Schema`](crate::model::Schema) model comes from.
//!
//! All four produce the same model for the same database: a live database
//! ([`live`], behind the default `live` feature), a JSON snapshot ([`snapshot`]), a
//! `pg_dump --schema-only` file ([`dump`]) and an ordered list of DDL files ([`ddl`]).
// Without the `live` feature the link to `live` has no target.
#![cfg_attr(not(feature = "live"), allow(rustdoc::broken_intra_doc_links))]

pub mod ddl;
pub mod dump;
#[cfg(feature = "live")]
pub mod live;
pub mod snapshot;
