//! Normalisation of SQL fragments (type names, expressions) shared by every source.

/// Normalises a SQL expression (a column default or generation expression) so that the
/// same expression from different sources compares equal.
pub fn normalize_expr(expr: &str) -> String {
    expr.trim().to_owned()
}
