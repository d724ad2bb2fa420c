//! The generic statement-level trigger (see `sql/statement.sql`) on `bench_statement`.

use crate::fixture::{EXCLUDED_COLUMN, table_of};
use crate::model::Variant;
use postgres::Client;

/// The schema of the statement-level trigger's tables and functions.
pub const SCHEMA: &str = "statement_audit";

/// Its tables, `set_context` and the trigger function.
const FUNCTIONS: &str = include_str!("../sql/statement.sql");

/// Installs the statement-level trigger's schema and attaches its three triggers (one
/// per verb, each with the transition tables it needs) to `bench_statement`.
pub fn install(client: &mut Client) -> Result<(), postgres::Error> {
    let table = table_of(Variant::Statement);
    let function = format!("{SCHEMA}.create_activity('{{{EXCLUDED_COLUMN}}}', 'id')");
    client.batch_execute(&format!(
        "BEGIN;
         CREATE SCHEMA {SCHEMA};
         {FUNCTIONS}
         CREATE TRIGGER bench_statement_audit_insert
             AFTER INSERT ON {table}
             REFERENCING NEW TABLE AS new_rows
             FOR EACH STATEMENT EXECUTE FUNCTION {function};
         CREATE TRIGGER bench_statement_audit_update
             AFTER UPDATE ON {table}
             REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
             FOR EACH STATEMENT EXECUTE FUNCTION {function};
         CREATE TRIGGER bench_statement_audit_delete
             AFTER DELETE ON {table}
             REFERENCING OLD TABLE AS old_rows
             FOR EACH STATEMENT EXECUTE FUNCTION {function};
         COMMIT;"
    ))
}
