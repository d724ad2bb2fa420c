//! A partitioned activity table managed by pg_partman (`[activity] partition`): a fresh
//! install makes partitions ahead and a default partition; a write outside them lands
//! in the default and maintenance moves it; retention drops (or detaches) old
//! partitions and loses no activity or transaction link in the kept range; converting
//! a populated unpartitioned installation keeps every row byte for byte. Needs the
//! pg_partman extension (Debian: postgresql-15-partman) on the test server.

use audit_codegen::spec::{ActivityOptions, AuditSpec, Partition};
use audit_runtime::maintenance::{MaintenanceError, run_maintenance};
use audit_tests::{TestDb, TestRole, assert_denied, audit_spec, describe, install_audit};
use postgres::Client;

const SCHEMA: &str = "CREATE TABLE article (id bigint PRIMARY KEY, title text NOT NULL);";

fn one<T: postgres::types::FromSqlOwned>(client: &mut Client, sql: &str) -> T {
    client
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {}", describe(&e)))
        .get(0)
}

/// A database with `article` and pg_partman installed (in schema `partman`).
fn database(label: &str) -> TestDb {
    let db = TestDb::new(label);
    db.client()
        .batch_execute("CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman;")
        .unwrap_or_else(|e| {
            panic!(
                "these tests need pg_partman 4.x on the test server (Debian: apt-get install \
                 postgresql-15-partman, for the server's major version): {}",
                describe(&e)
            )
        });
    db.client().batch_execute(SCHEMA).unwrap();
    db
}

fn spec(db: &TestDb, retention: Option<&str>, keep_table: bool) -> AuditSpec {
    let mut spec = audit_spec(db, "text", &[("public", "article", &[], false)]);
    spec.activity = ActivityOptions {
        partition: Partition::Month,
        retention: retention.map(str::to_owned),
        retention_keep_table: keep_table,
    };
    spec
}

/// Runs the partitioning migration of `spec` in one transaction, as migration tools do.
fn partition(db: &TestDb, spec: &AuditSpec) -> Result<(), postgres::Error> {
    let sql = audit_codegen::sql::render_activity_partition(spec, true).unwrap();
    db.client()
        .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
}

/// The partition (or `-`) that holds each activity, by id.
fn homes(client: &mut Client) -> Vec<(i64, String)> {
    client
        .query(
            "SELECT id, tableoid::regclass::text FROM audit.activity ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// Every activity row as text, in id order: equal digests mean equal bytes.
fn digest(client: &mut Client, filter: &str) -> (i64, String) {
    let row = client
        .query_one(
            &format!(
                "SELECT count(*), md5(coalesce(string_agg(a::text, E'\\n' ORDER BY a.id), ''))
                   FROM audit.activity a {filter}"
            ),
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// The columns of `audit.activity` as the catalog describes them.
fn columns(client: &mut Client) -> Vec<String> {
    client
        .query(
            "SELECT format('%s %s notnull=%s identity=%s collation=%s', attname,
                           format_type(atttypid, atttypmod), attnotnull, attidentity,
                           attcollation::regcollation)
               FROM pg_attribute
              WHERE attrelid = 'audit.activity'::regclass AND attnum > 0 AND NOT attisdropped
              ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn a_fresh_install_has_partitions_ahead_a_default_and_the_same_columns() {
    let plain = database("partition_plain");
    install_audit(&plain, &spec(&plain, None, false));
    let db = database("partition_fresh");
    let spec = spec(&db, Some("13 months"), false);
    install_audit(&db, &spec);
    partition(&db, &spec).unwrap_or_else(|e| panic!("{}", describe(&e)));
    let mut client = db.client();

    assert!(
        one::<bool>(
            &mut client,
            "SELECT relkind = 'p' FROM pg_class WHERE oid = 'audit.activity'::regclass"
        ),
        "audit.activity is a partitioned table"
    );
    assert_eq!(columns(&mut client), columns(&mut plain.client()));
    // Partitions from this month to four months ahead, and the default.
    for months in 0..=4 {
        let exists: bool = one(
            &mut client,
            &format!(
                "SELECT table_exists FROM partman.show_partition_name('audit.activity',
                        (now() + interval '{months} months')::text)"
            ),
        );
        assert!(exists, "no partition {months} months ahead");
    }
    assert!(one::<bool>(
        &mut client,
        "SELECT to_regclass('audit.activity_default') IS NOT NULL"
    ));
    let config: String = one(
        &mut client,
        "SELECT format('%s %s %s %s %s', partition_interval, retention, retention_keep_table,
                       infinite_time_partitions, premake)
           FROM partman.part_config WHERE parent_table = 'audit.activity'",
    );
    assert_eq!(config, "1 mon 13 months f t 4");
    // A later change of retention only updates pg_partman's settings.
    let mut keep_all = spec.clone();
    keep_all.activity.retention = None;
    let sql = audit_codegen::sql::render_activity_partition(&keep_all, false).unwrap();
    client
        .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
        .unwrap();
    let retention: Option<String> = one(
        &mut client,
        "SELECT retention FROM partman.part_config WHERE parent_table = 'audit.activity'",
    );
    assert_eq!(retention, None);

    // Writes through the triggers land in this month's partition, linked to their
    // transaction also when the context is set after the change.
    client
        .batch_execute(
            "BEGIN;
             INSERT INTO article VALUES (1, 'one');
             SELECT audit.set_context('alice', NULL, NULL);
             UPDATE article SET title = 'uno' WHERE id = 1;
             COMMIT;
             INSERT INTO article VALUES (2, 'two');",
        )
        .unwrap();
    let month: String = one(
        &mut client,
        "SELECT 'audit.activity_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')",
    );
    let homes = homes(&mut client);
    assert_eq!(homes.len(), 3);
    assert!(homes.iter().all(|(_, home)| *home == month), "{homes:?}");
    let linked: i64 = one(
        &mut client,
        "SELECT count(*) FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id
          WHERE t.actor_id = 'alice'",
    );
    assert_eq!(linked, 2, "both changes of alice's transaction are linked");

    // The partitions are as private as the table.
    let app = TestRole::new(&db, "partition_app");
    let mut app_client = app.client();
    assert_denied(&mut app_client, "SELECT * FROM audit.activity_default");
    assert_denied(&mut app_client, &format!("SELECT * FROM {month}"));
    assert_denied(&mut app_client, "SELECT * FROM audit.activity");
}

#[test]
fn without_pg_partman_the_migration_names_the_package_and_the_extension() {
    let db = TestDb::with_sql("partition_no_partman", SCHEMA);
    let spec = spec(&db, None, false);
    install_audit(&db, &spec);
    let error = partition(&db, &spec).expect_err("pg_partman is missing");
    let message = describe(&error);
    let major: i32 = one::<String>(&mut db.client(), "SHOW server_version_num")
        .parse::<i32>()
        .unwrap()
        / 10000;
    assert!(
        message.contains(&format!("postgresql-{major}-partman"))
            && message.contains("CREATE EXTENSION pg_partman SCHEMA partman"),
        "{message}"
    );
    // Nothing changed.
    assert!(!one::<bool>(
        &mut db.client(),
        "SELECT EXISTS (SELECT FROM pg_partitioned_table WHERE partrelid = 'audit.activity'::regclass)"
    ));
    // Maintenance says the same.
    let error = run_maintenance(&mut db.client(), "audit").unwrap_err();
    assert!(matches!(error, MaintenanceError::NotInstalled), "{error}");
}

#[test]
fn writes_outside_the_partitions_land_in_the_default_and_maintenance_moves_them() {
    let db = database("partition_default");
    let spec = spec(&db, Some("13 months"), false);
    install_audit(&db, &spec);
    partition(&db, &spec).unwrap();
    let mut client = db.client();
    client
        .batch_execute(
            "INSERT INTO audit.activity (schema_name, table_name, relid, issued_at,
                                         native_transaction_id, verb, object_id, changed_data)
             VALUES ('public', 'article', 'article'::regclass, '2100-01-15 10:00:00+00',
                     pg_current_xact_id(), 'insert', '1', '{\"id\": 1}'),
                    ('public', 'article', 'article'::regclass, now() - interval '2 months',
                     pg_current_xact_id(), 'insert', '2', '{\"id\": 2}'),
                    ('public', 'article', 'article'::regclass, '2001-01-15 10:00:00+00',
                     pg_current_xact_id(), 'insert', '3', '{\"id\": 3}');",
        )
        .unwrap();
    let before = homes(&mut client);
    assert_eq!(before.len(), 3);
    assert!(
        before.iter().all(|(_, h)| h == "audit.activity_default"),
        "{before:?}"
    );
    let ids: Vec<i64> = before.iter().map(|(id, _)| *id).collect();

    let report = run_maintenance(&mut client, "audit").unwrap();
    assert_eq!(report.moved_from_default, 3);
    let recent: String = one(
        &mut client,
        "SELECT 'audit.activity_p' || to_char((now() - interval '2 months') AT TIME ZONE 'UTC', 'YYYY_MM')",
    );
    // The 2001 row is older than the retention: its partition was made, then dropped.
    assert_eq!(
        homes(&mut client),
        vec![
            (ids[0], "audit.activity_p2100_01".to_owned()),
            (ids[1], recent),
        ]
    );
    assert_eq!(
        one::<i64>(&mut client, "SELECT count(*) FROM audit.activity_default"),
        0
    );
    assert!(one::<bool>(
        &mut client,
        "SELECT to_regclass('audit.activity_p2001_01') IS NULL"
    ));
    // A second run has nothing to move.
    assert_eq!(
        run_maintenance(&mut client, "audit")
            .unwrap()
            .moved_from_default,
        0
    );
}

/// An unpartitioned installation with history: `article` audited by the generated
/// triggers, plus 2,400 activities spread over the last 20 months (every third one
/// without a transaction), each linked to a transaction issued at the same time.
fn populated(label: &str, spec_of: impl Fn(&TestDb) -> AuditSpec) -> (TestDb, AuditSpec) {
    let db = database(label);
    let spec = spec_of(&db);
    install_audit(&db, &spec);
    let mut client = db.client();
    client
        .batch_execute(
            "INSERT INTO audit.transaction (native_transaction_id, issued_at, client_addr, actor_id, context)
             SELECT pg_current_xact_id(), now() - i * interval '6 hours', '10.0.0.1', 'actor-' || i % 7,
                    jsonb_build_object('n', i)
               FROM generate_series(1, 2400) AS i;
             INSERT INTO audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id,
                                         verb, object_id, old_data, changed_data, transaction_id)
             SELECT 'public', 'article', 'article'::regclass, t.issued_at, t.native_transaction_id,
                    'update', to_jsonb(t.id), jsonb_build_object('id', t.id, 'title', 'old ' || t.id),
                    jsonb_build_object('title', 'ünïcode ' || t.id || repeat('x', t.id::int % 50)),
                    CASE WHEN t.id % 3 = 0 THEN NULL ELSE t.id END
               FROM audit.transaction t ORDER BY t.issued_at;
             BEGIN;
             SELECT audit.set_context('bob', '192.0.2.1', '{\"reason\": \"test\"}');
             INSERT INTO article VALUES (1, 'one'), (2, 'two');
             UPDATE article SET title = 'deux' WHERE id = 2;
             DELETE FROM article WHERE id = 1;
             COMMIT;",
        )
        .unwrap();
    (db, spec)
}

#[test]
fn converting_a_populated_installation_keeps_every_row_byte_for_byte() {
    let (db, spec) = populated("partition_convert", |db| spec(db, None, false));
    let mut client = db.client();
    let before = digest(&mut client, "");
    assert_eq!(before.0, 2404);
    let transactions_before: String = one(
        &mut client,
        "SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM audit.transaction t",
    );
    let max_id: i64 = one(&mut client, "SELECT max(id) FROM audit.activity");

    partition(&db, &spec).unwrap_or_else(|e| panic!("{}", describe(&e)));
    assert_eq!(digest(&mut client, ""), before);
    assert_eq!(
        one::<String>(
            &mut client,
            "SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM audit.transaction t"
        ),
        transactions_before
    );
    // Partitions from the month of the oldest activity on, nothing in the default.
    let partitions: i64 = one(
        &mut client,
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit.activity'::regclass",
    );
    assert!(partitions >= 21 + 4, "{partitions} partitions");
    assert_eq!(
        one::<i64>(&mut client, "SELECT count(*) FROM audit.activity_default"),
        0
    );
    // New activities get new ids, after every old one, and are linked as before.
    client
        .batch_execute(
            "BEGIN;
             UPDATE article SET title = 'two' WHERE id = 2;
             SELECT audit.set_context('carol', NULL, NULL);
             COMMIT;",
        )
        .unwrap();
    let (id, actor): (i64, String) = {
        let row = client
            .query_one(
                "SELECT a.id, t.actor_id FROM audit.activity a
                   JOIN audit.transaction t ON t.id = a.transaction_id
                  ORDER BY a.id DESC LIMIT 1",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!(id > max_id, "{id} > {max_id}");
    assert_eq!(actor, "carol");
    // Running the migration again changes nothing.
    let after = digest(&mut client, "");
    partition(&db, &spec).unwrap();
    assert_eq!(digest(&mut client, ""), after);
}

#[test]
fn retention_drops_old_partitions_and_keeps_every_link_in_the_kept_range() {
    let (db, spec) = populated("partition_retention", |db| {
        spec(db, Some("13 months"), false)
    });
    let mut client = db.client();
    let kept = "WHERE a.issued_at >= now() - interval '13 months'";
    let kept_before = digest(&mut client, kept);
    partition(&db, &spec).unwrap();
    run_maintenance(&mut client, "audit").unwrap();

    assert_eq!(digest(&mut client, kept), kept_before);
    let oldest_kept: bool = one(
        &mut client,
        "SELECT min(issued_at) >= date_trunc('month', now() - interval '13 months') FROM audit.activity",
    );
    assert!(
        oldest_kept,
        "partitions older than the retention are dropped"
    );
    let lost: i64 = one(
        &mut client,
        "SELECT count(*) FROM audit.activity a
          WHERE a.transaction_id IS NOT NULL
            AND NOT EXISTS (SELECT FROM audit.transaction t WHERE t.id = a.transaction_id)",
    );
    assert_eq!(lost, 0, "no activity lost its transaction");
    let dropped: i64 = one(
        &mut client,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'audit' AND c.relname ~ '^activity_p\\d'
            AND to_date(substr(c.relname, 11), 'YYYY_MM') < date_trunc('month', now() - interval '14 months')",
    );
    assert_eq!(dropped, 0, "no table is left of the dropped partitions");
}

#[test]
fn retention_with_keep_table_detaches_old_partitions() {
    let (db, spec) = populated("partition_detach", |db| spec(db, Some("13 months"), true));
    let mut client = db.client();
    let old_rows: i64 = one(
        &mut client,
        "SELECT count(*) FROM audit.activity
          WHERE issued_at < date_trunc('month', now() - interval '14 months')",
    );
    assert!(old_rows > 0);
    partition(&db, &spec).unwrap();
    run_maintenance(&mut client, "audit").unwrap();
    // The expired rows are out of activity, in tables of their own.
    let (detached, rows): (i64, i64) = {
        let tables: Vec<String> = client
            .query(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'audit' AND c.relname ~ '^activity_p\\d'
                    AND c.relkind = 'r' AND NOT c.relispartition",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut rows = 0;
        for table in &tables {
            rows += one::<i64>(&mut client, &format!("SELECT count(*) FROM {table}"));
        }
        (tables.len() as i64, rows)
    };
    assert!(detached >= 6, "{detached} detached partitions");
    let remaining_old: i64 = one(
        &mut client,
        "SELECT count(*) FROM audit.activity
          WHERE issued_at < date_trunc('month', now() - interval '14 months')",
    );
    assert_eq!(remaining_old, 0);
    assert!(
        rows >= old_rows,
        "{rows} rows in detached tables, {old_rows} expired"
    );
    let app = TestRole::new(&db, "partition_detach_app");
    let oldest: String = one(
        &mut client,
        "SELECT format('audit.%I', min(c.relname)) FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'audit' AND c.relname ~ '^activity_p\\d' AND NOT c.relispartition",
    );
    assert_denied(&mut app.client(), &format!("SELECT * FROM {oldest}"));
}

#[test]
fn partitioning_sql_snapshots() {
    let mut spec = AuditSpec::new(audit_codegen::model::Schema::default());
    spec.activity = ActivityOptions {
        partition: Partition::Week,
        retention: Some("2 years".into()),
        retention_keep_table: true,
    };
    let convert = audit_codegen::sql::render_activity_partition(&spec, true).unwrap();
    assert_eq!(
        convert,
        audit_codegen::sql::render_activity_partition(&spec, true).unwrap()
    );
    insta::assert_snapshot!("activity_partition", convert);
    spec.activity.retention = None;
    spec.activity.retention_keep_table = false;
    insta::assert_snapshot!(
        "activity_retention",
        audit_codegen::sql::render_activity_partition(&spec, false).unwrap()
    );
    spec.activity.partition = Partition::None;
    let error = audit_codegen::sql::render_activity_partition(&spec, true).unwrap_err();
    assert!(error.to_string().contains("not partitioned"), "{error}");
}
