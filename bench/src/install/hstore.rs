//! The classic row-level hstore trigger (see `sql/hstore.sql`) on `bench_hstore`.

use crate::fixture::{EXCLUDED_COLUMN, table_of};
use crate::model::Variant;
use postgres::Client;

/// The schema of the hstore trigger's log table and function.
pub const SCHEMA: &str = "hstore_audit";

/// The log table and the trigger function.
const FUNCTIONS: &str = include_str!("../sql/hstore.sql");

/// Installs the hstore extension (if the database lacks it), the trigger's schema, and
/// attaches the trigger to `bench_hstore`.
pub fn install(client: &mut Client) -> Result<(), postgres::Error> {
    let table = table_of(Variant::Hstore);
    client.batch_execute(&format!(
        "BEGIN;
         CREATE EXTENSION IF NOT EXISTS hstore;
         CREATE SCHEMA {SCHEMA};
         {FUNCTIONS}
         CREATE TRIGGER bench_hstore_audit
             AFTER INSERT OR UPDATE OR DELETE ON {table}
             FOR EACH ROW
             EXECUTE FUNCTION {SCHEMA}.if_modified('{{{EXCLUDED_COLUMN}}}');
         COMMIT;"
    ))
}
