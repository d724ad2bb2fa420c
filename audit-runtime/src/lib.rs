//! Runtime of the audit trail.
