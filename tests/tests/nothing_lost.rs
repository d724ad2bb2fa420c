//! Changes that must never leave a committed write without its history: keys changed by
//! the application's own BEFORE UPDATE triggers, rows of keyless partitioned tables that
//! move to another partition, `timestamptz[]` values written from any session time zone,
//! and a write into the audit trail that fails.

use audit_tests::{TestDb, audit_spec, install_audit};
use postgres::Client;
use serde_json::{Value, json};

/// One recorded update or other change: (verb, object_id, old_data, changed_data).
type ActivityRow = (String, Option<Value>, Option<Value>, Option<Value>);

fn activities(client: &mut Client, table: &str) -> Vec<ActivityRow> {
    client
        .query(
            "SELECT verb, object_id, old_data, changed_data FROM audit.activity
              WHERE table_name = $1 ORDER BY id",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

fn updates(client: &mut Client, table: &str) -> Vec<ActivityRow> {
    activities(client, table)
        .into_iter()
        .filter(|a| a.0 == "update")
        .collect()
}

fn update(key: Value, old: Value, changed: Value) -> ActivityRow {
    ("update".to_owned(), Some(key), Some(old), Some(changed))
}

fn audited_db(label: &str, setup: &str, tables: &[&str]) -> TestDb {
    let db = TestDb::with_sql(label, setup);
    let choices: Vec<_> = tables
        .iter()
        .map(|t| ("public", *t, &[][..], false))
        .collect();
    install_audit(&db, &audit_spec(&db, "text", &choices));
    db
}

/// `account` with a BEFORE UPDATE trigger of the application that moves a row to key
/// `id + 1000` when its name starts with `move`, and to `id + 1` when it starts with
/// `next`. The statements never name `id`.
const RENUMBERING: &str = "
    CREATE TABLE account (id bigint PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, name text NOT NULL);
    CREATE FUNCTION renumber() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.name LIKE 'move%' THEN NEW.id := NEW.id + 1000; END IF;
        IF NEW.name LIKE 'next%' THEN NEW.id := NEW.id + 1; END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER renumber BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION renumber();
    INSERT INTO account SELECT g, 'n' || g FROM generate_series(1, 9) AS g;";

#[test]
fn keys_changed_by_a_before_update_trigger_are_recorded_as_updates_of_their_row() {
    let db = audited_db("before_trigger_key", RENUMBERING, &["account"]);
    let mut c = db.client();
    c.batch_execute(
        "UPDATE account SET name = 'move-1' WHERE id = 1;
         UPDATE account SET name = 'stay-2' WHERE id = 2;
         UPDATE account SET name = CASE id WHEN 3 THEN 'move-3' ELSE 'stay-' || id END
          WHERE id IN (3, 4, 5);",
    )
    .unwrap();
    assert_eq!(
        updates(&mut c, "account"),
        vec![
            update(
                json!(1001),
                json!({"id": 1, "name": "n1"}),
                json!({"id": 1001, "name": "move-1"})
            ),
            update(
                json!(2),
                json!({"id": 2, "name": "n2"}),
                json!({"name": "stay-2"})
            ),
            update(
                json!(4),
                json!({"id": 4, "name": "n4"}),
                json!({"name": "stay-4"})
            ),
            update(
                json!(5),
                json!({"id": 5, "name": "n5"}),
                json!({"name": "stay-5"})
            ),
            update(
                json!(1003),
                json!({"id": 3, "name": "n3"}),
                json!({"id": 1003, "name": "move-3"})
            ),
        ]
    );
}

#[test]
fn trigger_key_changes_after_noted_key_changes_in_the_same_transaction_are_recorded() {
    let db = audited_db("before_trigger_key_noted", RENUMBERING, &["account"]);
    let mut c = db.client();
    // The first statement sets the key (noted by the key-change trigger); the second
    // changes one only through the application's trigger.
    c.batch_execute(
        "BEGIN;
         UPDATE account SET id = 60 WHERE id = 6;
         UPDATE account SET name = 'move-7' WHERE id IN (7, 8) AND id = 7;
         UPDATE account SET name = 'stay-8' WHERE id = 8;
         COMMIT;",
    )
    .unwrap();
    assert_eq!(
        updates(&mut c, "account"),
        vec![
            update(json!(60), json!({"id": 6, "name": "n6"}), json!({"id": 60})),
            update(
                json!(1007),
                json!({"id": 7, "name": "n7"}),
                json!({"id": 1007, "name": "move-7"})
            ),
            update(
                json!(8),
                json!({"id": 8, "name": "n8"}),
                json!({"name": "stay-8"})
            ),
        ]
    );
}

#[test]
fn trigger_key_changes_onto_keys_of_the_same_statement_fail_instead_of_mispairing() {
    let db = audited_db("before_trigger_key_chain", RENUMBERING, &["account"]);
    let mut c = db.client();
    // 8 -> 9 and 9 -> 10 in one statement (the deferred key allows it): paired on the
    // key, new row 9 (which was row 8) would meet old row 9.
    let error = c
        .batch_execute("UPDATE account SET name = 'next' WHERE id IN (8, 9)")
        .unwrap_err();
    let db_error = error.as_db_error().expect("a database error");
    assert!(
        db_error.message().contains(
            "the audit trail cannot pair the old and new rows of this UPDATE of public.account"
        ),
        "{db_error:?}"
    );
    assert!(
        db_error.hint().unwrap_or("").contains("SET list"),
        "{db_error:?}"
    );
    let names: Vec<String> = c
        .query("SELECT name FROM account WHERE id >= 8 ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(names, ["n8", "n9"]);
    assert!(updates(&mut c, "account").is_empty());

    // The way the hint names: a statement that sets the key is noted row by row.
    c.batch_execute("UPDATE account SET name = 'next', id = id WHERE id IN (8, 9)")
        .unwrap();
    let mut got = updates(&mut c, "account");
    got.sort_by_key(|a| a.1.as_ref().map(|k| k.to_string()));
    assert_eq!(
        got,
        vec![
            update(
                json!(10),
                json!({"id": 9, "name": "n9"}),
                json!({"id": 10, "name": "next"})
            ),
            update(
                json!(9),
                json!({"id": 8, "name": "n8"}),
                json!({"id": 9, "name": "next"})
            ),
        ]
    );
}

#[test]
fn keyless_partitioned_rows_that_move_partition_are_recorded_as_updates() {
    let db = audited_db(
        "keyless_partition_move",
        "CREATE TABLE reading (sensor int, day date, value int) PARTITION BY RANGE (day);
         CREATE TABLE reading_2024 PARTITION OF reading FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE reading_2025 PARTITION OF reading FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         INSERT INTO reading VALUES (1, '2024-03-01', 10), (2, '2024-04-01', 20), (3, '2025-05-01', 30);",
        &["reading"],
    );
    let mut c = db.client();
    c.batch_execute(
        "UPDATE reading SET day = day + 365 WHERE sensor = 1;
         UPDATE reading SET value = value + 1, day = CASE sensor WHEN 2 THEN day + 365 ELSE day END
          WHERE sensor IN (2, 3);
         UPDATE reading SET value = value WHERE sensor = 3;",
    )
    .unwrap();
    let mut got = updates(&mut c, "reading");
    assert_eq!(got.len(), 3, "{got:?}");
    got[1..].sort_by_key(|a| a.2.as_ref().map(|o| o["sensor"].to_string()));
    let keyless =
        |old: Value, changed: Value| ("update".to_owned(), None, Some(old), Some(changed));
    assert_eq!(
        got,
        vec![
            keyless(
                json!({"sensor": 1, "day": "2024-03-01", "value": 10}),
                json!({"day": "2025-03-01"})
            ),
            keyless(
                json!({"sensor": 2, "day": "2024-04-01", "value": 20}),
                json!({"day": "2025-04-01", "value": 21})
            ),
            keyless(
                json!({"sensor": 3, "day": "2025-05-01", "value": 30}),
                json!({"value": 31})
            ),
        ]
    );
}

#[test]
fn timestamptz_arrays_are_stored_in_utc_whatever_the_session_time_zone() {
    let db = audited_db(
        "timestamptz_arrays",
        "CREATE DOMAIN moments AS timestamptz[];
         CREATE TABLE ev (id int PRIMARY KEY, ats timestamptz[], grid timestamp(3) with time zone[][], m moments);
         CREATE TABLE ev_log (ats timestamptz[]);",
        &["ev", "ev_log"],
    );
    let mut c = db.client();
    let zones = ["UTC", "America/New_York", "Asia/Kolkata"];
    for (id, zone) in zones.iter().enumerate() {
        c.batch_execute(&format!(
            "SET TimeZone = '{zone}';
             INSERT INTO ev VALUES ({id},
                 ARRAY['2024-05-01 10:00:00+00', NULL, 'infinity']::timestamptz[],
                 ARRAY[['2024-05-01 10:00:00.123+00', '2024-05-01 11:00:00+02'],
                       ['2024-12-31 23:30:00-01', NULL]]::timestamptz[],
                 ARRAY['2024-05-01 10:00:00+00']::timestamptz[]);
             INSERT INTO ev_log VALUES (ARRAY['2024-05-01 10:00:00+00']::timestamptz[]);"
        ))
        .unwrap();
    }
    c.batch_execute(
        "SET TimeZone = 'Pacific/Auckland';
         UPDATE ev SET ats = ARRAY['2024-06-01 00:00:00+00']::timestamptz[] WHERE id = 1;
         UPDATE ev_log SET ats = ARRAY['2024-06-01 00:00:00+00']::timestamptz[];
         DELETE FROM ev WHERE id = 2;",
    )
    .unwrap();
    let rows = activities(&mut c, "ev");
    let full = |id: usize| {
        json!({
            "id": id,
            "ats": ["2024-05-01T10:00:00", null, "infinity"],
            "grid": [["2024-05-01T10:00:00.123", "2024-05-01T09:00:00"],
                     ["2025-01-01T00:30:00", null]],
            "m": ["2024-05-01T10:00:00"],
        })
    };
    for (id, row) in rows[..3].iter().enumerate() {
        assert_eq!(row.3, Some(full(id)), "written from {}", zones[id]);
    }
    assert_eq!(rows[3].2, Some(full(1)));
    assert_eq!(rows[3].3, Some(json!({"ats": ["2024-06-01T00:00:00"]})));
    assert_eq!(rows[4].0, "delete");
    assert_eq!(rows[4].2, Some(full(2)));
    let log = activities(&mut c, "ev_log");
    assert_eq!(log.len(), 6);
    for row in &log[..3] {
        assert_eq!(row.3, Some(json!({"ats": ["2024-05-01T10:00:00"]})));
    }
    for row in &log[3..] {
        assert_eq!(row.2, Some(json!({"ats": ["2024-05-01T10:00:00"]})));
        assert_eq!(row.3, Some(json!({"ats": ["2024-06-01T00:00:00"]})));
    }
    // The writer's session keeps its own time zone.
    let zone: String = c.query_one("SHOW TimeZone", &[]).unwrap().get(0);
    assert_eq!(zone, "Pacific/Auckland");
}

#[test]
fn a_failing_audit_write_fails_the_statement_names_the_audit_trail_and_leaves_nothing() {
    let db = audited_db(
        "failing_audit_write",
        "CREATE TABLE account (id bigint PRIMARY KEY, name text NOT NULL);
         INSERT INTO account VALUES (1, 'n1'), (2, 'n2');",
        &["account"],
    );
    let mut c = db.client();
    let before = activities(&mut c, "account").len();
    // The activity row of this update violates a constraint added to the audit trail.
    c.batch_execute(
        "ALTER TABLE audit.activity ADD CONSTRAINT no_renames
             CHECK (changed_data IS NULL OR NOT changed_data ? 'name') NOT VALID",
    )
    .unwrap();
    for statement in [
        "UPDATE account SET name = 'renamed' WHERE id IN (1, 2)",
        "INSERT INTO account VALUES (3, 'n3')",
        "BEGIN; SELECT audit.set_context('alice', NULL, NULL); \
         UPDATE account SET name = 'renamed' WHERE id = 1; COMMIT",
    ] {
        let error = c.batch_execute(statement).unwrap_err();
        let db_error = error.as_db_error().expect("a database error");
        assert_eq!(db_error.schema(), Some("audit"), "{db_error:?}");
        assert_eq!(db_error.table(), Some("activity"), "{db_error:?}");
        assert_eq!(db_error.constraint(), Some("no_renames"), "{db_error:?}");
        let context = db_error.where_().unwrap_or("");
        assert!(
            context.contains("PL/pgSQL function audit.\"public.account:"),
            "the error names the audit trigger: {context}"
        );
        c.batch_execute("ROLLBACK").unwrap();
    }
    let rows: Vec<(i64, String)> = c
        .query("SELECT id, name FROM account ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, [(1, "n1".to_owned()), (2, "n2".to_owned())]);
    assert_eq!(activities(&mut c, "account").len(), before);
    let transactions: i64 = c
        .query_one("SELECT count(*) FROM audit.transaction", &[])
        .unwrap()
        .get(0);
    assert_eq!(transactions, 0);
}
