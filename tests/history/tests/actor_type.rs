//! An actor id type other than text: the context passes the id as text and the
//! database casts it; the actor query casts its parameter to the same type.

mod common;

use audit_history_check::Change;
use audit_runtime::query::{self, TimeRange};
use audit_runtime::{AuditContext, AuditTrail, DecodeError};
use chrono::{Duration, Utc};

/// The generated `Change`, for a trail whose actor ids are `bigint` (the generated
/// constant says `text`, the manifest default the test crate was generated with).
#[derive(Debug)]
struct BigintActors(Change);

impl AuditTrail for BigintActors {
    const AUDIT_SCHEMA: &'static str = <Change as AuditTrail>::AUDIT_SCHEMA;
    const ACTOR_ID_TYPE: &'static str = "bigint";
    const TABLES: &'static [(&'static str, &'static str)] = <Change as AuditTrail>::TABLES;

    fn decode(
        activity_id: Option<i64>,
        schema: &str,
        table: &str,
        verb: &str,
        old_data: Option<&str>,
        changed_data: Option<&str>,
    ) -> Result<Self, DecodeError> {
        <Change as AuditTrail>::decode(activity_id, schema, table, verb, old_data, changed_data)
            .map(Self)
    }
}

#[test]
fn bigint_actor_ids_are_cast_both_ways() {
    let db = common::database_with_actor_type("history_bigint_actor", "bigint");
    let mut client = db.client();
    AuditContext::new()
        .actor_id(42)
        .transaction(&mut client, |tx| {
            tx.batch_execute("INSERT INTO article (id, title) VALUES (1, 'x')")
        })
        .unwrap();
    let now = Utc::now();
    let range = TimeRange::new(now - Duration::hours(1), now + Duration::hours(1));
    let entries = query::actor_activity::<BigintActors>(&mut client, "42", range).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_id(), Some("42"));
    assert!(matches!(entries[0].change.0, Change::Article(_)));
    assert!(
        query::actor_activity::<BigintActors>(&mut client, "43", range)
            .unwrap()
            .is_empty()
    );

    // An id that is not a bigint fails when applied, rolling the transaction back.
    let result = AuditContext::new()
        .actor_id("not a number")
        .transaction(&mut client, |tx| {
            tx.batch_execute("INSERT INTO article (id, title) VALUES (2, 'y')")
        });
    assert!(result.is_err());
}
