//! The generated typed Rust of the fixture schemas, compiled with every warning denied.
//!
//! Its build script renders the code from committed JSON schema snapshots, so this crate
//! failing to build (or clippy failing on it) means the generator emits broken code.
#![deny(warnings, missing_docs)]

/// The kitchen-sink fixture: every type family, odd identifiers, keys of every shape.
pub mod kitchen_sink {
    include!(concat!(env!("OUT_DIR"), "/kitchen_sink.rs"));
}

/// The kitchen-sink fixture generated with `time_crate = "time"`.
pub mod kitchen_sink_time {
    include!(concat!(env!("OUT_DIR"), "/kitchen_sink_time.rs"));
}

/// Tables, columns, enum labels and composite attributes with hostile names (quotes,
/// dollar quotes, comments, line breaks, bidi controls, emoji, 63-byte names).
pub mod hostile {
    include!(concat!(env!("OUT_DIR"), "/hostile.rs"));
}

/// The round-trip fixture, included the way users include theirs.
pub mod roundtrip {
    audit_runtime::include_audit!();
}

/// The cases of `tests/fixtures/rust_cases`, one module each, rendered from their DDL
/// and manifest (their snapshots are checked by `tests/tests/rust_snapshots.rs`).
pub mod rust_cases {
    include!(concat!(env!("OUT_DIR"), "/rust_cases.rs"));
}

/// The application types the `overrides` case maps a SQL type and a column to, defined
/// as an application would.
pub mod custom_types {
    use audit_runtime::codegen::serde::{Deserialize, Serialize};

    /// An amount of money in cents (the domain `public.cents`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(crate = "audit_runtime::codegen::serde", transparent)]
    pub struct Cents(pub i64);

    /// A decimal number (every `numeric`), standing in for a decimal crate's type.
    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
    #[serde(crate = "audit_runtime::codegen::serde", transparent)]
    pub struct Decimal(pub f64);

    /// The product details recorded in a `jsonb` column.
    #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
    #[serde(crate = "audit_runtime::codegen::serde", default)]
    pub struct Details {
        /// The colour, if known.
        pub colour: Option<String>,
    }
}
