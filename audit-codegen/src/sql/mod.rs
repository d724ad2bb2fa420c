//! Rendering of the audit SQL (schema, per-table trigger functions) from askama templates.
