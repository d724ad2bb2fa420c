//! The generated audit SQL against the real PostgreSQL: row semantics, multi-row
//! statements, key changes, transactions and context, security.

use audit_tests::{TestDb, audit_spec, describe, install_audit};
use postgres::Client;
use serde_json::{Value, json};

/// The activity rows, oldest first: (verb, object_id, old_data, changed_data).
fn activities(client: &mut Client) -> Vec<(String, Option<Value>, Option<Value>, Option<Value>)> {
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
    let _ = describe;
}
