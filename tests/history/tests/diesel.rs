//! diesel: a context applied to a `PgConnection` in one statement inside a diesel
//! transaction, and every history query run on that connection, compared with the
//! `postgres` driver's answers to the same questions.

mod common;

use audit_history_check::{ArticleChange, ArticleKey, Change, TagLinkChange, TagLinkKey};
use audit_runtime::query::{self, DieselQueryError, TimeRange};
use audit_runtime::{Activity, AuditContext, DecodeError, Verb};
use chrono::{Duration, Utc};
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::{Connection, PgConnection, RunQueryDsl};
use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn connect(db: &audit_tests::TestDb) -> PgConnection {
    PgConnection::establish(db.url())
        .unwrap_or_else(|e| panic!("diesel cannot connect to {}: {e}", db.url()))
}

/// A range around now, wide enough for the test's transactions.
fn around_now() -> TimeRange {
    let now = Utc::now();
    TimeRange::new(now - Duration::hours(1), now + Duration::hours(1))
}

/// Runs each statement of `sql` with diesel.
fn execute_all(conn: &mut PgConnection, sql: &str) -> diesel::QueryResult<()> {
    for statement in sql.split(';').filter(|s| !s.trim().is_empty()) {
        diesel::sql_query(statement).execute(conn)?;
    }
    Ok(())
}

/// What diesel reports about the statements of a connection.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// The text of every statement started.
    queries: Vec<String>,
    /// Statements diesel prepared for its cache (a prepare is a round trip of its own).
    cached: usize,
}

/// An instrumentation that records into `seen`.
fn recorder(seen: Arc<Mutex<Seen>>) -> impl Instrumentation {
    move |event: InstrumentationEvent<'_>| {
        let mut seen = seen.lock().unwrap();
        match event {
            InstrumentationEvent::StartQuery { query, .. } => seen.queries.push(query.to_string()),
            InstrumentationEvent::CacheQuery { .. } => seen.cached += 1,
            _ => {}
        }
    }
}

/// The debug text of both drivers' answers must be the same (entries hold raw JSON and
/// generated types, compared through `Debug`, which prints every field).
fn same<T: Debug>(diesel: &T, postgres: &T, what: &str) {
    assert_eq!(
        format!("{diesel:#?}"),
        format!("{postgres:#?}"),
        "{what}: diesel and postgres differ"
    );
}

const WRITE: &str = "INSERT INTO article (id, title) VALUES (1, 'Draft');
                     UPDATE article SET title = 'Final' WHERE id = 1;
                     INSERT INTO tag_link VALUES (1, 'rust', 3)";

#[test]
fn diesel_applies_the_context_in_one_statement_inside_its_transaction() {
    let db = common::database("history_diesel_apply");
    let mut conn = connect(&db);
    let context = AuditContext::new()
        .actor_id("frank")
        .client_addr(addr("203.0.113.9"))
        .value("reason", "test")
        .value("request", 17);
    let seen = Arc::new(Mutex::new(Seen::default()));
    conn.transaction(|conn| {
        conn.set_instrumentation(recorder(seen.clone()));
        context.apply_diesel(conn)?;
        conn.set_instrumentation(diesel::connection::get_default_instrumentation());
        execute_all(conn, WRITE)
    })
    .unwrap();

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.queries.len(), 1, "one statement: {seen:#?}");
    assert!(
        seen.queries[0].contains("\"audit\".set_context($1::pg_catalog.text"),
        "{seen:#?}"
    );
    assert_eq!(seen.cached, 0, "no separate prepare: {seen:#?}");

    let mut client = db.client();
    let rows = client
        .query(
            "SELECT actor_id, host(client_addr), context,
                    (SELECT count(*) FROM audit.activity a WHERE a.transaction_id = t.id)
               FROM audit.transaction t",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1, "one transaction row");
    let row = &rows[0];
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("frank"));
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(
        row.get::<_, Option<serde_json::Value>>(2),
        Some(serde_json::json!({"reason": "test", "request": 17}))
    );
    assert_eq!(row.get::<_, i64>(3), 3, "every activity points to it");
}

#[test]
fn transaction_diesel_commits_on_ok_and_leaves_nothing_on_err() {
    let db = common::database("history_diesel_scoped");
    let mut conn = connect(&db);
    let failed: Result<(), diesel::result::Error> = AuditContext::new()
        .actor_id("grace")
        .transaction_diesel(&mut conn, |conn| {
            execute_all(conn, WRITE)?;
            Err(diesel::result::Error::RollbackTransaction)
        });
    assert!(matches!(
        failed,
        Err(diesel::result::Error::RollbackTransaction)
    ));
    AuditContext::new()
        .actor_id("grace")
        .client_addr(addr("2001:db8::7"))
        .transaction_diesel(&mut conn, |conn| execute_all(conn, WRITE))
        .unwrap();

    let mut client = db.client();
    let transactions: i64 = client
        .query_one("SELECT count(*) FROM audit.transaction", &[])
        .unwrap()
        .get(0);
    assert_eq!(transactions, 1, "the rolled-back transaction left no row");
    let history = query::history_diesel::<ArticleChange>(&mut conn, &ArticleKey { id: 1 }).unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|e| e.actor_id() == Some("grace")));
    assert!(
        history
            .iter()
            .all(|e| e.client_addr() == Some(addr("2001:db8::7")))
    );
    assert_eq!(history[0].context(), None);
}

#[test]
fn diesel_history_queries_answer_as_the_postgres_driver_does() {
    let db = common::database("history_diesel_queries");
    let mut conn = connect(&db);
    AuditContext::new()
        .actor_id("heidi")
        .client_addr(addr("198.51.100.23"))
        .value("reason", "test")
        .transaction_diesel(&mut conn, |conn| execute_all(conn, WRITE))
        .unwrap();
    // Without context, then under another actor; then a key change and a reinserted key,
    // so that the history walks back through more than one statement.
    execute_all(&mut conn, "UPDATE article SET body = 'text' WHERE id = 1").unwrap();
    AuditContext::new()
        .actor_id("ivan")
        .transaction_diesel(&mut conn, |conn| {
            execute_all(
                conn,
                "UPDATE article SET price = 12.50, published_at = '2026-05-01T10:00:00Z' WHERE id = 1;
                 INSERT INTO article (id, title) VALUES (2, 'two');
                 DELETE FROM article WHERE id = 2;
                 UPDATE article SET id = 2 WHERE id = 1;
                 UPDATE tag_link SET tag = 'diesel';
                 UPDATE tag_link SET article_id = 2",
            )
        })
        .unwrap();
    let mut client = db.client();

    // The whole history of a record, one-column and composite keys.
    let key = ArticleKey { id: 2 };
    let by_diesel = query::history_diesel::<ArticleChange>(&mut conn, &key).unwrap();
    let by_postgres = query::history::<ArticleChange>(&mut client, &key).unwrap();
    same(&by_diesel, &by_postgres, "history of article 2");
    assert_eq!(
        by_diesel.iter().map(|e| e.verb).collect::<Vec<_>>(),
        [
            Verb::Insert,
            Verb::Update,
            Verb::Update,
            Verb::Update,
            Verb::Update
        ],
        "the deleted article 2 is not part of this record's history"
    );
    assert_eq!(by_diesel[0].actor_id(), Some("heidi"));
    assert_eq!(by_diesel[0].client_addr(), Some(addr("198.51.100.23")));
    assert_eq!(
        by_diesel[0].context(),
        Some(&serde_json::json!({"reason": "test"}))
    );
    assert_eq!(by_diesel[2].transaction, None, "the change without context");
    assert_eq!(by_diesel[3].actor_id(), Some("ivan"));
    let link = TagLinkKey {
        article_id: 2,
        tag: "diesel".into(),
    };
    let links = query::history_diesel::<TagLinkChange>(&mut conn, &link).unwrap();
    same(
        &links,
        &query::history::<TagLinkChange>(&mut client, &link).unwrap(),
        "history of a tag link",
    );
    assert_eq!(links.len(), 3);

    // Who changed the record on a day.
    let today = TimeRange::utc_day(Utc::now().date_naive());
    let who = query::changed_in_diesel::<ArticleChange>(&mut conn, &key, today).unwrap();
    same(
        &who,
        &query::changed_in::<ArticleChange>(&mut client, &key, today).unwrap(),
        "changed_in today",
    );
    assert_eq!(
        who.len(),
        3,
        "the key change, the update after it, the delete"
    );
    let yesterday = TimeRange::utc_day(Utc::now().date_naive() - chrono::Days::new(1));
    assert!(
        query::changed_in_diesel::<ArticleChange>(&mut conn, &key, yesterday)
            .unwrap()
            .is_empty()
    );

    // What an actor did.
    for actor in ["heidi", "ivan", "nobody"] {
        let did = query::actor_activity_diesel::<Change>(&mut conn, actor, around_now()).unwrap();
        same(
            &did,
            &query::actor_activity::<Change>(&mut client, actor, around_now()).unwrap(),
            actor,
        );
    }
    let by_heidi =
        query::actor_activity_diesel::<Change>(&mut conn, "heidi", around_now()).unwrap();
    assert_eq!(by_heidi.len(), 3);
    assert!(matches!(
        by_heidi[2].change,
        Change::TagLink(TagLinkChange::Insert { .. })
    ));

    // The record as of a point in time.
    let first_update = by_diesel[1].issued_at;
    for at in [first_update, Utc::now(), first_update - Duration::days(1)] {
        same(
            &query::as_of_diesel::<ArticleChange>(&mut conn, &key, at).unwrap(),
            &query::as_of::<ArticleChange>(&mut client, &key, at).unwrap(),
            "as_of",
        );
    }
    let now = query::as_of_diesel::<ArticleChange>(&mut conn, &key, Utc::now())
        .unwrap()
        .expect("article 2 exists");
    assert_eq!((now.id, now.title.as_str()), (2, "Final"));

    // The queries run on the connection's open transaction too.
    conn.transaction(|conn| {
        let inside = query::history_diesel::<ArticleChange>(conn, &key).unwrap();
        same(&inside, &by_diesel, "history inside a transaction");
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
}

#[test]
fn diesel_reads_activity_rows_as_the_postgres_driver_does() {
    let db = common::database("history_diesel_activity");
    let mut conn = connect(&db);
    AuditContext::new()
        .actor_id("judy")
        .transaction_diesel(&mut conn, |conn| execute_all(conn, WRITE))
        .unwrap();
    let sql = "SELECT * FROM audit.activity ORDER BY id";
    let by_diesel: Vec<Activity> = diesel::sql_query(sql).load(&mut conn).unwrap();
    let by_postgres: Vec<Activity> = db
        .client()
        .query(sql, &[])
        .unwrap()
        .iter()
        .map(|row| Activity::from_row(row).unwrap())
        .collect();
    same(&by_diesel, &by_postgres, "activity rows");
    assert_eq!(by_diesel.len(), 3);
    let change = Change::try_from(&by_diesel[1]).unwrap();
    assert!(matches!(
        change,
        Change::Article(ArticleChange::Update { .. })
    ));
}

#[test]
fn diesel_reports_undecodable_history_as_the_postgres_driver_does() {
    let db = common::database("history_diesel_decode_error");
    let mut conn = connect(&db);
    // A row no trigger would write: the title of a text column recorded as a number.
    execute_all(
        &mut conn,
        "INSERT INTO audit.activity (schema_name, table_name, relid, issued_at,
                                     native_transaction_id, verb, object_id, changed_data)
         VALUES ('public', 'article', 'article'::regclass, now(), pg_current_xact_id(),
                 'insert', '5',
                 '{\"id\": 5, \"title\": 42, \"body\": null, \"rating\": null,
                   \"price\": null, \"published_at\": null}')",
    )
    .unwrap();
    let key = ArticleKey { id: 5 };
    let by_diesel = query::history_diesel::<ArticleChange>(&mut conn, &key).unwrap_err();
    let by_postgres = query::history::<ArticleChange>(&mut db.client(), &key).unwrap_err();
    let DieselQueryError::Decode(error) = &by_diesel else {
        panic!("expected a decode error, got {by_diesel:?}");
    };
    assert!(
        matches!(
            error,
            DecodeError::InvalidValue {
                column: "title",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(by_diesel.to_string(), by_postgres.to_string());
}
