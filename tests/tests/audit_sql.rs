//! The generated audit SQL against the real PostgreSQL: row semantics, multi-row
//! statements, key changes, transactions and context, security.

use audit_tests::{TestDb, audit_spec, install_audit};
use postgres::Client;
use serde_json::{Value, json};

/// One activity row: (verb, object_id, old_data, changed_data).
type ActivityRow = (String, Option<Value>, Option<Value>, Option<Value>);

/// The activity rows, oldest first.
fn activities(client: &mut Client) -> Vec<ActivityRow> {
    client
        .query(
            "SELECT verb, object_id, old_data, changed_data FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

fn article_db(label: &str) -> TestDb {
    let db = TestDb::with_sql(
        label,
        "CREATE TABLE article (id serial PRIMARY KEY, name text);",
    );
    let spec = audit_spec(&db, "text", &[("public", "article", &[], false)]);
    install_audit(&db, &spec);
    db
}

#[test]
fn readme_session_is_reproduced() {
    let db = article_db("readme");
    let mut c = db.client();
    c.batch_execute("INSERT INTO article (name) VALUES ('Some article')")
        .unwrap();
    c.batch_execute("UPDATE article SET name = 'Some other article' WHERE id = 1")
        .unwrap();
    c.batch_execute("DELETE FROM article WHERE id = 1").unwrap();
    let rows = activities(&mut c);
    assert_eq!(
        rows,
        vec![
            (
                "insert".to_owned(),
                Some(json!(1)),
                None,
                Some(json!({"id": 1, "name": "Some article"}))
            ),
            (
                "update".to_owned(),
                Some(json!(1)),
                Some(json!({"id": 1, "name": "Some article"})),
                Some(json!({"name": "Some other article"}))
            ),
            (
                "delete".to_owned(),
                Some(json!(1)),
                Some(json!({"id": 1, "name": "Some other article"})),
                None
            ),
        ]
    );
    let row = c
        .query_one(
            "SELECT schema_name, table_name, relid = 'article'::regclass, \
                    native_transaction_id IS NOT NULL, issued_at IS NOT NULL, transaction_id \
               FROM audit.activity ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "public");
    assert_eq!(row.get::<_, String>(1), "article");
    assert!(row.get::<_, bool>(2));
    assert!(row.get::<_, bool>(3));
    assert!(row.get::<_, bool>(4));
    assert_eq!(row.get::<_, Option<i64>>(5), None);
}

/// A database with `setup` run and `tables` (all in `public`, none excluded) audited.
fn audited_db(label: &str, setup: &str, tables: &[&str]) -> TestDb {
    let db = TestDb::with_sql(label, setup);
    let choices: Vec<_> = tables
        .iter()
        .map(|t| ("public", *t, &[][..], false))
        .collect();
    install_audit(&db, &audit_spec(&db, "text", &choices));
    db
}

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn multi_row_statements_pair_every_row_with_its_own_old_row() {
    let db = article_db("multi_row");
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO article (name) SELECT 'article ' || i FROM generate_series(1, 10000) i",
    )
    .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM article a JOIN audit.activity x
                 ON x.verb = 'insert' AND x.object_id = to_jsonb(a.id)
              WHERE x.old_data IS NULL
                AND x.changed_data = jsonb_build_object('id', a.id, 'name', a.name)"
        ),
        10000
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 10000);

    // Half of the rows change, half are set to what they already hold.
    c.batch_execute(
        "CREATE TABLE before_update AS SELECT * FROM article;
         UPDATE article SET name = CASE WHEN id % 2 = 0 THEN name || ' (edited)' ELSE name END",
    )
    .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity WHERE verb = 'update'"
        ),
        5000
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM article a
               JOIN before_update b ON b.id = a.id
               JOIN audit.activity x ON x.verb = 'update' AND x.object_id = to_jsonb(a.id)
              WHERE a.id % 2 = 0
                AND x.old_data = jsonb_build_object('id', b.id, 'name', b.name)
                AND x.changed_data = jsonb_build_object('name', a.name)"
        ),
        5000
    );

    c.batch_execute("CREATE TABLE before_delete AS SELECT * FROM article; DELETE FROM article")
        .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM before_delete b JOIN audit.activity x
                 ON x.verb = 'delete' AND x.object_id = to_jsonb(b.id)
              WHERE x.old_data = jsonb_build_object('id', b.id, 'name', b.name)
                AND x.changed_data IS NULL"
        ),
        10000
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 25000);
}

#[test]
fn key_changing_updates_are_paired_by_row_not_by_key() {
    let db = audited_db(
        "key_change",
        // Deferrable: a swap of two keys passes the uniqueness check only at statement end.
        "CREATE TABLE t (id int PRIMARY KEY DEFERRABLE, v text);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd');",
        &["t"],
    );
    let mut c = db.client();
    c.batch_execute("UPDATE t SET id = 3 - id WHERE id IN (1, 2)")
        .unwrap();
    // One statement changing keys of some rows and other columns of others.
    c.batch_execute(
        "UPDATE t SET id = CASE id WHEN 3 THEN 30 ELSE id END, v = v || '!' WHERE id IN (3, 4)",
    )
    .unwrap();
    // A later plain update in a transaction that already changed keys.
    c.batch_execute(
        "BEGIN; UPDATE t SET id = 40 WHERE id = 4; UPDATE t SET v = 'z' WHERE id = 1; COMMIT",
    )
    .unwrap();
    let rows = activities(&mut c);
    let updates: Vec<_> = rows.into_iter().filter(|r| r.0 == "update").collect();
    let mut first_two: Vec<_> = updates[..2].to_vec();
    first_two.sort_by_key(|r| r.1.as_ref().unwrap().as_i64());
    assert_eq!(
        first_two,
        vec![
            (
                "update".to_owned(),
                Some(json!(1)),
                Some(json!({"id": 2, "v": "b"})),
                Some(json!({"id": 1}))
            ),
            (
                "update".to_owned(),
                Some(json!(2)),
                Some(json!({"id": 1, "v": "a"})),
                Some(json!({"id": 2}))
            ),
        ]
    );
    let mut next_two: Vec<_> = updates[2..4].to_vec();
    next_two.sort_by_key(|r| r.1.as_ref().unwrap().as_i64());
    assert_eq!(
        next_two,
        vec![
            (
                "update".to_owned(),
                Some(json!(4)),
                Some(json!({"id": 4, "v": "d"})),
                Some(json!({"v": "d!"}))
            ),
            (
                "update".to_owned(),
                Some(json!(30)),
                Some(json!({"id": 3, "v": "c"})),
                Some(json!({"id": 30, "v": "c!"}))
            ),
        ]
    );
    assert_eq!(
        updates[4..].to_vec(),
        vec![
            (
                "update".to_owned(),
                Some(json!(40)),
                Some(json!({"id": 4, "v": "d!"})),
                Some(json!({"id": 40}))
            ),
            (
                "update".to_owned(),
                Some(json!(1)),
                Some(json!({"id": 1, "v": "b"})),
                Some(json!({"v": "z"}))
            ),
        ]
    );
    // The notes of key changes are consumed by the statement that made them.
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.key_change"), 0);
}

#[test]
fn composite_keys_are_json_arrays_in_key_order() {
    let db = audited_db(
        "composite",
        "CREATE TABLE order_line (order_id bigint, line_no int, product text,
                                  PRIMARY KEY (order_id, line_no));",
        &["order_line"],
    );
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO order_line VALUES (7, 2, 'pen'), (7, 3, 'ink');
         UPDATE order_line SET product = 'pencil' WHERE line_no = 2;
         UPDATE order_line SET line_no = 4 WHERE line_no = 3;
         DELETE FROM order_line WHERE line_no = 4;",
    )
    .unwrap();
    let rows = activities(&mut c);
    let keys: Vec<_> = rows.iter().map(|r| (r.0.as_str(), r.1.clone())).collect();
    assert_eq!(
        keys,
        vec![
            ("insert", Some(json!([7, 2]))),
            ("insert", Some(json!([7, 3]))),
            ("update", Some(json!([7, 2]))),
            ("update", Some(json!([7, 4]))),
            ("delete", Some(json!([7, 4]))),
        ]
    );
    assert_eq!(rows[3].3, Some(json!({"line_no": 4})));
}

#[test]
fn tables_without_a_key_are_recorded_per_row() {
    let db = audited_db(
        "no_key",
        "CREATE TABLE event_log (at int, message text);",
        &["event_log"],
    );
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO event_log VALUES (1, 'a'), (1, 'a'), (2, 'b');
         UPDATE event_log SET message = 'c' WHERE at = 1;
         UPDATE event_log SET message = message;
         DELETE FROM event_log WHERE at = 2;",
    )
    .unwrap();
    let rows = activities(&mut c);
    assert_eq!(
        rows,
        vec![
            (
                "insert".into(),
                None,
                None,
                Some(json!({"at": 1, "message": "a"}))
            ),
            (
                "insert".into(),
                None,
                None,
                Some(json!({"at": 1, "message": "a"}))
            ),
            (
                "insert".into(),
                None,
                None,
                Some(json!({"at": 2, "message": "b"}))
            ),
            (
                "update".into(),
                None,
                Some(json!({"at": 1, "message": "a"})),
                Some(json!({"message": "c"}))
            ),
            (
                "update".into(),
                None,
                Some(json!({"at": 1, "message": "a"})),
                Some(json!({"message": "c"}))
            ),
            (
                "delete".into(),
                None,
                Some(json!({"at": 2, "message": "b"})),
                None
            ),
        ]
    );
}

#[test]
fn on_conflict_and_copy_are_recorded() {
    let db = article_db("conflict_copy");
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO article VALUES (1, 'a'), (2, 'b');
         INSERT INTO article VALUES (1, 'a2'), (3, 'c')
             ON CONFLICT (id) DO UPDATE SET name = excluded.name;
         INSERT INTO article VALUES (2, 'ignored') ON CONFLICT DO NOTHING;",
    )
    .unwrap();
    let mut writer = c.copy_in("COPY article (id, name) FROM STDIN").unwrap();
    std::io::Write::write_all(&mut writer, b"10\tx\n11\ty\n12\t\\N\n").unwrap();
    writer.finish().unwrap();
    let rows = activities(&mut c);
    let summary: Vec<_> = rows.iter().map(|r| (r.0.as_str(), r.1.clone())).collect();
    assert_eq!(
        summary,
        vec![
            ("insert", Some(json!(1))),
            ("insert", Some(json!(2))),
            // ON CONFLICT: the UPDATE's statement trigger fires before the INSERT's.
            ("update", Some(json!(1))),
            ("insert", Some(json!(3))),
            ("insert", Some(json!(10))),
            ("insert", Some(json!(11))),
            ("insert", Some(json!(12))),
        ]
    );
    assert_eq!(rows[2].3, Some(json!({"name": "a2"})));
    assert_eq!(rows[6].3, Some(json!({"id": 12, "name": null})));
}

#[test]
fn partitioned_tables_are_recorded_under_the_parent_and_moves_are_updates() {
    let db = audited_db(
        "partitioned",
        "CREATE TABLE measurement (city_id int, logdate date, peak int,
                                   PRIMARY KEY (city_id, logdate)) PARTITION BY RANGE (logdate);
         CREATE TABLE m2024 PARTITION OF measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE m2025 PARTITION OF measurement FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');",
        &["measurement"],
    );
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO measurement VALUES (1, '2024-05-01', 10), (2, '2024-06-01', 20);
         INSERT INTO m2025 VALUES (3, '2025-01-02', 30);
         UPDATE measurement SET logdate = logdate + 365 WHERE city_id IN (1, 2);
         UPDATE measurement SET peak = 31 WHERE city_id = 3;",
    )
    .unwrap();
    let rows = c
        .query(
            "SELECT table_name, relid = 'measurement'::regclass, verb, object_id, changed_data
               FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap();
    // Rows inserted straight into a partition fire the partition's (own) triggers only
    // when it is audited itself; through the parent every row is recorded as the parent's.
    let got: Vec<(String, bool, String, Value, Value)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    let verbs: Vec<_> = got.iter().map(|g| g.2.as_str()).collect();
    assert!(got.iter().all(|g| g.0 == "measurement" && g.1), "{got:?}");
    assert_eq!(verbs, ["insert", "insert", "update", "update", "update"]);
    let mut moves: Vec<_> = got[2..4]
        .iter()
        .map(|g| (g.3.clone(), g.4.clone()))
        .collect();
    moves.sort_by_key(|m| m.0.to_string());
    assert_eq!(
        moves,
        vec![
            (json!([1, "2025-05-01"]), json!({"logdate": "2025-05-01"})),
            (json!([2, "2025-06-01"]), json!({"logdate": "2025-06-01"})),
        ]
    );
    assert_eq!(got[4].3, json!([3, "2025-01-02"]));
}

#[test]
fn generated_columns_arrays_json_and_nulls_are_typed_json() {
    let db = audited_db(
        "values",
        "CREATE TABLE v (id int PRIMARY KEY, big bigint, doubled bigint GENERATED ALWAYS AS (big * 2) STORED,
                         ints int[], words text[], doc json, docb jsonb, amount numeric, note text);",
        &["v"],
    );
    let mut c = db.client();
    c.batch_execute(
        r#"INSERT INTO v (id, big, ints, words, doc, docb, amount, note)
           VALUES (1, 21, '{1,NULL,3}', '{"a b",c}', '{"k": [1, 2]}', '{"x": {"y": null}}', 1.0, 'n');
           UPDATE v SET big = 22, note = NULL, amount = 1.00;
           UPDATE v SET doc = '{"k": [1, 2]}';
           UPDATE v SET docb = '{"x": {"y": 1}}';"#,
    )
    .unwrap();
    let rows = activities(&mut c);
    assert_eq!(
        rows[0].3,
        Some(json!({
            "id": 1, "big": 21, "doubled": 42, "ints": [1, null, 3], "words": ["a b", "c"],
            "doc": {"k": [1, 2]}, "docb": {"x": {"y": null}}, "amount": 1.0, "note": "n"
        }))
    );
    // numeric 1.0 -> 1.00 is a change (same value, different text); a NULL is a JSON null.
    assert_eq!(
        rows[1].3,
        Some(json!({"big": 22, "doubled": 44, "note": null, "amount": 1.00}))
    );
    // json has no `=`; writing the same text again is no change.
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2].3, Some(json!({"docb": {"x": {"y": 1}}})));
}

#[test]
fn updates_of_excluded_columns_only_write_nothing() {
    let db = TestDb::with_sql(
        "excluded",
        "CREATE TABLE a (id int PRIMARY KEY, name text, secret text, touched timestamptz);",
    );
    let spec = audit_spec(
        &db,
        "text",
        &[("public", "a", &["secret", "touched"], false)],
    );
    install_audit(&db, &spec);
    let mut c = db.client();
    c.batch_execute(
        "INSERT INTO a VALUES (1, 'x', 's', now());
         UPDATE a SET secret = 't', touched = now();
         UPDATE a SET name = 'y', secret = 'u';
         DELETE FROM a;",
    )
    .unwrap();
    assert_eq!(
        activities(&mut c),
        vec![
            (
                "insert".into(),
                Some(json!(1)),
                None,
                Some(json!({"id": 1, "name": "x"}))
            ),
            (
                "update".into(),
                Some(json!(1)),
                Some(json!({"id": 1, "name": "x"})),
                Some(json!({"name": "y"}))
            ),
            (
                "delete".into(),
                Some(json!(1)),
                Some(json!({"id": 1, "name": "y"})),
                None
            ),
        ]
    );
}

#[test]
fn timestamptz_json_does_not_depend_on_the_session_time_zone() {
    let db = audited_db(
        "timezones",
        "CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, at_ms timestamp(3) with time zone);",
        &["ev"],
    );
    let mut c = db.client();
    for (id, zone) in [(1, "UTC"), (2, "America/New_York"), (3, "Asia/Kolkata")] {
        c.batch_execute(&format!(
            "SET TimeZone = '{zone}';
             INSERT INTO ev VALUES ({id}, '2024-05-01 10:00:00+00', '2024-05-01 10:00:00.123+00')"
        ))
        .unwrap();
    }
    c.batch_execute("SET TimeZone = 'Asia/Tokyo'; INSERT INTO ev VALUES (4, 'infinity', NULL)")
        .unwrap();
    let rows = activities(&mut c);
    for (i, row) in rows[..3].iter().enumerate() {
        assert_eq!(
            row.3,
            Some(
                json!({"id": i + 1, "at": "2024-05-01T10:00:00", "at_ms": "2024-05-01T10:00:00.123"})
            )
        );
    }
    assert_eq!(
        rows[3].3,
        Some(json!({"id": 4, "at": "infinity", "at_ms": null}))
    );
}

#[test]
fn truncate_is_recorded_when_enabled() {
    let db = TestDb::with_sql(
        "truncate",
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);
         INSERT INTO a VALUES (1); INSERT INTO b VALUES (1);",
    );
    let spec = audit_spec(
        &db,
        "text",
        &[("public", "a", &[], true), ("public", "b", &[], false)],
    );
    install_audit(&db, &spec);
    let mut c = db.client();
    c.batch_execute("TRUNCATE a; TRUNCATE b;").unwrap();
    let rows = c
        .query(
            "SELECT table_name, verb, object_id, old_data, changed_data FROM audit.activity",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), "a");
    assert_eq!(rows[0].get::<_, String>(1), "truncate");
    assert_eq!(rows[0].get::<_, Option<Value>>(2), None);
    assert_eq!(rows[0].get::<_, Option<Value>>(3), None);
}

#[test]
fn odd_identifiers_are_quoted_everywhere() {
    let db = audited_db(
        "identifiers",
        r#"CREATE TABLE "user" ("select" int PRIMARY KEY, "order" text);
           CREATE TABLE "Order Items" ("ItemId" int PRIMARY KEY, "say ""hi""" text, "it's" int);
           CREATE TABLE "café" ("naïve" int PRIMARY KEY, "日本" text);
           CREATE TABLE clash (o int PRIMARY KEY, n text, v_context text, k text, "NEW" text);"#,
        &["user", "Order Items", "café", "clash"],
    );
    let mut c = db.client();
    c.batch_execute(
        r#"INSERT INTO "user" VALUES (1, 'x');
           INSERT INTO "Order Items" VALUES (1, 'hello', 2);
           UPDATE "Order Items" SET "say ""hi""" = 'bye', "ItemId" = 5;
           INSERT INTO "café" VALUES (1, 'はい');
           INSERT INTO clash VALUES (1, 'n', 'v', 'k', 'new');
           UPDATE clash SET n = 'm', v_context = 'w', o = 2, "NEW" = 'newer';"#,
    )
    .unwrap();
    let rows = c
        .query(
            "SELECT table_name, changed_data FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap();
    let got: Vec<(String, Value)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![
            ("user".into(), json!({"select": 1, "order": "x"})),
            (
                "Order Items".into(),
                json!({"ItemId": 1, "say \"hi\"": "hello", "it's": 2})
            ),
            (
                "Order Items".into(),
                json!({"ItemId": 5, "say \"hi\"": "bye"})
            ),
            ("café".into(), json!({"naïve": 1, "日本": "はい"})),
            (
                "clash".into(),
                json!({"o": 1, "n": "n", "v_context": "v", "k": "k", "NEW": "new"})
            ),
            (
                "clash".into(),
                json!({"o": 2, "n": "m", "v_context": "w", "NEW": "newer"})
            ),
        ]
    );
}

#[test]
fn unaudit_stops_recording_and_keeps_history() {
    let db = article_db("unaudit");
    let spec = audit_spec(&db, "text", &[("public", "article", &[], false)]);
    let mut c = db.client();
    c.batch_execute("INSERT INTO article (name) VALUES ('a')")
        .unwrap();
    c.batch_execute(&audit_codegen::sql::render_unaudit_table(&spec, "public", "article").unwrap())
        .unwrap();
    c.batch_execute("INSERT INTO article (name) VALUES ('b')")
        .unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 1);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'article'::regclass"
        ),
        0
    );
}

#[test]
fn case_only_changes_of_citext_are_changes() {
    // citext's own `=` calls 'A' and 'a' equal; the audit compares binary images.
    let db = audited_db(
        "citext",
        "CREATE EXTENSION IF NOT EXISTS citext;
         CREATE TABLE u (id citext PRIMARY KEY, mail citext);
         INSERT INTO u VALUES ('Bob', 'Bob@Example.com');",
        &["u"],
    );
    let mut c = db.client();
    c.batch_execute(
        "UPDATE u SET mail = 'bob@example.com';
         UPDATE u SET id = 'bob';",
    )
    .unwrap();
    let rows = activities(&mut c);
    assert_eq!(
        rows,
        vec![
            (
                "update".into(),
                Some(json!("Bob")),
                Some(json!({"id": "Bob", "mail": "Bob@Example.com"})),
                Some(json!({"mail": "bob@example.com"}))
            ),
            (
                "update".into(),
                Some(json!("bob")),
                Some(json!({"id": "Bob", "mail": "bob@example.com"})),
                Some(json!({"id": "bob"}))
            ),
        ]
    );
}
