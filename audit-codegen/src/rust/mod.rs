//! Rendering of the typed Rust code (`$OUT_DIR/audit.rs`) with syn, quote and prettyplease.
