//! Names of the generated database objects: audit tables, functions, triggers and the
//! transaction-local settings they communicate through.
//!
//! Every name is derived deterministically from the spec, and every identifier is
//! returned already quoted with [`sql_ident`], so templates never see a raw name.

use crate::hash::fnv1a;
use crate::ident::{always_quote, sql_ident, sql_literal};

/// PostgreSQL truncates identifiers longer than this many bytes (`NAMEDATALEN - 1`).
const MAX_IDENT_BYTES: usize = 63;

/// Names inside the audit schema.
#[derive(Debug, Clone)]
pub(crate) struct AuditNames {
    /// The audit schema, quoted.
    pub schema: String,
    /// The raw audit schema name (for trigger names).
    raw_schema: String,
    /// Prefix of the custom settings (`<prefix>.context`, …), a valid GUC prefix.
    setting_prefix: String,
}

impl AuditNames {
    pub(crate) fn new(audit_schema: &str) -> Self {
        Self {
            schema: sql_ident(audit_schema),
            raw_schema: audit_schema.to_owned(),
            setting_prefix: setting_prefix(audit_schema),
        }
    }

    /// `"audit"."name"` for an object of the audit schema.
    pub(crate) fn object(&self, name: &str) -> String {
        format!("{}.{}", self.schema, sql_ident(name))
    }

    /// `'"audit"."name"'::pg_catalog.regclass`: an object of the audit schema as a
    /// `regclass` constant.
    pub(crate) fn regclass(&self, name: &str) -> String {
        regclass(&self.raw_schema, name)
    }

    /// The quoted string literal naming the custom setting `<prefix>.<name>`.
    pub(crate) fn setting(&self, name: &str) -> String {
        sql_literal(&format!("{}.{}", self.setting_prefix, name))
    }

    /// The name of trigger `what` on an audited table, quoted. Trigger names are local
    /// to their table; the audit schema name keeps two audit trails apart.
    pub(crate) fn trigger(&self, what: &str) -> String {
        sql_ident(&bounded(&format!("{}_{}", self.raw_schema, what)))
    }

    /// Like [`Self::trigger`], but sorting after ordinary trigger names: triggers of one
    /// kind fire in name order, and the key-change trigger must see the key that the
    /// table's other BEFORE triggers leave.
    pub(crate) fn trigger_sorted_last(&self, what: &str) -> String {
        sql_ident(&bounded(&format!("zzz_{}_{}", self.raw_schema, what)))
    }

    /// The trigger function `<schema>.<table>:<what>` of an audited table, qualified and
    /// quoted.
    pub(crate) fn table_function(&self, schema: &str, table: &str, what: &str) -> String {
        // A dot inside a schema name would make `a.b` + `c` collide with `a` + `b.c`;
        // the hash suffix keeps such names apart.
        let base = format!("{schema}.{table}:{what}");
        let name = if schema.contains('.') {
            with_hash(&base, MAX_IDENT_BYTES)
        } else {
            bounded(&base)
        };
        self.object(&name)
    }
}

/// The table `schema.table`, qualified and quoted.
pub(crate) fn qualified_table(schema: &str, table: &str) -> String {
    format!("{}.{}", sql_ident(schema), sql_ident(table))
}

/// `'"schema"."name"'::pg_catalog.regclass`: a relation as a `regclass` constant. The
/// input function of `regclass` reads only the plain `"…"` quoting, so the name is
/// quoted that way and the whole goes into an escaped literal.
pub(crate) fn regclass(schema: &str, name: &str) -> String {
    format!(
        "{}::pg_catalog.regclass",
        sql_literal(&format!("{}.{}", always_quote(schema), always_quote(name)))
    )
}

/// A custom setting prefix must be a plain identifier; odd schema names are hex-encoded
/// so that two different audit schemas never share settings.
fn setting_prefix(audit_schema: &str) -> String {
    let plain = audit_schema
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && audit_schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && audit_schema.len() <= 40 {
        audit_schema.to_owned()
    } else {
        format!("audit_{:016x}", fnv1a(audit_schema.as_bytes()))
    }
}

/// `name` itself when it fits in an identifier, otherwise shortened with a hash suffix.
fn bounded(name: &str) -> String {
    if name.len() <= MAX_IDENT_BYTES {
        name.to_owned()
    } else {
        with_hash(name, MAX_IDENT_BYTES)
    }
}

/// `name` cut at a character boundary and suffixed with `~` and a hash of the whole
/// name, in at most `max` bytes.
fn with_hash(name: &str, max: usize) -> String {
    let suffix = format!("~{:08x}", fnv1a(name.as_bytes()) as u32);
    let mut cut = max.saturating_sub(suffix.len()).min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", &name[..cut], suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_bounded() {
        let names = AuditNames::new("audit");
        assert_eq!(names.object("activity"), r#""audit"."activity""#);
        assert_eq!(names.setting("context"), "'audit.context'");
        assert_eq!(names.trigger("insert"), r#""audit_insert""#);
        assert_eq!(
            names.table_function("public", "Order Items", "update"),
            r#""audit"."public.Order Items:update""#
        );
        let long = "x".repeat(80);
        let f = names.table_function("public", &long, "insert");
        assert!(f.len() <= "\"audit\".\"\"".len() + MAX_IDENT_BYTES, "{f}");
        assert_ne!(f, names.table_function("public", &long, "delete"));
        assert_ne!(
            names.table_function("a.b", "c", "insert"),
            names.table_function("a", "b.c", "insert")
        );
    }

    #[test]
    fn odd_audit_schemas_get_a_valid_setting_prefix() {
        assert_eq!(
            AuditNames::new("Audit Trail").setting("x").len(),
            2 + 6 + 16 + 2
        );
        assert_eq!(AuditNames::new("audit_2").setting("x"), "'audit_2.x'");
    }

    #[test]
    fn multibyte_names_are_cut_on_char_boundaries() {
        let name = "é".repeat(40);
        assert!(bounded(&name).len() <= MAX_IDENT_BYTES);
    }
}
