//! Transactions and actors: one `transaction` row per audited transaction with a context,
//! linked from all of its activities, and nothing left behind by rolled-back work.

use audit_tests::{TestDb, audit_spec, install_audit};
use postgres::Client;
use serde_json::{Value, json};
use std::net::IpAddr;

fn article_db(label: &str, actor_type: &str) -> TestDb {
    let db = TestDb::with_sql(
        label,
        "CREATE TABLE article (id serial PRIMARY KEY, name text);",
    );
    install_audit(
        &db,
        &audit_spec(&db, actor_type, &[("public", "article", &[], false)]),
    );
    db
}

fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Activities whose transaction_id names no transaction row.
const DANGLING: &str = "SELECT count(*) FROM audit.activity a
    WHERE a.transaction_id IS NOT NULL
      AND NOT EXISTS (SELECT FROM audit.transaction t WHERE t.id = a.transaction_id)";

#[test]
fn set_context_takes_bind_parameters_and_links_every_statement_to_one_row() {
    let db = article_db("context_binds", "text");
    let mut c = db.client();
    let mut tx = c.transaction().unwrap();
    let addr: IpAddr = "10.1.2.3".parse().unwrap();
    tx.execute(
        "SELECT audit.set_context($1, $2, $3)",
        &[&"alice", &addr, &json!({"reason": "import"})],
    )
    .unwrap();
    tx.batch_execute(
        "INSERT INTO article (name) VALUES ('a');
         UPDATE article SET name = 'b';
         DELETE FROM article;",
    )
    .unwrap();
    tx.commit().unwrap();
    let row = c
        .query_one(
            "SELECT actor_id, client_addr, context, native_transaction_id::text::bigint > 0
               FROM audit.transaction",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "alice");
    assert_eq!(row.get::<_, IpAddr>(1), addr);
    assert_eq!(row.get::<_, Value>(2), json!({"reason": "import"}));
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity a JOIN audit.transaction t
                 ON t.id = a.transaction_id AND t.native_transaction_id = a.native_transaction_id"
        ),
        3
    );
    // The context was transaction-local: the next transaction has none.
    c.batch_execute("INSERT INTO article (name) VALUES ('c')")
        .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity WHERE transaction_id IS NULL"
        ),
        1
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.transaction"), 1);
}

#[test]
fn context_set_after_the_changes_still_covers_them() {
    let db = article_db("context_late", "bigint");
    let mut c = db.client();
    c.batch_execute(
        "BEGIN;
         INSERT INTO article (name) VALUES ('a'), ('b');
         UPDATE article SET name = 'c' WHERE name = 'a';
         SELECT audit.set_context(7, NULL, NULL);
         DELETE FROM article WHERE name = 'b';
         SELECT audit.set_context(8, '127.0.0.1', '{\"n\": 2}');
         COMMIT;",
    )
    .unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.transaction"), 1);
    let row = c
        .query_one(
            "SELECT actor_id, host(client_addr), context FROM audit.transaction",
            &[],
        )
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        8,
        "the second call updates the context"
    );
    assert_eq!(row.get::<_, String>(1), "127.0.0.1");
    assert_eq!(row.get::<_, Value>(2), json!({"n": 2}));
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id"
        ),
        4
    );
}

#[test]
fn rolled_back_work_leaves_no_activity_and_no_transaction_row() {
    let db = article_db("rollbacks", "text");
    let mut c = db.client();
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('a', NULL, NULL);
         INSERT INTO article (name) VALUES ('gone');
         ROLLBACK;",
    )
    .unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 0);
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.transaction"), 0);

    // The first audited change (and so the transaction row) inside a rolled-back
    // savepoint: later changes create the row again, once.
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('b', NULL, NULL);
         SAVEPOINT s;
         INSERT INTO article (name) VALUES ('gone');
         ROLLBACK TO SAVEPOINT s;
         INSERT INTO article (name) VALUES ('kept 1');
         SAVEPOINT t;
         INSERT INTO article (name) VALUES ('gone');
         ROLLBACK TO SAVEPOINT t;
         INSERT INTO article (name) VALUES ('kept 2');
         COMMIT;",
    )
    .unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.transaction"), 1);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity a JOIN audit.transaction t
                 ON t.id = a.transaction_id AND t.actor_id = 'b'"
        ),
        2
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 2);

    // Only changes inside a rolled-back savepoint: no activity, no transaction row.
    c.batch_execute(
        "BEGIN;
         SAVEPOINT s;
         SELECT audit.set_context('c', NULL, NULL);
         INSERT INTO article (name) VALUES ('gone');
         ROLLBACK TO SAVEPOINT s;
         COMMIT;",
    )
    .unwrap();
    // A context set (and its row created) inside a rolled-back savepoint, after a kept
    // change: the change stays, without a transaction row to point at.
    c.batch_execute(
        "BEGIN;
         INSERT INTO article (name) VALUES ('kept 3');
         SAVEPOINT s;
         SELECT audit.set_context('d', NULL, NULL);
         ROLLBACK TO SAVEPOINT s;
         COMMIT;",
    )
    .unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.transaction"), 1);
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 3);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity WHERE transaction_id IS NULL"
        ),
        1
    );
    assert_eq!(count(&mut c, DANGLING), 0);
}

#[test]
fn transactions_without_audited_changes_leave_no_transaction_row() {
    let db = article_db("read_only", "text");
    let mut c = db.client();
    // Separate calls: in one multi-statement batch the INSERT would join the BEGIN's
    // transaction.
    c.batch_execute("INSERT INTO article (name) VALUES ('a')")
        .unwrap();
    c.batch_execute(
        "BEGIN READ ONLY;
         SELECT audit.set_context('reader', NULL, NULL);
         SELECT * FROM article;
         COMMIT;
         BEGIN;
         SELECT audit.set_context('no-op', NULL, NULL);
         UPDATE article SET name = name;
         UPDATE article SET name = 'x' WHERE false;
         COMMIT;
         CREATE TABLE other (i int);
         BEGIN;
         INSERT INTO other VALUES (1);
         SELECT audit.set_context('other table', NULL, NULL);
         COMMIT;",
    )
    .unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.transaction"), 0);
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 1);
}

#[test]
fn concurrent_transactions_are_never_misattributed() {
    let db = article_db("concurrent", "text");
    let url = db.url().to_owned();
    let threads: Vec<_> = (0..16)
        .map(|thread| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = audit_tests::connect(&url);
                for i in 0..200 {
                    let actor = format!("actor-{thread}-{i}");
                    let mut tx = c.transaction().unwrap();
                    // Half set the context first, half after their first change.
                    if i % 2 == 0 {
                        tx.execute("SELECT audit.set_context($1, NULL, NULL)", &[&actor])
                            .unwrap();
                    }
                    let id: i32 = tx
                        .query_one(
                            "INSERT INTO article (name) VALUES ($1) RETURNING id",
                            &[&actor],
                        )
                        .unwrap()
                        .get(0);
                    if i % 2 == 1 {
                        tx.execute("SELECT audit.set_context($1, NULL, NULL)", &[&actor])
                            .unwrap();
                    }
                    tx.execute(
                        "UPDATE article SET name = name || ' (updated)' WHERE id = $1",
                        &[&id],
                    )
                    .unwrap();
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut c = db.client();
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM audit.transaction"),
        3200
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 6400);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity a
               JOIN audit.transaction t ON t.id = a.transaction_id
              WHERE t.actor_id = split_part(COALESCE(a.changed_data->>'name', ''), ' ', 1)
                 OR (a.verb = 'update' AND t.actor_id = a.old_data->>'name')"
        ),
        6400,
        "every activity points at its own actor's transaction row"
    );
    assert_eq!(count(&mut c, DANGLING), 0);
}

#[test]
fn repeated_xid8_values_after_a_restore_are_never_reused() {
    let db = article_db("restore_xids", "text");
    let mut c = db.client();
    // What a dump restored into a new cluster looks like: committed history whose
    // native_transaction_id values lie ahead of this cluster's transaction ids.
    c.batch_execute(
        "INSERT INTO audit.transaction (native_transaction_id, issued_at, actor_id)
         SELECT (pg_current_xact_id()::text::bigint + i)::text::xid8, now() - interval '1 year', 'restored'
           FROM generate_series(1, 2000) i;
         INSERT INTO audit.activity (schema_name, table_name, relid, issued_at, native_transaction_id, verb)
         SELECT 'public', 'article', 'article'::regclass, now(), native_transaction_id, 'insert'
           FROM audit.transaction;",
    )
    .unwrap();
    for i in 0..5 {
        c.batch_execute(&format!(
            "BEGIN;
             SELECT audit.set_context('early {i}', NULL, NULL);
             INSERT INTO article (name) VALUES ('early {i}');
             COMMIT;
             BEGIN;
             INSERT INTO article (name) VALUES ('late {i}');
             SELECT audit.set_context('late {i}', NULL, NULL);
             COMMIT;"
        ))
        .unwrap();
    }
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.transaction WHERE actor_id = 'restored'"
        ),
        2000
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id
              WHERE t.actor_id = a.changed_data->>'name'"
        ),
        10
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.activity WHERE transaction_id IS NOT NULL"
        ),
        10
    );
}

#[test]
fn a_forged_transaction_row_setting_never_links_another_transactions_row() {
    let db = article_db("forged_transaction_row", "text");
    let mut c = db.client();
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('other', NULL, NULL);
         INSERT INTO article (name) VALUES ('theirs');
         COMMIT;",
    )
    .unwrap();
    // Claiming that this transaction created its row already: the lookup finds none,
    // and the row is created once.
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('me', NULL, NULL);
         SELECT pg_catalog.set_config('audit.transaction_row', pg_catalog.pg_current_xact_id()::text, true);
         INSERT INTO article (name) VALUES ('mine 1');
         INSERT INTO article (name) VALUES ('mine 2');
         COMMIT;",
    )
    .unwrap();
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM audit.transaction WHERE actor_id = 'me'"
        ),
        1
    );
    // Claiming that it did not: at worst a second row of the same transaction and
    // context, never another transaction's row.
    c.batch_execute(
        "BEGIN;
         SELECT audit.set_context('again', NULL, NULL);
         INSERT INTO article (name) VALUES ('again 1');
         SELECT pg_catalog.set_config('audit.transaction_row', '', true);
         INSERT INTO article (name) VALUES ('again 2');
         SELECT pg_catalog.set_config('audit.transaction_row', '1', true);
         INSERT INTO article (name) VALUES ('again 3');
         COMMIT;",
    )
    .unwrap();
    let actors: Vec<(String, String)> = c
        .query(
            "SELECT a.changed_data ->> 'name', t.actor_id
               FROM audit.activity a
               JOIN audit.transaction t ON t.id = a.transaction_id
                AND t.native_transaction_id = a.native_transaction_id
              ORDER BY a.id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected = [
        ("theirs", "other"),
        ("mine 1", "me"),
        ("mine 2", "me"),
        ("again 1", "again"),
        ("again 2", "again"),
        ("again 3", "again"),
    ];
    assert_eq!(
        actors,
        expected
            .iter()
            .map(|(n, a)| (n.to_string(), a.to_string()))
            .collect::<Vec<_>>()
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM audit.activity"), 6);
    assert_eq!(count(&mut c, DANGLING), 0);
}
