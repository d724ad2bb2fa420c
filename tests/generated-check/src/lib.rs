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
