//! The audit manifest (`audit.toml`): loading and validation against the schema.
