//! The `pg_dump --schema-only` source.
