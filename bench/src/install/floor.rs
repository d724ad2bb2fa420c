//! The floor: an activity table and nothing else. The bulk workload's floor statements
//! (see [`crate::workload::bulk_statement`]) write its rows by hand.

use postgres::Client;

/// The schema of the floor's activity table.
pub const SCHEMA: &str = "floor_audit";

/// Creates the floor's activity table, shaped and indexed like ours.
pub fn install(client: &mut Client) -> Result<(), postgres::Error> {
    let activity = super::activity_table_sql(
        client,
        &format!("{SCHEMA}.activity"),
        &format!("{}.activity", super::ours::SCHEMA),
    )?;
    client.batch_execute(&format!(
        "BEGIN; CREATE SCHEMA {SCHEMA}; {activity} COMMIT;"
    ))
}
