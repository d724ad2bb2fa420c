//! The classic generic trigger (see `sql/generic.sql`) on `bench_generic`.

use crate::fixture::{EXCLUDED_COLUMN, table_of};
use crate::model::Variant;
use postgres::Client;

/// The schema of the generic trigger's own audit tables and functions.
pub const SCHEMA: &str = "generic_audit";

/// The functions, operator and transaction table of the generic trigger.
const FUNCTIONS: &str = include_str!("../sql/generic.sql");

/// Installs the generic trigger's schema and attaches it to `bench_generic`.
pub fn install(client: &mut Client) -> Result<(), postgres::Error> {
    let activity = super::activity_table_sql(
        client,
        &format!("{SCHEMA}.activity"),
        &format!("{}.activity", super::ours::SCHEMA),
    )?;
    let table = table_of(Variant::Generic);
    client.batch_execute(&format!(
        "BEGIN;
         CREATE SCHEMA {SCHEMA};
         {activity}
         {FUNCTIONS}
         CREATE TRIGGER bench_generic_audit
             AFTER INSERT OR UPDATE OR DELETE ON {table}
             FOR EACH ROW
             EXECUTE FUNCTION {SCHEMA}.create_activity('{{{EXCLUDED_COLUMN}}}', '{{id}}');
         COMMIT;"
    ))
}
